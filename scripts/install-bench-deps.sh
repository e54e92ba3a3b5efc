#!/usr/bin/env bash
# Installs what bench/syscall_bench.py compares probe against, on Debian 12:
# bpftrace (required) and libbpf-tools (syscount; optional, installed when the
# archive has it). A no-op (no apt-get call at all) when both are present.
# The build dependencies come from scripts/install-deps.sh.
set -euo pipefail

installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q "install ok installed"; }

missing=()
installed bpftrace || missing+=(bpftrace)
installed libbpf-tools || missing+=(libbpf-tools)
[ "${#missing[@]}" -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
  echo "install-bench-deps: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-bench-deps: installing ${missing[*]}" >&2
apt-get update -qq
for p in "${missing[@]}"; do
  if [ "$p" = libbpf-tools ] && ! apt-cache show libbpf-tools >/dev/null 2>&1; then
    echo "install-bench-deps: libbpf-tools is not in the archive; syscount will be skipped" >&2
    continue
  fi
  apt-get install -y -qq --no-install-recommends "$p" >/dev/null
done
