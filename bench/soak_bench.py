#!/usr/bin/env python3
"""Soak: probe-agent (all families: process, syscalls, wakeups) attached with
--pid to a steady workload for M minutes; does its memory grow, and what does
it cost at a steady ~10k traced events/s?

The workload is a small Python loop (inline below): one eventfd, and every
10 ms a batch of (write to the eventfd, select() on it with a zero timeout,
read it) triples, then a sleep to the next tick, so each triple is 3 traced
syscall records and each tick adds a wakeup record; the batch size is set from
--rate (default 10 000 events/s). It starts only once the agent is ready (the
record file has its header), so the eventfd is created under tracing.

The agent's VmRSS (/proc/PID/status) and CPU time (utime+stime from
/proc/PID/stat, clock ticks) are sampled every 5 s. After a 30 s warm-up the
run is measured for M minutes, then the agent is stopped with SIGINT (it
writes its trailer) and the workload ended. Reported: RSS at the end of the
warm-up, at the end, growth, max; the agent's CPU % of one CPU over the
measured span; and the traced event rate from the file's trailer counters
(probe-report --json FILE, its last line: produced and written summed over
kinds, divided by trailer time - header ready time).

Targets: RSS growth < 1 MB over the run, CPU < 1 % of one CPU, at a traced
rate of about 10k events/s (the rate is reported; a rate far from the target
makes the CPU verdict meaningless and is said so).

Usage: bench/soak_bench.py BUILD_DIR [--minutes M] [--rate N] [--warmup S] [--keep]
  defaults: 5 minutes, 10000 events/s, 30 s warm-up. Run by hand (not in make
  bench): it takes M minutes + 30 s. --keep keeps the record file.
Exit status: non-zero only when something failed to run; targets are
reported as PASS/MISS."""
import json, os, shutil, signal, subprocess, sys, tempfile, time

from benchlib import arg, build_dir, log, verdict, wait_for

build = build_dir()
minutes = arg("--minutes", 5.0, float)
rate = arg("--rate", 10000, int)
warmup = arg("--warmup", 30.0, float)
SAMPLE_S = 5.0
agent = os.path.join(build, "agent/probe-agent")
report = os.path.join(build, "report/probe-report")
tmp = tempfile.mkdtemp(prefix="probe_soak_")
out = os.path.join(tmp, "soak.ptrace")

TARGET_RSS_GROWTH_KB = 1024
TARGET_CPU_PCT = 1.0

TICK_S = 0.01
# 3 syscall records per triple, ~1 wakeup record per tick.
PER_TICK = max(1, round((rate * TICK_S - 1) / 3))

WORKLOAD = r"""
import os, select, sys, time
per_tick, tick = int(sys.argv[1]), float(sys.argv[2])
sys.stdin.readline()  # go: the agent is attached
fd = os.eventfd(0, os.EFD_NONBLOCK)
nxt = time.monotonic()
while True:
    for _ in range(per_tick):
        os.eventfd_write(fd, 1)
        select.select([fd], [], [], 0)
        os.eventfd_read(fd)
    nxt += tick
    d = nxt - time.monotonic()
    if d > 0:
        time.sleep(d)
    else:
        nxt = time.monotonic()
"""


def rss_kb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return None


