"""One run of each throughput_bench.py side: the syscall burst untraced, traced
by probe-agent (its CPU, file and accounting), or by bpftrace; the idle agent;
perf's top symbols."""
import os, re, signal, subprocess, time

from benchlib import wait_for
from proc_cpu import cpu_ns, wait_rusage
from record_scan import scan_file
from throughput_settings import RING, SIDES, agent, burst, check_failures, idle_s, tmp


def file_has(path, text):
    try:
        with open(path, "rb") as f:
            return text.encode() in f.read(4096)
    except FileNotFoundError:
        return False


seq = 0  # numbers the runs' files


def start_burst(threads, kind, n):
    p = subprocess.Popen([burst, "--events", str(n), "--threads", str(threads), "--kind", kind, "--wait"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline()
    if not line.startswith("ready"):
        p.kill()
        p.wait()
        raise RuntimeError(f"syscall_burst: expected 'ready', got {line!r}")
    return p


def finish_burst(p):
    p.stdin.write("go\n")
    p.stdin.flush()
    p.stdin.close()
    out = p.stdout.read()
    p.wait()
    if p.returncode != 0:
        raise RuntimeError(f"syscall_burst exited with {p.returncode}")
    kv = dict(re.findall(r"(\w+)=([\d.]+)", out))
    if "events" not in kv:
        raise RuntimeError(f"syscall_burst printed {out!r}")
    return {k: float(v) if "." in v else int(v) for k, v in kv.items()}


def run_untraced(threads, kind, n):
    return {"burst": finish_burst(start_burst(threads, kind, n))}


def run_probe(threads, kind, n, perf=0.0):
    global seq
    seq += 1
    out = os.path.join(tmp, f"probe.{seq}.ptrace")
    log_path = os.path.join(tmp, f"probe.{seq}.log")
    b = start_burst(threads, kind, n)
    logf = open(log_path, "w")
    ag = subprocess.Popen([agent, "--events", "syscalls", "--ring-buffer", RING, "--pid", str(b.pid), "-o", out],
                          stdout=logf, stderr=logf)
    try:
        wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 0, ag, "probe-agent")
    except Exception:
        b.kill()
        b.wait()
        if ag.poll() is None:
            ag.kill()
            ag.wait()
        raise
    cpu_ready = cpu_ns(ag.pid)
    perf_proc = None
    if perf:
        perf_data = os.path.join(tmp, "perf.data")
        perf_proc = subprocess.Popen(["perf", "record", "-g", "-F", "999", "-p", str(ag.pid), "-o", perf_data,
                                      "--", "sleep", str(perf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        time.sleep(0.3)
    t_go = time.monotonic()
    res = {"burst": finish_burst(b)}
    cpu_total, by_itself = wait_rusage(ag, 30, "probe-agent")
    res["tracer_done_s"] = time.monotonic() - t_go
    logf.close()
    if perf_proc:
        perf_proc.wait()
        res["perf_data"] = perf_data
    text = open(log_path, errors="replace").read()
    if ag.returncode != 0:
        raise RuntimeError(f"probe-agent exited with {ag.returncode}: {text.strip()[-300:]}")
    res["stopped_by_itself"] = by_itself
    res["agent_cpu_total_ns"] = cpu_total
    res["agent_cpu_ns"] = cpu_total - cpu_ready if cpu_ready is not None else None
    res["agent_cpu_startup_ns"] = cpu_ready
    m = re.search(r"(\d+) syscall records \((\d+) calls\)", text)
    res["stderr_written"], res["stderr_calls"] = (int(m.group(1)), int(m.group(2))) if m else (None, None)
    m = re.search(r"(\d+) events lost", text)
    res["stderr_lost"] = int(m.group(1)) if m else 0
    res["file"] = scan_file(out)
    os.unlink(out)
    c = res["file"]["counters"]
    made = res["burst"]["events"] + res["burst"]["eventfds"]
    if c is None:
        check_failures.append(f"run {seq}: no trailer with syscall counters in the file")
    else:
        lost = sum(v for k, v in c.items() if k.startswith("lost_"))
        sampled = c.get("sampled_out", 0)
        res["lost"], res["written"], res["produced"] = lost, c.get("written", 0), c.get("produced", 0)
        if res["produced"] != res["written"] + sampled + lost:
            check_failures.append(f"run {seq}: produced {res['produced']} != written {res['written']} + sampled "
                                  f"{sampled} + lost {lost}")
        if res["produced"] != made:
            check_failures.append(f"run {seq}: produced {res['produced']} != calls made {made}")
        if res["written"] != res["file"]["records"]:
            check_failures.append(f"run {seq}: trailer says written {res['written']}, file has "
                                  f"{res['file']['records']} syscall records")
    return res


def run_bpftrace(threads, kind, n):
    global seq
    seq += 1
    out = os.path.join(tmp, f"bpftrace.{seq}.out")
    log_path = os.path.join(tmp, f"bpftrace.{seq}.log")
    b = start_burst(threads, kind, n)
    ready = os.path.join(tmp, f"bpftrace.{seq}.ready")
    # BEGIN runs once every probe is attached. Its printf would sit in the
    # buffer of the -o file, so it touches a file instead (system(): --unsafe).
    prog = (f'BEGIN {{ system("touch {ready}"); }} '
            f'tracepoint:syscalls:sys_exit_poll /pid == {b.pid}/ '
            '{ printf("%d %d %lld\\n", pid, tid, args->ret); }')
    logf = open(log_path, "w")
    bt = subprocess.Popen(["bpftrace", "--unsafe", "-o", out, "-e", prog], stdout=logf, stderr=logf)
    try:
        wait_for(lambda: os.path.exists(ready), bt, "bpftrace", timeout=60)
    except Exception:
        b.kill()
        b.wait()
        if bt.poll() is None:
            bt.kill()
            bt.wait()
        raise
    t_go = time.monotonic()
    res = {"burst": finish_burst(b)}
    # bpftrace keeps printing what is still in its perf buffers: done when the
    # file has not grown for 0.5 s.
    size, last_change = (os.path.getsize(out) if os.path.exists(out) else 0), time.monotonic()
    while time.monotonic() - last_change < 0.5:
        time.sleep(0.02)
        s = os.path.getsize(out) if os.path.exists(out) else 0
        if s != size:
            size, last_change = s, time.monotonic()
    res["tracer_done_s"] = last_change - t_go
    bt.send_signal(signal.SIGINT)
    try:
        bt.wait(timeout=30)
    except subprocess.TimeoutExpired:
        bt.kill()
        bt.wait()
        raise RuntimeError("bpftrace did not stop on SIGINT")
    logf.close()
    prefix = f"{res['burst']['pid']} ".encode()
    lines = 0
    with open(out, "rb") as f:
        for line in f:
            if line.startswith(prefix):
                lines += 1
    text = open(log_path, errors="replace").read() + open(out, errors="replace").read()[-20000:]
    res["bpftrace_reported_lost"] = sum(int(x) for x in re.findall(r"Lost (\d+) events", text))
    res["written"] = lines
    res["lost"] = res["burst"]["polls"] - lines
    os.unlink(out)
    return res


def run_side(side, n, perf=0.0):
    threads, kind, tracer = SIDES[side]
    if tracer is None:
        return run_untraced(threads, kind, n)
    if tracer == "probe":
        return run_probe(threads, kind, n, perf)
    return run_bpftrace(threads, kind, n)


def idle_agent():
    sleeper = subprocess.Popen(["sleep", str(int(idle_s) + 60)])
    out = os.path.join(tmp, "idle.ptrace")
    logf = open(os.path.join(tmp, "idle.log"), "w")
    try:
        t0 = time.monotonic()
        ag = subprocess.Popen([agent, "--pid", str(sleeper.pid), "-d", str(idle_s), "-o", out],
                              stdout=logf, stderr=logf)
        wait_for(lambda: os.path.exists(out) and os.path.getsize(out) > 0, ag, "probe-agent (idle)")
        t1, c1 = time.monotonic(), cpu_ns(ag.pid)
        time.sleep(max(0.5, idle_s - 1.5 - (t1 - t0)))
        t2, c2 = time.monotonic(), cpu_ns(ag.pid)
        total, _ = wait_rusage(ag, idle_s + 30, "probe-agent (idle)")
        t3 = time.monotonic()
    finally:
        sleeper.kill()
        sleeper.wait()
        logf.close()
    return {"wall_s": t3 - t0, "total_ns": total, "startup_ns": c1, "steady_ns": c2 - c1, "steady_s": t2 - t1}


def top_symbols(perf_data, n=25):
    r = subprocess.run(["perf", "report", "-i", perf_data, "--no-children", "--stdio", "--percent-limit", "1",
                        "--sort", "dso,symbol", "-g", "none"], capture_output=True, text=True)
    rows = [" ".join(l.split()).replace(" - -", "")[:140] for l in r.stdout.splitlines()
            if l.strip() and not l.startswith("#")]
    return rows[:n]
