#!/usr/bin/env python3
"""W1 (eventfd + select ping-pong, both threads on CPU 0) traced by each
tracer in turn, every traced run placed between two untraced runs and
divided by their mean, so a slow minute of the host weighs on both sides of
its ratio. Prints, per tracer, the median and quartiles of the wall-clock
ratio (W1's own clock) and of W1's CPU-time ratio (getrusage).

Usage: bench/w1_sandwich.py [--reps N] [--rounds N] LABEL=SPEC [...]
  SPEC: a probe-agent binary with its arguments ('build/agent/probe-agent
  --events process,syscalls'), peer:syscount, peer:runqlat, peer:bpftrace
  or cmp:MODE (see benchlib.tracer_on). Peers are built from bench/peers
  (needs BUILD_DIR/bpf/vmlinux.h); tracefs is mounted if a peer needs it.
  BENCH_BIN=dir holding pingpong (default build/bench), BUILD_DIR (default
  build)."""
import os, statistics, subprocess, sys, tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import log, mount_tracefs, run_main, tracer_on

args = sys.argv[1:]
reps, rounds = 25, 100000
while args and args[0].startswith("--"):
    k, v, args = args[0], args[1], args[2:]
    if k == "--reps": reps = int(v)
    elif k == "--rounds": rounds = int(v)
sides = [a.split("=", 1) for a in args]
bindir = os.environ.get("BENCH_BIN", "build/bench")
build = os.environ.get("BUILD_DIR", "build")
tmp = tempfile.mkdtemp(prefix="w1_sandwich_")


def w1(spec, peers):
    """One W1 run, traced by spec (None: untraced): (wall ms, CPU ms)."""
    pp = subprocess.Popen([f"{bindir}/pingpong", "--rounds", str(rounds), "--cpu", "0", "--wait"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pp.stdout.readline()  # ready
    tracer = tracer_on(spec, pp.pid, tmp, peers, bindir) if spec else None
    pp.stdin.write("go\n")
    pp.stdin.close()
    out = pp.stdout.read()
    _, status, usage = os.wait4(pp.pid, 0)
    pp.returncode = status
    if tracer:
        tracer.send_signal(2)
        try:
            tracer.wait(timeout=20)
        except subprocess.TimeoutExpired:
            tracer.kill()
            tracer.wait()
    wall = next(int(l.split("=")[1]) for l in out.splitlines() if l.startswith("elapsed_ns="))
    return wall / 1e6, (usage.ru_utime + usage.ru_stime) * 1e3


def quartiles(v):
    v = sorted(v)
    return statistics.median(v), v[len(v) // 4], v[(3 * len(v)) // 4]


def main():
    peers, unmount = {}, False
    if any(s.startswith("peer:") for _, s in sides):
        from peer_build import build_peers
        peers = build_peers(tmp, os.path.join(build, "bpf"))
        _, unmount = mount_tracefs("w1_sandwich")
    try:
        wall = {l: [] for l, _ in sides}
        cpu = {l: [] for l, _ in sides}
        prev = w1(None, peers)
        untraced = [prev]
        for r in range(reps):
            order = sides[r % len(sides):] + sides[:r % len(sides)]
            for label, spec in order:
                traced = w1(spec, peers)
                nxt = w1(None, peers)
                untraced.append(nxt)
                wall[label].append(traced[0] / ((prev[0] + nxt[0]) / 2))
                cpu[label].append(traced[1] / ((prev[1] + nxt[1]) / 2))
                prev = nxt
            log(f"rep {r + 1}/{reps}")
    finally:
        if unmount:
            subprocess.run(["umount", "/sys/kernel/tracing"])
    print(f"W1, {rounds} rounds, {reps} reps, each traced run between two untraced ones")
    print(f"{'tracer':<12} {'wall ratio':>10} {'quartiles':>13} {'CPU ratio':>10} {'quartiles':>13}")
    for label, _ in sides:
        w, c = quartiles(wall[label]), quartiles(cpu[label])
        print(f"{label:<12} {w[0]:>10.3f} {w[1]:>6.3f}-{w[2]:<6.3f} {c[0]:>10.3f} {c[1]:>6.3f}-{c[2]:<6.3f}")
    u = [x[0] for x in untraced]
    print(f"untraced wall: median {statistics.median(u):.0f} ms, {min(u):.0f}-{max(u):.0f}")
    return 0


run_main(main, tmp)
