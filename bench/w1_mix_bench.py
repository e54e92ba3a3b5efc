#!/usr/bin/env python3
"""W1's syscalls without its scheduling: issue 19's per-call comparison in
wall-clock time, steadier than the ping-pong on this VM.

bench/syscall_loop's w1mix op runs W1's three calls (eventfd write, select
on the readable eventfd, eventfd read) in a tight loop on one CPU, with no
sleep and no wakeup, so the loop time is the calls' cost and what each tracer
adds to them (its BPF programs and the kernel's dispatch to them: a perf
tracepoint's buffer copy for syscount and bpftrace, none for tp_btf). Each
tracer is attached by pid before the loop starts, in blocks whose order
rotates; per block the ratio to that block's untraced loop, medians over
the blocks.

usage: bench/w1_mix_bench.py [BUILD_DIR] [--blocks N] [--loop-iters N] [--kinds K,K...]
                            [--baseline-agent PATH]
--baseline-agent adds each probe side run by another build's agent (A/B)."""
import statistics, subprocess, time

from benchlib import log, mount_tracefs, report_failures, rotated, run_main
from syscall_build import build_all
from benchlib import arg
from syscall_settings import LOOP_CPU, baseline_agent, blocks, failures, loop_iters, tmp
from syscall_tracers import run_traced

only_kinds = arg("--kinds", "", str)  # comma-separated subset of KINDS; all by default
KINDS = ["untraced", "cmp-tp_btf-empty", "cmp-tp_btf-timer", "cmp-tracepoint-empty", "probe", "probe-32M",
         "probe-no-wakeups", "probe-histograms-only", "probe-sample100",
         "syscount", "bpftrace"]
LABELS = {
    "untraced": "untraced",
    "cmp-tp_btf-empty": "empty tp_btf programs at probe's two points (floor)",
    "cmp-tp_btf-timer": "the least that times each call: task storage, 2 clock reads (floor)",
    "cmp-tracepoint-empty": "empty programs on raw_syscalls tracepoints (syscount's floor)",
    "probe": "probe, everything on",
    "probe-32M": "probe, everything on, --ring-buffer 32M",
    "probe-no-wakeups": "probe --events process,syscalls",
    "probe-histograms-only": "probe --events process,syscalls --min-latency 1000s (no records)",
    "probe-sample100": "probe --sample syscalls=1/100,wakeups=1/100",
    "syscount": "libbpf-tools syscount -L -p",
    "bpftrace": "bpftrace, pselect6 entry->exit histogram",
}


def run_mix(bins, kind):
    """(ns per call of the w1mix loop, fastest of 3 repetitions; records the
    tracer lost, 0 when it does not say) under kind."""
    kv, info = run_traced([bins["syscall_loop"], "w1mix", str(loop_iters), "--cpu", str(LOOP_CPU),
                           "--reps", "3", "--wait"], bins, kind)
    return float(kv["ns_per_call"]), info.get("lost", 0)


def main():
    bins = build_all()
    have_tracefs, mounted = mount_tracefs("w1_mix_bench")
    try:
        return run_all(bins, have_tracefs)
    finally:
        if mounted:
            subprocess.run(["umount", "/sys/kernel/tracing"])


def run_all(bins, have_tracefs):
    t_start = time.monotonic()
    kinds = [k for k in KINDS if not k.startswith("cmp-") or "cmp_loader" in bins]
    if baseline_agent:  # each probe side also run by the baseline build
        kinds += [k + "@baseline" for k in kinds if k.startswith("probe")]
    if only_kinds:
        kinds = [k for k in kinds if k.partition("@")[0] in only_kinds.split(",")]
    if "syscount" not in bins or not have_tracefs:
        kinds.remove("syscount")
        failures.append("syscount not run (peers did not build or no tracefs)")
    if not have_tracefs:
        kinds = [k for k in kinds if k not in ("bpftrace", "cmp-tracepoint-empty")]
        failures.append("bpftrace and the tracepoint floor not run (no tracefs)")
    ns = {k: [] for k in kinds}
    ratios = {k: [] for k in kinds}
    lost = {k: 0 for k in kinds}
    for b in range(blocks):
        block = {}
        for k in rotated(kinds, b):
            try:
                block[k], n_lost = run_mix(bins, k)
                lost[k] += n_lost
            except Exception as e:
                failures.append(f"w1mix under {k}: {e}")
        for k, v in block.items():
            ns[k].append(v)
            if "untraced" in block:
                ratios[k].append(v / block["untraced"])
        log(f"  block {b + 1}/{blocks} done ({time.monotonic() - t_start:.0f} s)")
    base = statistics.median(ns["untraced"])
    print(f"w1_mix_bench: {blocks} blocks, {loop_iters} iterations (3 calls each) x 3 reps per run "
          f"on CPU {LOOP_CPU}; medians over blocks")
    print(f"{'tracer':<64} {'ns/call':>8} {'added':>7} {'ratio':>6} {'ratio range':>13} {'lost':>6}")
    for k in kinds:
        if not ns[k]:
            continue
        m = statistics.median(ns[k])
        r = ratios[k]
        label = LABELS[k.partition("@")[0]] + (" [baseline]" if k.endswith("@baseline") else "")
        print(f"{label:<64} {m:>8.1f} {m - base:>+7.1f} {statistics.median(r):>5.3f}x "
              f"{min(r):>5.2f}-{max(r):.2f}x {lost[k]:>6}")
    return report_failures(failures)


if __name__ == "__main__":
    run_main(main, tmp)
