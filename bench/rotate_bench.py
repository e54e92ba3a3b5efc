#!/usr/bin/python3
"""The agent's cost of rotating (--rotate, issue 22): the same workload
recorded into one file and into rotating files, side by side in ONE run, in
alternating blocks (the order rotates each block) so drift hits every side
equally.

The workload is tests/workloads/syscall_burst.c (BUILD_DIR/tests/syscall_burst)
making N poll() calls with a zero timeout as fast as it can (the same N on
every side), started with --wait; the agent is attached to its pid (--pid P, not
`-- CMD`), so wait4()'s rusage of the agent is the agent's own CPU (its
start-up included, the same on every side), and it stops by itself once the
burst has exited. Sides:

  one-file   probe-agent --events syscalls --ring-buffer 64M --pid P -o F
  rotate-1s  the same with --rotate 1s (a file a second: what the service does,
             at a much higher rate than its 60 s)
  rotate-4M  the same with --rotate 4M (a seam every ~4 MiB: several a second
             at this rate, the worst case)

Each run's files are read frame by frame (proto/FORMAT.md) and their last
record decoded with the generated probe_pb2: records written, sampled and
lost summed over the Trailers of every file (EVENT_KIND_SYSCALL),
checked produced == written + sampled_out + lost per file and equal to the
calls the burst made (its polls + its one eventfd2). Reported per side: the
median of agent CPU per million records written, records written per second
of the run, files, and the ratio to one-file.

Usage: /usr/bin/python3 bench/rotate_bench.py BUILD_DIR [--events N] [--blocks N]
  defaults: 2 000 000 calls per run, 5 blocks (~2 min).
Exit status: non-zero only when something failed to run or an accounting
check failed."""
import os, statistics, subprocess, sys, tempfile, time

from benchlib import arg, build_dir, log, report_failures, rotated, run_main, wait_for

BUILD = build_dir()
sys.path[:0] = [os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "python"),
                os.path.join(BUILD, "python")]
import probe_trace  # noqa: E402

AGENT = os.path.join(BUILD, "agent", "probe-agent")
BURST = os.path.join(BUILD, "tests", "syscall_burst")
EVENTS = arg("--events", 2000000)
BLOCKS = arg("--blocks", 5)
SIDES = {"one-file": [], "rotate-1s": ["--rotate", "1s"], "rotate-4M": ["--rotate", "4M"]}
TMP = tempfile.mkdtemp(prefix="probe-rotate-bench-")
SYSCALL = 2  # EVENT_KIND_SYSCALL


def last_record(path):
    """The file's last whole record (frames skipped: 0x0a varint(len) body)."""
    data = open(path, "rb").read()
    i, last = 0, None
    while i < len(data) and data[i] == 0x0A:
        i += 1
        n = shift = 0
        while True:
            c = data[i]
            i += 1
            n |= (c & 0x7F) << shift
            shift += 7
            if c < 0x80:
                break
        if i + n > len(data):
            break
        last = (i, i + n)
        i += n
    return probe_trace.probe_pb2.Record.FromString(data[last[0]:last[1]]) if last else None


def one_run(side, n):
    out_dir = os.path.join(TMP, f"{side}-{n}")
    os.mkdir(out_dir)
    base = os.path.join(out_dir, "run.ptrace")
    burst = subprocess.Popen([BURST, "--wait", "--kind", "poll0", "--events", str(EVENTS)],
                             stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    line = burst.stdout.readline()
    pid = int(line.split("pid=")[1])
    agent = subprocess.Popen([AGENT, "--events", "syscalls", "--ring-buffer", "64M", "--pid",
                              str(pid), "-o", base] + SIDES[side],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    first = base + (".000001.part" if SIDES[side] else "")
    wait_for(lambda: os.path.exists(first) and os.path.getsize(first) > 0, agent, "probe-agent")
    t0 = time.monotonic()
    burst.stdin.write("go\n")
    burst.stdin.flush()
    counts = dict(kv.split("=", 1) for kv in burst.stdout.readline().split()[1:])
    burst.wait()
    _, status, ru = os.wait4(agent.pid, 0)
    wall = time.monotonic() - t0
    agent.returncode = os.waitstatus_to_exitcode(status)
    err = agent.stderr.read()
    if agent.returncode != 0:
        raise RuntimeError(f"{side}: probe-agent exited {agent.returncode}: {err.strip()}")
    files = sorted(f for f in os.listdir(out_dir))
    written = produced = 0
    checks = []
    for f in files:
        last = last_record(os.path.join(out_dir, f))
        trailer = last.trailer if last is not None and last.HasField("trailer") else None
        if trailer is None:
            checks.append(f"{side}: {f} has no trailer")
            continue
        for c in trailer.counters:
            if c.kind != SYSCALL:
                continue
            lost = c.lost_ring_full + c.lost_decode + c.lost_write + c.lost_table_full
            if c.produced != c.written + c.sampled_out + lost:
                checks.append(f"{side}: {f}: produced {c.produced} != written + sampled + lost")
            written += c.written
            produced += c.produced
    calls = int(counts["polls"]) + int(counts["eventfds"])
    if produced != calls:
        checks.append(f"{side}: produced {produced} over the files != {calls} calls made")
    cpu = ru.ru_utime + ru.ru_stime
    return {"cpu": cpu, "written": written, "files": len(files), "wall": wall,
            "rate": int(counts["events_per_s"])}, checks


def main():
    results = {s: [] for s in SIDES}
    failures, checks = [], []
    for block in range(BLOCKS):
        for side in rotated(list(SIDES), block):
            try:
                r, c = one_run(side, block)
                results[side].append(r)
                checks += c
                log(f"block {block} {side}: agent cpu {r['cpu']:.2f} s, {r['written']} records, "
                    f"{r['files']} files")
            except Exception as e:  # noqa: BLE001
                failures.append(f"{side} block {block}: {e}")
    print(f"rotate_bench: syscall_burst poll0, {EVENTS} calls per run, agent --events syscalls "
          f"--ring-buffer 64M --pid P, {BLOCKS} blocks, medians")
    print(f"{'side':<10} {'files':>6} {'records':>10} {'records/s':>10} {'burst calls/s':>13} "
          f"{'agent cpu s':>11} {'cpu ns/record':>13} {'vs one-file':>11}")
    base = None
    for side, runs in results.items():
        if not runs:
            continue
        files = statistics.median(r["files"] for r in runs)
        records = statistics.median(r["written"] for r in runs)
        per_s = statistics.median(r["written"] / r["wall"] for r in runs)
        calls = statistics.median(r["rate"] for r in runs)
        cpu = statistics.median(r["cpu"] for r in runs)
        per_k = statistics.median(r["cpu"] / r["written"] * 1e9 for r in runs if r["written"])
        base = base or per_k
        print(f"{side:<10} {files:>6.0f} {records:>10.0f} {per_s:>10.0f} {calls:>13.0f} "
              f"{cpu:>11.2f} {per_k:>13.3f} {per_k / base:>10.3f}x")
    return report_failures(failures, checks)


if __name__ == "__main__":
    run_main(main, TMP)
