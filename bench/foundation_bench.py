#!/usr/bin/env python3
"""Foundation benchmarks, side by side in one run:
  1. agent start-up to ready: header.ready_time_ns minus the time before exec
  2. agent peak RSS (VmHWM) while recording system-wide
  3. wall time of `python3 -c pass` (fork+exec+exit): untraced vs traced
     system-wide, in alternating blocks so drift hits both sides equally
Usage: bench/foundation_bench.py BUILD_DIR [--blocks N] [--per-block N]"""
import json, os, signal, statistics, subprocess, sys, tempfile, time

def arg(name, default):
    return int(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default

build = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "build"
blocks, per_block = arg("--blocks", 10), arg("--per-block", 30)
agent = os.path.join(build, "agent/probe-agent")
report = os.path.join(build, "report/probe-report")
python = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
tmp = tempfile.mkdtemp(prefix="probe_bench_")

def header(path):
    out = subprocess.run([report, "--json", path], capture_output=True, text=True).stdout
    return json.loads(out.splitlines()[0])["header"]

startup = []
for i in range(15):
    f = os.path.join(tmp, f"s{i}.ptrace")
    t0 = time.monotonic_ns()
    subprocess.run([agent, "-o", f, "--", "true"], check=True, stderr=subprocess.DEVNULL)
    startup.append((int(header(f)["ready_time_ns"]) - t0) / 1e6)

def run_python():
    t0 = time.perf_counter_ns()
    subprocess.run([python, "-c", "pass"], check=True)
    return time.perf_counter_ns() - t0

def peak_rss_kb(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])
    return 0

for _ in range(10):
    run_python()  # warm caches
untraced, traced, rss, records = [], [], [], 0
for b in range(blocks):
    untraced += [run_python() for _ in range(per_block)]
    f = os.path.join(tmp, f"all{b}.ptrace")
    p = subprocess.Popen([agent, "-o", f, "--all"], stderr=subprocess.DEVNULL)
    while not os.path.exists(f) or os.path.getsize(f) == 0:
        time.sleep(0.005)
    traced += [run_python() for _ in range(per_block)]
    rss.append(peak_rss_kb(p.pid))
    p.send_signal(signal.SIGINT)
    p.wait()
    out = subprocess.run([report, "--json", f], capture_output=True, text=True).stdout
    records += sum(1 for l in out.splitlines() if '"process"' in l and "python3" in l)

mu, mt = statistics.median(untraced), statistics.median(traced)
print(f"agent start-up to ready: median {statistics.median(startup):.1f} ms "
      f"(min {min(startup):.1f}, max {max(startup):.1f}; target < 50 ms)")
print(f"agent peak RSS recording --all: max {max(rss)/1024:.1f} MiB (target < 20 MiB)")
print(f"python3 -c pass, {len(untraced)} runs each, median wall: untraced {mu/1e6:.3f} ms, "
      f"traced {mt/1e6:.3f} ms, ratio {mt/mu:.4f} (target < 1.01)")
print(f"python3 lifetimes recorded while traced: {records} of {len(traced)}")
