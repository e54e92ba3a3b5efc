"""What syscall_bench.py prints once every run is done: the tables of parts
1 to 4 and the targets."""
import statistics, time

from benchlib import verdict
from syscall_settings import PP_CPU, blocks, loop_iters, rounds


def print_report(kinds, pp, counts, seen, pipe_kinds, pipe_pp, ukinds, loops, prof, brk, t_start):
    results = {}
    if pp["untraced"]:
        base = statistics.median(pp["untraced"])
        n_sys = counts["syscalls"]
        print()
        print(f"1. eventfd+select ping-pong, 2 threads on CPU {PP_CPU}, {rounds} round trips = "
              f"{counts['selects']} selects (pselect6) + {counts['reads']} reads + {counts['writes']} writes "
              f"per run; median of {len(pp['untraced'])} runs")
        print(f"   {'tracer':<20} {'loop wall':>10} {'ratio':>7} {'per round':>10} {'traced calls':>17} "
              f"{'added/call':>10}  seen by tracer")
        for k in kinds:
            if not pp[k]:
                continue
            m = statistics.median(pp[k])
            traced = counts["selects"] if k == "bpftrace" else n_sys
            added = (m - base) / traced
            results[k] = (m / base, added)
            info = seen[k][-1] if seen[k] else {}
            s = ""
            if "seen" in info:
                s = f"{info['seen']} calls"
                if "written" in info:
                    s += f", {info['written']} records written, {info.get('lost', 0)} lost"
            what = "pselect6" if k == "bpftrace" else "all"
            print(f"   {k:<20} {m / 1e6:>7.1f} ms {m / base:>6.3f}x {m / rounds:>7.0f} ns "
                  f"{traced:>8} {what:<8} {added if k != 'untraced' else 0:>7.0f} ns  {s}")
        spread = {k: (min(v) / 1e6, max(v) / 1e6) for k, v in pp.items() if v}
        print("   run-to-run range (ms): " + ", ".join(f"{k} {a:.0f}-{b:.0f}" for k, (a, b) in spread.items()))
        # A VM's steal and a neighbour's bursts only ever add time: the fastest
        # run of each side is its least disturbed one, and their ratio moves
        # less from one bench run to the next than the medians' does.
        lo = min(pp["untraced"])
        print("   fastest run / fastest untraced: " +
              ", ".join(f"{k} {min(v) / lo:.3f}x" for k, v in pp.items() if v and k != "untraced"))

    if pipe_pp.get("untraced"):
        pbase = statistics.median(pipe_pp["untraced"])
        print()
        print(f"1b. the same ping-pong over two pipes ({rounds} round trips: 4 scheduler events and 2 "
              f"traced selects each); median of {len(pipe_pp['untraced'])} runs")
        for k in pipe_kinds:
            if not pipe_pp[k]:
                continue
            m = statistics.median(pipe_pp[k])
            per_event = (m - pbase) / (4 * rounds)
            print(f"   {k:<20} {m / 1e6:>7.1f} ms {m / pbase:>6.3f}x   {per_event:>5.0f} ns per scheduler event"
                  f"{' (incl. the 2 traced selects)' if k in ('probe', 'probe-no-wakeups') else ''}")
        if "probe" in pipe_pp and "probe-no-wakeups" in pipe_pp and pipe_pp["probe"] and pipe_pp["probe-no-wakeups"]:
            d = (statistics.median(pipe_pp["probe"]) - statistics.median(pipe_pp["probe-no-wakeups"])) / (4 * rounds)
            print(f"   probe's wakeups family alone: {d:.0f} ns per scheduler event")
        if pipe_pp.get("probe") and pipe_pp.get("probe-no-waker-context"):
            d = (statistics.median(pipe_pp["probe"]) -
                 statistics.median(pipe_pp["probe-no-waker-context"])) / (4 * rounds)
            print(f"   probe's waker context (irq/softirq/hrtimer programs): {d:.0f} ns per scheduler event")
        if pipe_pp.get("probe-wakeups-only") and pipe_pp.get("probe-wakeups-no-context"):
            a = statistics.median(pipe_pp["probe-wakeups-only"])
            b = statistics.median(pipe_pp["probe-wakeups-no-context"])
            print(f"   waker context, wakeups family alone: {a / b:.3f}x, {(a - b) / (4 * rounds):.0f} ns "
                  f"per scheduler event (--events process,wakeups with and without --no-waker-context)")

    uresults = {}
    if loops[("untraced", "getppid")]:
        print()
        print(f"2. untargeted process (tracers target a `sleep`), ns per syscall, median over {blocks} blocks "
              f"of the fastest of 3 reps of {loop_iters} calls")
        print(f"   {'tracer':<20} {'getppid':>8} {'added':>7}  {'read0':>8} {'added':>7}")
        for k in ukinds:
            if not loops[(k, "getppid")] or not loops[(k, "read0")]:
                continue
            g = statistics.median(loops[(k, "getppid")])
            r = statistics.median(loops[(k, "read0")])
            g0 = statistics.median(loops[("untraced", "getppid")])
            r0 = statistics.median(loops[("untraced", "read0")])
            uresults[k] = (g - g0, r - r0)
            print(f"   {k:<20} {g:>8.1f} {g - g0:>+7.1f}  {r:>8.1f} {r - r0:>+7.1f}")

    if prof:
        print()
        print("3. per-program cost (kernel.bpf_stats_enabled=1, separate pass; ns per program run, which "
              "excludes the kernel's dispatch to the program)")
        print(f"   {'tracer':<20} {'workload':<20} {'program':<18} {'runs':>9} {'ns/run':>7} {'runs/call':>9}")
        for kind, wl, name, cnt, nspr, per in prof:
            print(f"   {kind:<20} {wl:<20} {name:<18} {cnt:>9} {nspr:>7.1f} {per:>9.2f}")

    if brk:
        print()
        print("4. where a traced call's time goes: staged copies of bpf/syscalls.bpf.c behind tp_btf, ping-pong,")
        print("   bpf_stats ns per program run (fastest of 2 passes); 'net' subtracts the empty program's figure")
        print(f"   {'stage':<68} {'ns/run':>7} {'net':>6}")
        for label, ns, net in brk:
            print(f"   {label:<68} {ns:>7.1f} {net:>6.1f}")

    print()
    print("targets:")
    if "probe" in results:
        ratio, added = results["probe"]
        print(f"  {verdict(ratio <= 1.15)}  ping-pong traced by probe (defaults): {ratio:.3f}x wall (target <= 1.15x)")
        print(f"  {verdict(added <= 200)}  ping-pong traced by probe (defaults): {added:.0f} ns per traced call "
              f"(target <= 200 ns)")
        print(f"  {verdict(ratio <= 1.30)}  ping-pong, processes + syscalls + wakeups (the default): "
              f"{ratio:.3f}x wall (target <= 1.30x)")
    for kind, what in (("probe-no-wakeups", "same without wakeups (--events process,syscalls)"),
                       ("probe-percpu", "ping-pong, all families, --ring-buffers per-cpu"),
                       ("probe-sample100", "ping-pong, all families, --sample "
                                           "syscalls=1/100,wakeups=1/100 (histograms exact)")):
        if kind in results:
            ratio, added = results[kind]
            print(f"  info  {what}: {ratio:.3f}x, {added:.0f} ns per call")
    if "probe-32M" in results:
        ratio, added = results["probe-32M"]
        print(f"  {verdict(ratio <= 1.15 and added <= 200)}  (info) same with --ring-buffer 32M, every record "
              f"written: {ratio:.3f}x, {added:.0f} ns per call")
    if "probe" in uresults:
        g, r = uresults["probe"]
        print(f"  {verdict(g <= 30)}  untargeted getppid (untraced nr) with probe attached: {g:+.1f} ns "
              f"(target <= 30 ns)")
        print(f"  {verdict(r <= 30)}  untargeted read (traced nr) with probe attached: {r:+.1f} ns "
              f"(target <= 30 ns)")
    # Scheduler events: each round trip has 2 wakeups and 2 context switches.
    sched_events = 4 * rounds
    if "runqlat" in results:
        r = results["runqlat"][0]
        print(f"  info  runqlat -p (run-queue histogram only): {r:.3f}x, "
              f"{(r - 1) * base / sched_events:.0f} ns per scheduler event (published: 1.27x, ~400 ns)")
    if "probe-wakeups-only" in results:
        r = results["probe-wakeups-only"][0]
        print(f"  {verdict(r <= 1.15)}  probe --events process,wakeups (a record per wakeup, 2 histograms): "
              f"{r:.3f}x, {(r - 1) * base / sched_events:.0f} ns per scheduler event (target <= 1.15x)")
    if "probe" in results and "probe-no-wakeups" in results:
        extra = (results["probe"][0] - results["probe-no-wakeups"][0]) * base / sched_events
        print(f"  info  probe's wakeups family (records + breakdown + histograms): {extra:.0f} ns per "
              f"scheduler event (all on minus processes+syscalls, same run)")
    if "probe" in results and "probe-no-waker-context" in results:
        extra = (results["probe"][0] - results["probe-no-waker-context"][0]) * base / sched_events
        print(f"  info  probe's waker context (irq, softirq and hrtimer programs, --no-waker-context "
              f"off): {results['probe'][0] / results['probe-no-waker-context'][0]:.3f}x, {extra:.0f} ns "
              f"per scheduler event (same run)")
    for k in ("bpftrace", "syscount"):
        if k in results:
            print(f"  info  {k}: {results[k][0]:.3f}x, {results[k][1]:.0f} ns per traced call "
                  f"(published: {'2.12x' if k == 'bpftrace' else '1.47x'})")
    if "cmp-tp_btf" in results and "cmp-tracepoint" in results:
        a, b = results["cmp-tp_btf"], results["cmp-tracepoint"]
        print(f"  info  same BPF bodies, tp_btf vs per-syscall tracepoints: ping-pong {a[1]:.0f} vs {b[1]:.0f} ns "
              f"per call", end="")
        if "cmp-tp_btf" in uresults and "cmp-tracepoint" in uresults:
            ua, ub = uresults["cmp-tp_btf"], uresults["cmp-tracepoint"]
            print(f"; untargeted getppid {ua[0]:+.1f} vs {ub[0]:+.1f} ns, read {ua[1]:+.1f} vs {ub[1]:+.1f} ns")
        else:
            print()
    print(f"\ntotal {time.monotonic() - t_start:.0f} s")
