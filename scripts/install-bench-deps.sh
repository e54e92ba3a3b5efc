#!/usr/bin/env bash
# Installs what bench/syscall_bench.py compares probe against, on Debian 12:
# bpftrace. libbpf-tools (syscount, runqlat) is not in Debian 12's archive:
# the bench builds them from the sources vendored in bench/peers. A no-op (no
# apt-get call at all) when bpftrace is present. The build dependencies come
# from scripts/install-deps.sh.
set -euo pipefail

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
installed bpftrace || missing+=(bpftrace)
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-bench-deps: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-bench-deps: installing ${missing[*]}" >&2
apt-get update -qq
for p in "${missing[@]}"; do
  apt-get install -y -qq --no-install-recommends "$p" >/dev/null
done
