#!/usr/bin/env python3
"""Syscall-latency tracing benchmarks, every side measured in ONE run, in
alternating blocks (the order rotates each block) so drift hits all sides
equally:

  1. ping-pong: eventfd + select between two threads pinned to one CPU
     (bench/pingpong.c), wall time of the ping-pong loop untraced vs traced by
     probe-agent --pid (defaults: per-call records + histograms), by
     probe-agent with a ring buffer big enough to lose nothing, by the
     comparison loader in tp_btf and in per-syscall-tracepoint mode, by
     bpftrace (entry->exit histogram of pselect6) and by libbpf-tools
     `syscount -L`.
  2. untargeted: a tight syscall loop (bench/syscall_loop.c) in a process the
     tracer is NOT targeting (the tracer targets a `sleep`), for getppid (a
     number probe does not trace) and read(/dev/zero, 0 bytes) (a traced one).
  3. per-program cost: one extra pass with kernel.bpf_stats_enabled=1 (not
     used for the ratios: the stats add their own clock reads), giving
     run_time_ns / run_cnt per BPF program of probe and of the tracepoint
     variant (read from the tracer's /proc/PID/fdinfo of its bpf-prog fds).

bench/bpf/syscalls_tp_cmp.bpf.c + bench/bpf/tp_cmp_loader.c are the design
comparison: the agent's bpf/syscalls.bpf.c bodies behind tp_btf/sys_enter +
sys_exit (cmp-tp_btf), or behind tracepoint/syscalls/sys_{enter,exit}_NAME
(cmp-tracepoint, 26 programs); the -empty variants attach empty programs at
the same points, which isolates the kernel's dispatch cost from the bodies.

bpftrace, syscount and the tracepoint variant attach `tracepoint/...` and need
tracefs, which is not mounted at boot here: the bench mounts it at
/sys/kernel/tracing if absent and unmounts it at the end.

  4. where the time of a traced call goes: staged copies of bpf/syscalls.bpf.c
     with early returns at successive points, under bpf_stats.

Usage: bench/syscall_bench.py BUILD_DIR [--blocks N] [--rounds N]
           [--loop-iters N] [--no-profile] [--only pingpong|pipe|untargeted] [--per-cpu]
           [--kinds K,K...] [--baseline-agent PATH]
  --kinds: only these ping-pong sides (untraced always); --baseline-agent: the
     probe sides also run by another build's agent, in the same blocks (A/B).
  1b. the same ping-pong over pipes (--pipe): untraced, probe with and without
     the wakeups family, runqlat; cost per scheduler event.
  defaults: 8 blocks, 100000 round trips, 400000 calls per loop (~2.5 min);
  --no-profile skips parts 3 and 4; --per-cpu adds probe-percpu to the ping-pong
  (--ring-buffers per-cpu: one ring per CPU instead of auto's one per 4).
Exit status: non-zero only when something failed to run; targets are
reported as PASS/MISS."""
import os, shutil, subprocess, sys, time

from benchlib import log, mount_tracefs, report_failures, rotated, run_main
from syscall_build import build_all
from syscall_profile import breakdown_pass, build_stages, profile_pass
from syscall_report import print_report
from benchlib import arg
from syscall_settings import (LOOP_CPU, PP_CPU, agent, baseline_agent, blocks, failures, loop_iters,
                              only, profile, rounds, tmp)
from syscall_tracers import Tracer, run_loop, run_pingpong


def main():
    if not os.access(agent, os.X_OK):
        print(f"syscall_bench: {agent} not found: build first", file=sys.stderr)
        return 1
    t_start = time.monotonic()
    try:
        bins = build_all()
    except RuntimeError as e:
        print(f"syscall_bench: build failed: {e}", file=sys.stderr)
        return 1
    have_tracefs, mounted = mount_tracefs("syscall_bench")
    sleeper = subprocess.Popen(["sleep", "1000"])
    try:
        return run_all(bins, have_tracefs, mounted, sleeper, t_start)
    finally:
        sleeper.kill()
        sleeper.wait()
        if mounted:
            subprocess.run(["umount", "/sys/kernel/tracing"])