def cpu_s(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    for exe in (agent, report):
        if not os.access(exe, os.X_OK):
            log(f"soak_bench: {exe} missing: build first (make build)")
            return 2
    wl = subprocess.Popen([sys.executable, "-c", WORKLOAD, str(PER_TICK), str(TICK_S)],
                          stdin=subprocess.PIPE, text=True)
    agent_log = open(os.path.join(tmp, "agent.log"), "w")
    ag = subprocess.Popen([agent, "--pid", str(wl.pid), "-o", out], stdout=agent_log, stderr=agent_log)
    samples = []  # (t, rss_kb, cpu_s)
    try:
        wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 0, ag, "probe-agent", timeout=60)
        wl.stdin.write("go\n")
        wl.stdin.flush()
        t0 = time.monotonic()
        log(f"soak_bench: agent {ag.pid} attached to workload {wl.pid} "
            f"({PER_TICK} eventfd write+select+read per {TICK_S * 1000:.0f} ms tick, ~{rate}/s); "
            f"{warmup:.0f} s warm-up, then {minutes:g} min")
        end = t0 + warmup + minutes * 60
        nxt = t0
        while True:
            now = time.monotonic()
            if ag.poll() is not None:
                raise RuntimeError(f"probe-agent exited with {ag.returncode} during the run")
            if wl.poll() is not None:
                raise RuntimeError(f"workload exited with {wl.returncode} during the run")
            samples.append((now - t0, rss_kb(ag.pid), cpu_s(ag.pid)))
            if now >= end:
                break
            nxt = min(nxt + SAMPLE_S, end)
            time.sleep(max(0.0, nxt - time.monotonic()))
        ag.send_signal(signal.SIGINT)
        ag.wait(timeout=30)
    finally:
        if ag.poll() is None:
            ag.kill()
            ag.wait()
        wl.kill()
        wl.wait()
        agent_log.close()
    if ag.returncode != 0:
        log(f"soak_bench: probe-agent exited with {ag.returncode}: {open(agent_log.name).read().strip()}")
        return 1

    # Traced rate from the trailer.
    r = subprocess.run([report, "--json", "--no-progress", out], capture_output=True, text=True)
    lines = [l for l in r.stdout.splitlines() if l.strip()]
    if r.returncode != 0 or not lines:
        log(f"soak_bench: probe-report failed ({r.returncode}): {r.stderr.strip()}")
        return 1
    header = json.loads(lines[0]).get("header", {})
    trailer = json.loads(lines[-1]).get("trailer")
    if trailer is None:
        log("soak_bench: the file's last record is not a trailer")
        return 1
    span_s = (int(trailer["time_ns"]) - int(header.get("ready_time_ns", header.get("start_time_ns")))) / 1e9
    by_kind = {c["kind"].replace("EVENT_KIND_", "").lower(): c for c in trailer.get("counters", [])}
    produced = sum(int(c.get("produced", 0)) for c in by_kind.values())
    written = sum(int(c.get("written", 0)) for c in by_kind.values())
    lost = produced - written

    # Memory and CPU over the measured span (after the warm-up).
    measured = [s for s in samples if s[0] >= warmup - 0.5]
    first, last = measured[0], measured[-1]
    rss_start, rss_end = first[1], last[1]
    growth = rss_end - rss_start
    rss_max = max(s[1] for s in samples)
    rss_max_measured = max(s[1] for s in measured)
    cpu_pct = 100.0 * (last[2] - first[2]) / (last[0] - first[0])
    cpu_pct_all = 100.0 * samples[-1][2] / samples[-1][0] if samples[-1][0] > 0 else 0.0
    ev_rate = written / span_s
    near = 0.8 * rate <= ev_rate <= 1.25 * rate

    print(f"soak: probe-agent (all families) --pid <python eventfd loop>, {warmup:.0f} s warm-up + "
          f"{(last[0] - first[0]) / 60:.2f} min measured, samples every {SAMPLE_S:.0f} s ({len(samples)})")
    print(f"  traced events (trailer, over {span_s:.1f} s from ready to trailer): "
          f"produced {produced}, written {written}, not written {lost}; "
          f"{ev_rate:,.0f} events/s written (target ~{rate:,}/s{'' if near else ', NOT near it'})")
    print("    by kind: " + ", ".join(f"{k} {int(c.get('written', 0))}/{int(c.get('produced', 0))}"
                                      for k, c in by_kind.items()) + " (written/produced)")
    print(f"  RSS: {rss_start} kB after warm-up, {rss_end} kB at end, growth {growth:+d} kB, "
          f"max {rss_max_measured} kB measured ({rss_max} kB incl. warm-up)   "
          f"{verdict(growth < TARGET_RSS_GROWTH_KB)} (growth < 1 MB)")
    print(f"  CPU: {cpu_pct:.2f} % of one CPU over the measured span ({cpu_pct_all:.2f} % incl. warm-up and "
          f"start-up; utime+stime, {1000 / os.sysconf('SC_CLK_TCK'):.0f} ms ticks)   "
          f"{verdict(cpu_pct < TARGET_CPU_PCT and near)} (< 1 % at ~10k events/s)")
    print("  RSS samples (s: kB): " + " ".join(f"{s[0]:.0f}:{s[1]}" for s in samples))
    size = os.path.getsize(out) / 1e6
    if "--keep" in sys.argv:
        print(f"  file: {out} ({size:.1f} MB)")
    else:
        shutil.rmtree(tmp, ignore_errors=True)
        print(f"  file: {size:.1f} MB (removed; --keep keeps it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
