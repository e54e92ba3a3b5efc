#!/usr/bin/env bash
# Installs the Debian 12 packages one need takes:
#   install-deps.sh build   the binaries only (make build / make install / make deb)
#   install-deps.sh demo    build + what make demo runs (python3-protobuf)
#   install-deps.sh test    everything make test needs (GoogleTest, Chromium, ...)
#   install-deps.sh         the same as test
# (benchmark peers: scripts/install-bench-deps.sh). A no-op (no apt-get call
# at all) when everything is already present, so the make targets can call
# it unconditionally.
set -euo pipefail

# What building probe-agent, probe-report, the shim, the man pages and the
# package needs; a subset of PACKAGES.
BUILD_PACKAGES=(
  clang llvm make cmake pkg-config
  libbpf-dev bpftool libelf-dev zlib1g-dev
  protobuf-compiler libprotobuf-dev libfmt-dev
  python3
  libcurl4-openssl-dev  # probe-report --clickhouse: the HTTP interface through libcurl
)
DEMO_PACKAGES=(python3-protobuf procps)

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
  python3-pandas python3-venv python3-pip python3-setuptools   # tests/install_test.py python: frames(), pip install ./python
  # probe-report --clickhouse: libcurl to build; the tests start their own
  # clickhouse-server (18.16 on Debian 12) on free 127.0.0.1 ports with a
  # temporary data dir and generated config, and stop it.
  libcurl4-openssl-dev clickhouse-server
  systemd   # systemd-analyze verify of packaging/probe-agent.service (tests/service_unit_test.py)
)

case "${1:-test}" in
  build) PACKAGES=("${BUILD_PACKAGES[@]}") ;;
  demo) PACKAGES=("${BUILD_PACKAGES[@]}" "${DEMO_PACKAGES[@]}") ;;
  test | all) ;;
  *) echo "usage: install-deps.sh [build|demo|test]" >&2; exit 2 ;;
esac

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
