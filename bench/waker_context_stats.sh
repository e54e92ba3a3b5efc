#!/bin/bash
# Per-program cost of the agent's scheduler and waker-context programs while
# it traces bench/pingpong over pipes: kernel.bpf_stats_enabled=1, two
# `bpftool prog show` 2 s apart, runs/s and ns per run for each program.
# Usage: bench/waker_context_stats.sh BUILD_DIR [agent options, e.g. --no-waker-context]
set -euo pipefail
build=$(realpath "$1"); shift
tmp=$(mktemp -d)
trap 'sysctl -qw kernel.bpf_stats_enabled=0; rm -rf "$tmp"' EXIT
sysctl -qw kernel.bpf_stats_enabled=1
"$build/agent/probe-agent" -f "$@" -o "$tmp/run.ptrace" -- /bin/sh -c \
  "$build/bench/pingpong --pipe >/dev/null; $build/bench/pingpong --pipe >/dev/null" 2>/dev/null &
agent=$!
sleep 1.5
# Only this agent's programs (other agents may run on the machine).
for f in /proc/$agent/fdinfo/*; do grep -h '^prog_id' "$f" 2>/dev/null || true; done | awk '{print $2}' > "$tmp/ids"
bpftool -j prog show > "$tmp/a.json"; t1=$(date +%s%N)
sleep 2
bpftool -j prog show > "$tmp/b.json"; t2=$(date +%s%N)
wait $agent
/usr/bin/python3 - "$tmp" "$t1" "$t2" "$agent" <<'PY'
import json, sys
tmp, t1, t2 = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
dt = (t2 - t1) / 1e9
a = {p["id"]: p for p in json.load(open(tmp + "/a.json"))}
b = {p["id"]: p for p in json.load(open(tmp + "/b.json"))}
ours = {int(l) for l in open(tmp + "/ids") if l.strip()}
for i, p in b.items():
    if i not in a or i not in ours:
        continue
    n = p.get("run_cnt", 0) - a[i].get("run_cnt", 0)
    t = p.get("run_time_ns", 0) - a[i].get("run_time_ns", 0)
    if n:
        print(f"{p['name']:<16} {n / dt:>10.0f} runs/s {t / n:>7.1f} ns/run {t / dt / 1e6:>7.2f} ms/s")
PY
