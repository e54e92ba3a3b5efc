"""What throughput_bench.py prints once every run is done: rates, the agent's
CPU and record sizes, the idle agent, perf's symbols, and the targets."""
import os, statistics, time

from benchlib import verdict
from record_scan import syscall_names, varint_len
from throughput_settings import (SIDES, TARGET_BYTES, TARGET_IDLE_PCT, TARGET_RATE,
                                 TARGET_VS_BPFTRACE, blocks, bt_events, check_failures, events,
                                 idle_s, perf_s)


def med(xs):
    return statistics.median(xs) if xs else None


def print_report(sides, skipped, results, idle, perf_rows, perf_run, t_start):
    print()
    base = {1: med([r["burst"]["events_per_s"] for r in results.get("untraced", [])]),
            2: med([r["burst"]["events_per_s"] for r in results.get("untraced-2t", [])])}
    print(f"1. sustained rate, median of {blocks} runs (each run {events:,} syscalls of the workload, "
          f"+1 eventfd2 per thread; bpftrace runs {bt_events:,})")
    print("   rate = the workload's syscalls/s (its own clock, first to last call); recorded/s = records kept /"
          " wall from go until the tracer had written the last")
    hdr = (f"   {'side':<13} {'thr':>3} {'kind':<7} {'rate':>11} {'vs untr.':>8} {'+ns/call':>8} "
           f"{'kept':>8} {'lost (max)':>10} {'recorded/s':>11} {'done':>7}")
    print(hdr)
    summary = {}
    for s in sides:
        rs = results[s]
        if not rs:
            continue
        threads, kind, tracer = SIDES[s]
        rate = med([r["burst"]["events_per_s"] for r in rs])
        b0 = base.get(threads)
        added = (1e9 / rate - 1e9 / b0) * threads if (tracer and b0) else None
        made = [r["burst"]["events"] for r in rs]
        kept = [r.get("written") for r in rs if r.get("written") is not None]
        lost = [r.get("lost", 0) for r in rs]
        done = med([r["tracer_done_s"] for r in rs]) if tracer else None
        recorded = med([r["written"] / r["tracer_done_s"] for r in rs]) if tracer else None
        # for probe, written includes the eventfd2 record(s); completeness is of what the burst made
        compl = med([min(1.0, r["written"] / (r["burst"]["events"] + (r["burst"]["eventfds"] if tracer == "probe" else 0)))
                     for r in rs]) if tracer else None
        summary[s] = dict(rate=rate, lost_max=max(lost), recorded=recorded, done=done, compl=compl, runs=rs)
        print(f"   {s:<13} {threads:>3} {kind:<7} {rate:>9,.0f}/s "
              + (f"{rate / b0:>7.3f}x" if b0 else f"{'':>8}")
              + (f" {added:>8.0f}" if added is not None else f" {'–':>8}")
              + (f" {compl * 100:>7.2f}%" if compl is not None else f" {'–':>8}")
              + (f" {max(lost):>10,}" if tracer else f" {'–':>10}")
              + (f" {recorded:>9,.0f}/s" if recorded else f" {'–':>11}")
              + (f" {done:>6.2f}s" if done else f" {'–':>7}"))
    ranges = {s: (min(r["burst"]["events_per_s"] for r in v) / 1e6, max(r["burst"]["events_per_s"] for r in v) / 1e6)
              for s, v in results.items() if v}
    print("   run-to-run range of rate (M/s): " + ", ".join(f"{s} {a:.2f}-{b:.2f}" for s, (a, b) in ranges.items()))
    if "bpftrace" in summary:
        rs = summary["bpftrace"]["runs"]
        rep = sum(r["bpftrace_reported_lost"] for r in rs)
        print(f"   bpftrace: kept {summary['bpftrace']['compl'] * 100:.1f}% of the polls as lines (median); "
              f"its own 'Lost N events' messages total {rep:,} over {len(rs)} runs "
              f"(missing lines total {sum(r['lost'] for r in rs):,})")

    probe_sides = [s for s in sides if SIDES[s][2] == "probe" and results[s]]
    if probe_sides:
        print()
        print("2. probe-agent: CPU (its own, from /proc/PID/task/*/sched at ready and wait4() at exit) and record size")
        print(f"   {'side':<13} {'agent CPU':>10} {'ms/M ev':>8} {'ceiling':>13} {'start-up':>9} "
              f"{'B/rec file':>10} {'B/rec exact':>11} {'body':>6}  accounting (last run's trailer)")
        for s in probe_sides:
            rs = results[s]
            cpu = med([r["agent_cpu_ns"] for r in rs])
            written = med([r["written"] for r in rs])
            per_m = cpu / 1e6 / (written / 1e6)
            ceiling = written / (cpu / 1e9)
            startup = med([r["agent_cpu_startup_ns"] for r in rs])
            f_last = rs[-1]["file"]
            file_b = med([r["file"]["file_bytes"] / r["file"]["records"] for r in rs])
            exact = med([r["file"]["frame_bytes"] / r["file"]["records"] for r in rs])
            body = med([r["file"]["body_bytes"] / r["file"]["records"] for r in rs])
            c = f_last["counters"] or {}
            acct = (f"produced {c.get('produced', 0):,} = written {c.get('written', 0):,} + sampled "
                    f"{c.get('sampled_out', 0)} + lost {sum(v for k, v in c.items() if k.startswith('lost_'))}")
            summary[s].update(cpu_ms=cpu / 1e6, per_m=per_m, ceiling=ceiling, exact=exact, file_b=file_b)
            print(f"   {s:<13} {cpu / 1e6:>7.0f} ms {per_m:>8.1f} {ceiling:>11,.0f}/s {startup / 1e6:>6.0f} ms "
                  f"{file_b:>10.3f} {exact:>11.4f} {body:>6.2f}  {acct}")
        print("   agent CPU = ready .. exit (burst, drain, final histograms, trailer), start-up excluded; "
              "ceiling = records / agent CPU s: the agent's own decode+encode+write limit")
        print("   B/rec file = file size / syscall records (header, stats, histograms, trailer included); "
              "exact = on-disk bytes of the syscall frames / records; body = serialized Record alone")
        stderr_ok = all(r["stderr_written"] == r["written"] and r["stderr_lost"] == r["lost"]
                        for s in probe_sides for r in results[s])
        print(f"   agent's stderr summary agrees with the trailer in every run: {'yes' if stderr_ok else 'NO'}; "
              f"stopped by itself when the target exited: "
              f"{'yes' if all(r['stopped_by_itself'] for s in probe_sides for r in results[s]) else 'NO (SIGINT)'}")
        if not stderr_ok:
            check_failures.append("agent stderr summary disagrees with the trailer")
        fl = results[probe_sides[0]][-1]["file"]
        if fl["fields"]:
            print(f"   bytes per poll record by field ({probe_sides[0]}, mean over the first {fl['field_sample']:,} "
                  f"syscall records; fields absent when 0/false):")
            print("     " + ", ".join(f"{k} {v:.2f}" for k, v in fl["fields"].items()))
        names = syscall_names()
        agg = {}
        for s in probe_sides:
            for r in results[s]:
                for sc, (cnt, by) in r["file"]["by_syscall"].items():
                    a = agg.get(sc, (0, 0))
                    agg[sc] = (a[0] + cnt, a[1] + by)
        print("   on-disk bytes per record by syscall (all probe runs): " +
              ", ".join(f"{names.get(sc, sc)} {by / cnt:.3f} B x {cnt:,}" for sc, (cnt, by) in
                        sorted(agg.items(), key=lambda kv: -kv[1][0])))
        now = time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        vl = varint_len(now)
        grow = (1 << (7 * vl)) / 1e9
        print(f"   start_time_ns is CLOCK_MONOTONIC ns as a varint: {vl} bytes at this uptime "
              f"({now / 3.6e12:.2f} h); it takes one more byte from {grow / 3600:.1f} h of uptime"
              f"{' (7 bytes until 6.5 days, 8 beyond)' if vl < 7 else ''}, so the same record grows with uptime")
        pids = sorted({r["burst"]["pid"] for s in probe_sides for r in results[s]})
        try:
            pid_max = int(open("/proc/sys/kernel/pid_max").read())
        except OSError:
            pid_max = 0
        print(f"   pid and tid are varints too: fields of 1 + {varint_len(pids[0])}..{varint_len(pids[-1])} bytes for "
              f"the pids of these runs ({pids[0]}..{pids[-1]}); the varint takes 3 bytes from 16384 and 4 from "
              f"2097152 (pid_max here {pid_max}; 4194304 on many distributions), in pid and in tid")

    if idle:
        tot_pct = idle["total_ns"] / 1e9 / idle["wall_s"] * 100
        st_pct = idle["steady_ns"] / 1e9 / idle["steady_s"] * 100
        print()
        print(f"3. idle agent: probe-agent --pid <sleep> -d {idle_s:g} (all families): {idle['total_ns'] / 1e6:.1f} ms "
              f"CPU over {idle['wall_s']:.2f} s = {tot_pct:.3f}% (start-up {idle['startup_ns'] / 1e6:.1f} ms "
              f"included); steady state after ready: {idle['steady_ns'] / 1e6:.2f} ms over {idle['steady_s']:.2f} s "
              f"= {st_pct:.3f}%")

    if perf_rows:
        print()
        pr = perf_run
        print(f"4. perf record -g -p AGENT for {perf_s:g} s during a probe-2t burst of {pr['burst']['events']:,} "
              f"({pr['burst']['events_per_s']:,.0f}/s, lost {pr.get('lost')}); agent self time by dso/symbol (>= 1%):")
        for row in perf_rows:
            print("   " + row.rstrip())

    print()
    print("targets:")
    lossless = [s for s in probe_sides if summary[s]["lost_max"] == 0]
    if probe_sides:
        best = max(lossless, key=lambda s: summary[s]["rate"]) if lossless else None
        if best:
            r = summary[best]["rate"]
            print(f"  {verdict(r >= TARGET_RATE)}  agent sustains >= {TARGET_RATE:,} events/s without loss: best "
                  f"lossless {r:,.0f}/s ({best}, 0 lost in all {len(summary[best]['runs'])} runs)")
        else:
            print(f"  MISS  agent sustains >= {TARGET_RATE:,} events/s without loss: every probe side lost events")
        b1, b2 = base.get(1), base.get(2)
        if b1 and "probe" in summary:
            print(f"  info  1 thread: the workload alone makes {b1:,.0f}/s; traced {summary['probe']['rate']:,.0f}/s "
                  f"(the BPF programs run in the workload's thread: +{1e9 / summary['probe']['rate'] - 1e9 / b1:.0f} "
                  f"ns per call), so 1 thread cannot offer {TARGET_RATE:,}/s traced"
                  if summary["probe"]["rate"] < TARGET_RATE else
                  f"  info  1 thread: {summary['probe']['rate']:,.0f}/s traced (alone {b1:,.0f}/s)")
        if b2 and "probe-2t" in summary:
            print(f"  info  2 threads on {os.cpu_count()} CPUs (sharing them with the agent): alone {b2:,.0f}/s, "
                  f"traced {summary['probe-2t']['rate']:,.0f}/s")
        ceil = max((summary[s]["ceiling"] for s in probe_sides), default=None)
        if ceil:
            print(f"  info  agent's own ceiling (records / agent CPU s): {ceil:,.0f}/s at best "
                  f"({', '.join('%s %.2fM' % (s, summary[s]['ceiling'] / 1e6) for s in probe_sides)})")
    if "probe" in summary and "bpftrace" in summary:
        p, bt = summary["probe"], summary["bpftrace"]
        ratio = p["recorded"] / bt["recorded"]
        print(f"  {verdict(ratio >= TARGET_VS_BPFTRACE and p['lost_max'] == 0)}  >= {TARGET_VS_BPFTRACE:g}x bpftrace, "
              f"same 1-thread burst, events recorded per second of wall (go .. tracer done): probe "
              f"{p['recorded']:,.0f}/s ({p['compl'] * 100:.2f}% kept) vs bpftrace {bt['recorded']:,.0f}/s "
              f"({bt['compl'] * 100:.1f}% kept) = {ratio:.1f}x; workload rate {p['rate']:,.0f}/s vs "
              f"{bt['rate']:,.0f}/s = {p['rate'] / bt['rate']:.1f}x")
    elif "probe" in summary:
        print(f"  n/a   >= {TARGET_VS_BPFTRACE:g}x bpftrace: bpftrace {skipped.get('bpftrace', 'did not run')}")
    if probe_sides:
        worst = max(summary[s]["exact"] for s in probe_sides)
        worst_file = max(summary[s]["file_b"] for s in probe_sides)
        poll = [0, 0]
        for s in probe_sides:
            for r in results[s]:
                for sc, (cnt, by) in r["file"]["by_syscall"].items():
                    if syscall_names().get(sc) == "poll":
                        poll[0] += cnt
                        poll[1] += by
        print(f"  {verdict(worst <= TARGET_BYTES)}  <= {TARGET_BYTES:g} bytes per syscall record on average: "
              f"{worst:.4f} exact on disk (worst side), {worst_file:.4f} file size / records"
              + (f"; poll records alone {poll[1] / poll[0]:.3f}" if poll[0] else ""))
    if idle:
        print(f"  {verdict(st_pct < TARGET_IDLE_PCT)}  idle agent < {TARGET_IDLE_PCT}% CPU: {st_pct:.3f}% in steady "
              f"state ({tot_pct:.3f}% over the whole {idle_s:g} s run including start-up)")
    print(f"\ntotal {time.monotonic() - t_start:.0f} s; load average at the end: {open('/proc/loadavg').read().strip()}")
