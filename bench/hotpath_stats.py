#!/usr/bin/env python3
"""Per-program BPF cost (kernel.bpf_stats_enabled=1, run_time_ns / run_cnt
from the agent's /proc/PID/fdinfo) of one or more agent builds, side by side:
for each repetition and each build in turn, (a) the W1 ping-pong (eventfd +
select, one CPU) traced, (b) a read(/dev/zero, 0) and a getppid loop in a
process the agent does NOT target. Prints the median ns/run per program.

Peers are measured the same way, their own programs' figures side by side
with probe's: LABEL=cmp:MODE runs bench/bpf/tp_cmp_loader.c in MODE
(tp_btf-timer: the least that times each call; tp_btf-empty: empty
programs); LABEL=peer:syscount (libbpf-tools `syscount -L -p PID`),
peer:runqlat (`runqlat -p PID`) and peer:bpftrace (one pselect6 entry->exit
histogram, as in syscall_bench.py); the libbpf-tools peers are built from
bench/peers by bench/peer_build.py (needs BUILD_DIR/bpf/vmlinux.h), and
syscount and bpftrace need tracefs, which this script mounts if it must.

Usage: bench/hotpath_stats.py [--reps N] [--events LIST] [--extra 'ARGS'] LABEL=AGENT_BINARY|peer:TOOL [...]
  a label may carry its own agent arguments after the binary, quoted as one
  word: 'syscalls=build/agent/probe-agent --events process,syscalls'.
  with BENCH_BIN=dir holding pingpong and syscall_loop (default build/bench)
  and BUILD_DIR (default build)."""
import os, shlex, signal, statistics, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import bpf_prog_stats, bpf_progs_shown, tracer_on

if "-h" in sys.argv[1:] or "--help" in sys.argv[1:]:  # before the argument parsing below
    print(__doc__.strip())
    sys.exit(0)
args = sys.argv[1:]
reps, events, extra = 5, "", []
while args and args[0].startswith("--"):
    k, v = args[0], args[1]
    args = args[2:]
    if k == "--reps": reps = int(v)
    elif k == "--events": events = v
    elif k == "--extra": extra = shlex.split(v)
builds = [a.split("=", 1) for a in args]
bindir = os.environ.get("BENCH_BIN", "build/bench")
build = os.environ.get("BUILD_DIR", "build")
tmp = tempfile.mkdtemp(prefix="hotpath_")
peers = {}
if any(b.startswith("peer:") for _, b in builds):
    from benchlib import mount_tracefs
    from peer_build import build_peers
    peers = build_peers(tmp, os.path.join(build, "bpf"))
    _, unmount_tracefs = mount_tracefs("hotpath_stats")
else:
    unmount_tracefs = False


stats = bpf_prog_stats  # {prog_id: (run_cnt, run_time_ns)} of a tracer


def names():
    return {i: p.get("name", "?") for i, p in bpf_progs_shown().items()}


def agent_on(binary, pid):
    """The tracer (a probe agent, cmp:MODE or peer:TOOL) on pid, once its
    programs are attached."""
    return tracer_on(binary, pid, tmp, peers, bindir, events, extra)


def measure(binary):
    res = {}
    pp = subprocess.Popen([f"{bindir}/pingpong", "--rounds", "100000", "--cpu", "0", "--wait"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pp.stdout.readline()
    ag = agent_on(binary, pp.pid)
    nm = names()
    b = stats(ag.pid)
    pp.stdin.write("go\n"); pp.stdin.flush()
    pp.communicate()
    a = stats(ag.pid)
    for i in a:
        n, t = a[i][0] - b.get(i, (0, 0))[0], a[i][1] - b.get(i, (0, 0))[1]
        if n > 10000: res[("W1", nm.get(i, i))] = t / n
    ag.send_signal(signal.SIGINT); ag.wait()
    sl = subprocess.Popen(["sleep", "60"])
    ag = agent_on(binary, sl.pid)
    nm = names()
    for op in ("read0", "getppid"):
        b = stats(ag.pid)
        subprocess.run([f"{bindir}/syscall_loop", op, "300000", "--cpu", "1", "--reps", "1"], capture_output=True)
        a = stats(ag.pid)
        for i in a:
            n, t = a[i][0] - b.get(i, (0, 0))[0], a[i][1] - b.get(i, (0, 0))[1]
            if n > 100000: res[(f"untargeted {op}", nm.get(i, i))] = t / n
    ag.send_signal(signal.SIGINT); ag.wait()
    sl.kill(); sl.wait()
    return res


old = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
open("/proc/sys/kernel/bpf_stats_enabled", "w").write("1")
try:
    runs = {label: [] for label, _ in builds}
    for r in range(reps):
        order = builds[r % len(builds):] + builds[:r % len(builds)]
        for label, binary in order:
            runs[label].append(measure(binary))
finally:
    open("/proc/sys/kernel/bpf_stats_enabled", "w").write(old)
    if unmount_tracefs:
        subprocess.run(["umount", "/sys/kernel/tracing"])
keys = sorted({k for rs in runs.values() for res in rs for k in res})
print(f"{'workload':<20} {'program':<18}" + "".join(f"{l:>14}" for l, _ in builds) + "   (median ns/run, %d reps)" % reps)
for k in keys:
    cells = []
    for label, _ in builds:
        v = [res[k] for res in runs[label] if k in res]
        cells.append(f"{statistics.median(v):>14.1f}" if v else f"{'-':>14}")
    print(f"{k[0]:<20} {k[1]:<18}" + "".join(cells))
