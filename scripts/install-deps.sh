#!/usr/bin/env bash
# Installs every build, test and benchmark dependency on Debian 12.
# A no-op (no apt-get call at all) when everything is already present, so
# `make demo` / `make test` can call it unconditionally.
set -euo pipefail

PACKAGES=(
  clang llvm libclang-rt-14-dev make cmake pkg-config
  libbpf-dev bpftool libelf-dev zlib1g-dev
  protobuf-compiler libprotobuf-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  python3 python3-protobuf procps
  chromium   # tests/html_report_test.py renders probe-report --html headless (~20 s to install)
  libfmt-dev nlohmann-json3-dev  # probe-report's HTML formatting; the tests' JSON parser
  # tests/real_programs_integrationtest.cc traces these real programs. The
  # tests start their own redis-server on a free 127.0.0.1 port (no
  # persistence) and stop it; the Debian service, if it runs, is left alone.
  nodejs redis-server redis-tools
  util-linux # unshare: PreloadHostsTest.PidNamespaceRegionsAreAccepted (Essential, listed to be sure)
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: missing packages: ${missing[*]}; run as root (or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi

echo "install-deps: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
