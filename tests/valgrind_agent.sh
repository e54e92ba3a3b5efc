#!/usr/bin/env bash
# The agent under valgrind for a short traced run (make test-valgrind; as root,
# not part of ctest): fails (exit 3) on a definite leak or any other memcheck
# error not in tests/valgrind_agent.supp (valgrind's bpf() checks, which
# libbpf's partly sized bpf_attr trips; see there).
# usage: tests/valgrind_agent.sh [BUILD_DIR]
set -u
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build}
command -v valgrind >/dev/null || { echo "valgrind not installed (apt-get install valgrind)"; exit 77; }
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT
valgrind --leak-check=full --errors-for-leak-kinds=definite --error-exitcode=3 \
  --suppressions="$here/valgrind_agent.supp" --log-file="$out/valgrind.log" \
  "$build/agent/probe-agent" -o "$out/run.ptrace" -- "$build/tests/eventfd_pingpong" select 1 5 \
  > "$out/stdout.log"
rc=$?
sed -n '/HEAP SUMMARY/,$p' "$out/valgrind.log"
if [ "$rc" -ne 0 ]; then
  cat "$out/valgrind.log" "$out/stdout.log"
  echo "test-valgrind: FAILED (exit $rc)"
  exit "$rc"
fi
echo "test-valgrind: passed (no definite leak, no memcheck error)"
