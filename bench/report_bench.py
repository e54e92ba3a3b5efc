#!/usr/bin/env python3
"""probe-report on a large file: time and peak memory of the summary and of
each export, to show the report streams (memory does not grow with the file).

Makes the file with the real agent: tests/workloads/syscall_burst with
--events N (default 30 M polls, ~0.85 GB at 28 bytes a record) under
`probe-agent --events process,syscalls --ring-buffer 64M`, then runs
probe-report on it under /usr/bin/time -v, once per output, and once on a
file a tenth of the size so the growth of memory with the file shows.

Usage: bench/report_bench.py BUILD_DIR [--events N] [--keep]"""
import os, shutil, subprocess, sys, tempfile

from benchlib import arg, build_dir, log, time_v

build = build_dir()
events = arg("--events", 30_000_000)
agent = os.path.join(build, "agent/probe-agent")
report = os.path.join(build, "report/probe-report")
burst = os.path.join(build, "tests/syscall_burst")
tmp = tempfile.mkdtemp(prefix="probe_reportbench_")


def record(n, path):
    r = subprocess.run([agent, "--events", "process,syscalls", "--ring-buffer", "64M", "-f", "-o",
                        path, "--", burst, "--events", str(n), "--threads", "2", "--kind", "poll0"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"report_bench: agent failed: {r.stderr.strip()}")
    return os.path.getsize(path)


def measure(args):
    r, rss, secs = time_v([report, "--no-progress"] + args)
    return r.returncode, rss, secs


def main():
    if not shutil.which("time") and not os.path.exists("/usr/bin/time"):
        subprocess.run(["apt-get", "install", "-y", "time"], capture_output=True)
    big, small = os.path.join(tmp, "big.ptrace"), os.path.join(tmp, "small.ptrace")
    log(f"report_bench: recording {events:,} and {events // 10:,} polls")
    big_bytes, small_bytes = record(events, big), record(events // 10, small)
    print(f"report_bench: files of {big_bytes / 1e6:.0f} MB and {small_bytes / 1e6:.0f} MB "
          f"(syscall_burst polls, 2 threads)")
    print(f"   {'output':<28} {'small: RSS':>11} {'big: RSS':>10} {'big: time':>10} {'MB/s':>7}")
    outputs = [("summary", []), ("--chrome", ["--chrome", os.path.join(tmp, "t.json")]),
               ("--csv", ["--csv", os.path.join(tmp, "csv")]),
               ("--html", ["--html", os.path.join(tmp, "r.html")]),
               ("--json > /dev/null", ["--json"])]
    worst = 0.0
    for name, extra in outputs:
        rc1, rss_small, _ = measure(extra + [small])
        rc2, rss_big, secs = measure(extra + [big])
        worst = max(worst, rss_big)
        ok = "" if rc1 == 0 and rc2 == 0 else f"  (exit {rc1}/{rc2})"
        print(f"   {name:<28} {rss_small:>9.1f} M {rss_big:>8.1f} M {secs:>9.1f}s "
              f"{big_bytes / 1e6 / max(secs, 1e-9):>7.0f}{ok}")
    print(f"peak RSS {worst:.1f} MiB for a {big_bytes / 1e6:.0f} MB file "
          f"({100 * worst * 1048576 / big_bytes:.1f}% of its size)")
    if "--keep" not in sys.argv:
        shutil.rmtree(tmp, ignore_errors=True)


main()