def run_all(bins, have_tracefs, mounted, sleeper, t_start):
    skipped = {}
    kinds = ["untraced", "probe", "probe-no-wakeups", "probe-wakeups-only", "probe-32M",
             "probe-sample100", "probe-no-waker-context", "probe-wakeups-no-context"]
    if "--per-cpu" in sys.argv:
        kinds.insert(2, "probe-percpu")
    if "cmp_loader" in bins:
        kinds += ["cmp-tp_btf", "cmp-tp_btf-empty", "cmp-tp_btf-timer"]
        if have_tracefs:
            kinds += ["cmp-tracepoint", "cmp-tracepoint-empty"]
        else:
            skipped["cmp-tracepoint"] = "tracefs could not be mounted"
    if not shutil.which("bpftrace"):
        skipped["bpftrace"] = "bpftrace not installed (scripts/install-bench-deps.sh)"
        failures.append(skipped["bpftrace"])
    elif not have_tracefs:
        skipped["bpftrace"] = "tracefs could not be mounted"
    else:
        kinds.append("bpftrace")
    if "syscount" not in bins:
        skipped["syscount"] = "libbpf-tools peers did not build (bench/peers)"
    elif not have_tracefs:
        skipped["syscount"] = "tracefs could not be mounted"
    else:
        kinds.append("syscount")
    if "runqlat" in bins:
        kinds.append("runqlat")  # tp_btf: no tracefs needed
    else:
        skipped["runqlat"] = "libbpf-tools peers did not build (bench/peers)"
    if baseline_agent:  # A/B of two builds in the same blocks
        kinds += ["probe@baseline", "probe-no-wakeups@baseline"]
    # --kinds K,K...: only these sides (untraced always), for a shorter run.
    wanted = arg("--kinds", "", str)
    if wanted:
        keep = set(wanted.split(",")) | {"untraced"}
        kinds = [k for k in kinds if k in keep]

    print(f"syscall_bench: {blocks} blocks; ping-pong {rounds} round trips per run on CPU {PP_CPU}; "
          f"untargeted loops {loop_iters} calls x 3 reps (fastest rep) on CPU {LOOP_CPU}")
    print(f"tracefs: {'mounted by this bench at /sys/kernel/tracing (unmounted at the end)' if mounted else ('already mounted' if have_tracefs else 'unavailable')}; "
          "bpftrace/syscount/cmp-tracepoint use tracepoint:syscalls:* / raw_syscalls (tracefs); "
          "probe and cmp-tp_btf use tp_btf (no tracefs)")
    for k, why in skipped.items():
        print(f"skipped {k}: {why}")

    # ---- part 1: ping-pong
    broken = set()

    def alternate(name, ks, run_one):
        """Runs run_one(k) for every kind in blocks, rotating the order; a
        tracer that cannot run is reported and left out, the rest goes on."""
        for b in range(blocks):
            for k in rotated(ks, b):
                if k in broken:
                    continue
                try:
                    run_one(k)
                except Exception as e:
                    failures.append(f"{name} under {k}: {e}")
                    broken.add(k)
            log(f"  {name} block {b + 1}/{blocks} done ({time.monotonic() - t_start:.0f} s)")

    pp = {k: [] for k in kinds}
    counts, seen = {}, {k: [] for k in kinds}
    if only in ("", "pingpong"):
        run_pingpong(bins, "untraced")  # warm-up

        def one_pingpong(k):
            nonlocal counts
            ns, c, info = run_pingpong(bins, k)
            pp[k].append(ns)
            counts = c
            seen[k].append(info)

        alternate("pingpong", kinds, one_pingpong)

    # ---- part 1b: the same ping-pong over pipes (reads/writes not traced by
    # probe's syscall family; the scheduler work is the same)
    pipe_kinds = [k for k in ("untraced", "probe", "probe-no-wakeups", "probe-wakeups-only",
                              "probe-no-waker-context", "probe-wakeups-no-context", "runqlat")
                  if k in kinds]
    pipe_pp = {k: [] for k in pipe_kinds}
    if only in ("", "pingpong", "pipe"):
        alternate("pipe pingpong", pipe_kinds,
                  lambda k: pipe_pp[k].append(run_pingpong(bins, k, pipes=True)[0]))

    # ---- part 2: untargeted loops
    ukinds = [k for k in kinds if k not in ("probe-32M", "probe-no-wakeups", "probe-wakeups-only", "runqlat",
                                            "probe-sample100", "probe-percpu")]
    loops = {(k, op): [] for k in ukinds for op in ("getppid", "read0")}
    if only in ("", "untargeted"):
        for op in ("getppid", "read0"):
            run_loop(bins, op)  # warm-up
        for b in range(blocks):
            order = rotated(ukinds, b)
            for k in order:
                if k in broken:
                    continue
                try:
                    tr = Tracer(k, sleeper.pid, bins).start()
                    for op in (("getppid", "read0") if b % 2 == 0 else ("read0", "getppid")):
                        loops[(k, op)].append(run_loop(bins, op))
                    tr.stop()
                except Exception as e:
                    failures.append(f"untargeted loop under {k}: {e}")
                    broken.add(k)
            log(f"  untargeted block {b + 1}/{blocks} done ({time.monotonic() - t_start:.0f} s)")

    prof, brk = [], []
    if profile and "cmp_loader" in bins:
        why = build_stages(bins)
        if why:
            print(f"breakdown skipped: {why}")
        else:
            try:
                brk = breakdown_pass(bins)
            except Exception as e:
                failures.append(f"breakdown pass: {e}")
    if profile:
        try:
            prof = profile_pass(bins, [k for k in ("probe", "cmp-tracepoint", "cmp-tp_btf-empty") if k in kinds],
                                sleeper.pid)
        except Exception as e:
            failures.append(f"bpf_stats profile pass: {e}")
    print_report(kinds, pp, counts, seen, pipe_kinds, pipe_pp, ukinds, loops, prof, brk, t_start)
    return report_failures(failures)


if __name__ == "__main__":
    run_main(main, tmp)
