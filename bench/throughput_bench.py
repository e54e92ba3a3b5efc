#!/usr/bin/env python3
"""Sustained event throughput of probe-agent, and bpftrace for comparison,
every side measured in ONE run, in alternating blocks (the order rotates each
block) so drift hits all sides equally.

The workload is tests/workloads/syscall_burst.c (built as
BUILD_DIR/tests/syscall_burst): one process making traced syscalls as fast as
it can and printing exact counts of what it made. Sides:

  untraced       the burst alone, 1 thread (poll0) and 2 threads (-2t)
  probe          probe-agent --events syscalls --ring-buffer 64M --pid P -o F,
                 1 thread of poll() with a zero timeout (a syscall record of
                 kind poll per call); probe-2t with 2 threads; probe-efd-2t 2
                 threads of eventfd write+read pairs (the value-reading path)
  bpftrace       bpftrace -o F -e 'tracepoint:syscalls:sys_exit_poll /pid == P/
                 { printf("%d %d %lld\\n", pid, tid, args->ret); }', the same
                 1-thread burst: one output line per event it kept (and
                 BEGIN { system("touch READY") } with --unsafe to see that it
                 is attached: a printf in BEGIN stays in -o's buffer)

The burst is started with --wait and the tracer attached to its pid (not
`probe-agent -- CMD`), so the agent's own CPU time can be read without its
child's: it is read from /proc/AGENT/task/*/sched (se.sum_exec_runtime) once
the agent is ready (the header is in the file: start-up done), and from
wait4()'s rusage at its exit (the agent stops by itself once the target has
exited); the difference is the agent's CPU for the burst, drain and shutdown,
without start-up. BPF programs run in the workload's threads, so their cost
is in the workload's rate, not in the agent's CPU.

For every probe run the file is read frame by frame (proto/FORMAT.md: 0x0a
varint(len) Record): syscall records counted, their exact on-disk bytes
(frame header included) summed, and the Trailer's KindCounters for
EVENT_KIND_SYSCALL decoded; the accounting is checked exactly:
produced == written + sampled_out + lost, and produced == calls the workload
made (its events + one eventfd2 per thread). The bytes of each SyscallCall
field are summed over the first records (field names read from
proto/probe.proto).

Then, once: an idle agent (`probe-agent --pid <sleep> -d 10`, all families):
its CPU % over the whole run and in steady state (ready .. ready + d - 1.5 s,
without start-up). With --perf S, an extra probe-2t run with a longer burst
under `perf record -g -p AGENT` for S seconds, and the agent's top symbols.

bpftrace needs tracefs (tracepoint format files), which is not mounted at boot
here: the bench mounts it at /sys/kernel/tracing if absent and unmounts it at
the end. probe does not need it.

Usage: bench/throughput_bench.py BUILD_DIR [--events N] [--blocks N]
           [--bpftrace-events N] [--idle-seconds S] [--perf S] [--no-bpftrace]
  defaults: 3 000 000 events per run (bpftrace: a tenth, as it runs at a few
  percent of the rate), 3 blocks, 10 s idle (~1.5 min; --perf 3 adds ~15 s).
Exit status: non-zero only when something failed to run or an accounting
check failed; targets are reported as PASS/MISS."""
import os, shutil, subprocess, sys, time

from benchlib import log, mount_tracefs, report_failures, rotated, run_main
from throughput_report import med, print_report
from throughput_runs import idle_agent, run_side, run_untraced, top_symbols
from throughput_settings import (RING, SIDES, agent, blocks, bt_events, build, burst, check_failures,
                                 events, failures, perf_s, tmp, use_bpftrace)


def main():
    for path, what in ((agent, "probe-agent"), (burst, "syscall_burst")):
        if not os.access(path, os.X_OK):
            print(f"throughput_bench: {path} not found: build first (cmake --build {build})", file=sys.stderr)
            return 1
    t_start = time.monotonic()
    sides = [s for s in SIDES if s != "bpftrace"]
    skipped = {}
    have_tracefs, mounted = False, False
    if use_bpftrace:
        if not shutil.which("bpftrace"):
            skipped["bpftrace"] = "bpftrace not installed (scripts/install-bench-deps.sh)"
            failures.append(skipped["bpftrace"])
        else:
            have_tracefs, mounted = mount_tracefs("throughput_bench")
            if have_tracefs:
                sides.append("bpftrace")
            else:
                skipped["bpftrace"] = "tracefs could not be mounted"
    else:
        skipped["bpftrace"] = "--no-bpftrace"
    try:
        return run_all(sides, skipped, mounted, have_tracefs, t_start)
    finally:
        if mounted:
            subprocess.run(["umount", "/sys/kernel/tracing"])


def run_all(sides, skipped, mounted, have_tracefs, t_start):
    ncpu = os.cpu_count()
    print(f"throughput_bench: {blocks} blocks of {len(sides)} sides, {events:,} syscalls per run, {ncpu} CPUs, "
          f"kernel {os.uname().release}; probe-agent --events syscalls --ring-buffer {RING} --pid P")
    print(f"load average at start: {open('/proc/loadavg').read().strip()}")
    print(f"tracefs: {'mounted by this bench at /sys/kernel/tracing (unmounted at the end)' if mounted else ('already mounted' if have_tracefs else 'not used')}")
    for k, why in skipped.items():
        print(f"skipped {k}: {why}")

    run_untraced(1, "poll0", events // 10)  # warm-up
    results = {s: [] for s in sides}
    broken = set()
    for blk in range(blocks):
        order = rotated(sides, blk)
        for s in order:
            if s in broken:
                continue
            try:
                results[s].append(run_side(s, bt_events if SIDES[s][2] == "bpftrace" else events))
            except Exception as e:
                failures.append(f"{s}: {e}")
                broken.add(s)
        log(f"  block {blk + 1}/{blocks} done ({time.monotonic() - t_start:.0f} s)")

    idle = None
    try:
        idle = idle_agent()
    except Exception as e:
        failures.append(f"idle agent: {e}")
    log(f"  idle agent done ({time.monotonic() - t_start:.0f} s)")

    perf_rows, perf_run = [], None
    if perf_s:
        if not shutil.which("perf"):
            failures.append("--perf: perf not installed (apt-get install linux-perf)")
        else:
            try:
                # long enough to outlast the perf window at the 2-thread rate
                rate = med([r["burst"]["events_per_s"] for r in results.get("probe-2t", [])]) or 2e6
                perf_run = run_side("probe-2t", int(rate * (perf_s + 1.0)), perf=perf_s)
                perf_rows = top_symbols(perf_run["perf_data"])
            except Exception as e:
                failures.append(f"perf run: {e}")

    print_report(sides, skipped, results, idle, perf_rows, perf_run, t_start)
    return report_failures(failures, check_failures, check_label="ACCOUNTING")


if __name__ == "__main__":
    run_main(main, tmp)
