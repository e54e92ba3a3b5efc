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
import os, re, shutil, signal, statistics, subprocess, sys, tempfile, time

from benchlib import (HERE, ROOT, arg, build_dir, log, mount_tracefs, report_failures, rotated,
                      run_main, verdict, wait_for)



build = build_dir()
events = arg("--events", 3000000)
blocks = arg("--blocks", 3)
idle_s = arg("--idle-seconds", 10.0, float)
perf_s = arg("--perf", 0.0, float)
# bpftrace slows the workload ~40x (its rate does not depend on the count):
# fewer events keep its runs short.
bt_events = arg("--bpftrace-events", max(1, events // 10))
use_bpftrace = "--no-bpftrace" not in sys.argv
agent = os.path.join(build, "agent/probe-agent")
burst = os.path.join(build, "tests/syscall_burst")
tmp = tempfile.mkdtemp(prefix="probe_tputbench_")
failures = []  # things that failed to run
check_failures = []  # accounting that did not add up
RING = "64M"

TARGET_RATE = 2_000_000
TARGET_VS_BPFTRACE = 5.0
TARGET_BYTES = 32.0
TARGET_IDLE_PCT = 0.5

# side -> (threads, kind, tracer)
SIDES = {
    "untraced": (1, "poll0", None),
    "untraced-2t": (2, "poll0", None),
    "probe": (1, "poll0", "probe"),
    "probe-2t": (2, "poll0", "probe"),
    "probe-efd-2t": (2, "eventfd", "probe"),
    "bpftrace": (1, "poll0", "bpftrace"),
}



# ---------------------------------------------------------------- tracefs


# ---------------------------------------------------------------- CPU time
def cpu_ns(pid):
    """CPU time of every live thread of pid, ns (se.sum_exec_runtime, µs
    precision); falls back to /proc/PID/stat utime+stime (clock ticks)."""
    total, found = 0.0, False
    try:
        for tid in os.listdir(f"/proc/{pid}/task"):
            try:
                with open(f"/proc/{pid}/task/{tid}/sched") as f:
                    for line in f:
                        if line.startswith("se.sum_exec_runtime"):
                            total += float(line.split(":")[1]) * 1e6  # ms -> ns
                            found = True
                            break
            except FileNotFoundError:
                pass
    except FileNotFoundError:
        return None
    if found:
        return total
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) * 1e9 / os.sysconf("SC_CLK_TCK")
    except (FileNotFoundError, IndexError):
        return None


def wait_rusage(proc, timeout, what):
    """Waits for proc with wait4(); returns (cpu_ns, exited_by_itself). SIGINT
    after timeout, SIGKILL 30 s later."""
    deadline = time.monotonic() + timeout
    by_itself = True
    while True:
        pid, status, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid == proc.pid:
            proc.returncode = os.waitstatus_to_exitcode(status)
            return (ru.ru_utime + ru.ru_stime) * 1e9, by_itself
        if time.monotonic() > deadline:
            if not by_itself:
                proc.kill()
                deadline = time.monotonic() + 30
                continue
            by_itself = False
            proc.send_signal(signal.SIGINT)
            deadline = time.monotonic() + 30
        time.sleep(0.005)



def file_has(path, text):
    try:
        with open(path, "rb") as f:
            return text.encode() in f.read(4096)
    except FileNotFoundError:
        return False


# ---------------------------------------------------------------- record file
def varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        if c < 0x80:
            return r, i
        s += 7


def pb_fields(b, start=0, end=None):
    """[(field, wire_type, value, start, end)] of one protobuf message; value
    is an int (varint, fixed) or (start, end) of a length-delimited field."""
    end = len(b) if end is None else end
    out, i = [], start
    while i < end:
        f0 = i
        key, i = varint(b, i)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            ln, i = varint(b, i)
            v = (i, i + ln)
            i += ln
        elif wt == 1:
            v = int.from_bytes(b[i:i + 8], "little")
            i += 8
        elif wt == 5:
            v = int.from_bytes(b[i:i + 4], "little")
            i += 4
        else:
            raise ValueError(f"wire type {wt} at {f0}")
        out.append((field, wt, v, f0, i))
    return out


def proto_fields(message):
    """{number: name} of a message in proto/probe.proto."""
    src = open(os.path.join(ROOT, "proto/probe.proto")).read()
    m = re.search(r"message\s+" + message + r"\s*\{(.*?)\n\}", src, re.S)
    if not m:
        return {}
    return {int(n): name for name, n in re.findall(r"^\s*(?:repeated\s+)?\w+\s+(\w+)\s*=\s*(\d+)\s*;",
                                                 m.group(1), re.M)}


RECORD = {name: num for num, name in proto_fields("Record").items()}
KC = proto_fields("KindCounters")
EVENT_KIND_SYSCALL = 2  # proto/probe.proto EventKind
FIELD_SAMPLE = 20000  # SyscallCall records whose fields are measured


def scan_file(path):
    """Counts and exact bytes of the file's syscall records, the trailer's
    EVENT_KIND_SYSCALL counters, and bytes per SyscallCall field."""
    b = open(path, "rb").read()
    n, i = len(b), 0
    sys_tag = RECORD.get("syscall", 6)
    trailer_tag = RECORD.get("trailer", 2)
    count = frame_bytes = body_bytes = 0
    trailer = None
    fields = {}
    by_sys = {}  # Syscall enum value -> (records, on-disk bytes)
    sampled = 0
    while i < n:
        start = i
        if b[i] != 0x0A:
            raise ValueError(f"{path}: bad frame tag at offset {i}")
        c = b[i + 1]
        if c < 0x80:
            ln, i = c, i + 2
        else:
            ln, i = varint(b, i + 1)
        body = i
        i += ln
        if i > n:
            raise ValueError(f"{path}: truncated record at offset {start}")
        tag = b[body] >> 3 if ln else 0
        if tag == sys_tag:
            count += 1
            frame_bytes += i - start
            body_bytes += ln
            sc = _syscall_of(b, body, i)
            by_sys[sc] = by_sys.get(sc, (0, 0))
            by_sys[sc] = (by_sys[sc][0] + 1, by_sys[sc][1] + i - start)
            if sampled < FIELD_SAMPLE:
                sampled += 1
                fields["(frame: 0x0a + length)"] = fields.get("(frame: 0x0a + length)", 0) + body - start
                (_, _, (s0, s1), f0, _), = pb_fields(b, body, i)
                fields["(Record.syscall tag + length)"] = fields.get("(Record.syscall tag + length)", 0) + s0 - f0
                for field, _, _, a, z in pb_fields(b, s0, s1):
                    name = SC_FIELDS.get(field, str(field))
                    fields[name] = fields.get(name, 0) + z - a
        elif tag == trailer_tag:
            trailer = (body, i)
    counters = None
    if trailer:
        (_, _, (t0, t1), _, _), = pb_fields(b, *trailer)
        for field, wt, v, _, _ in pb_fields(b, t0, t1):
            if KC and field == 2 and wt == 2:  # Trailer.counters
                kc = {KC.get(f, str(f)): val for f, w, val, _, _ in pb_fields(b, *v) if w == 0}
                if kc.get("kind") == EVENT_KIND_SYSCALL:
                    counters = kc
    per_field = {k: v / sampled for k, v in fields.items()} if sampled else {}
    return {"records": count, "frame_bytes": frame_bytes, "body_bytes": body_bytes, "file_bytes": n,
            "counters": counters, "fields": per_field, "field_sample": sampled, "by_syscall": by_sys}


SC_FIELDS = proto_fields("SyscallCall")
SC_SYSCALL_FIELD = {v: k for k, v in SC_FIELDS.items()}.get("syscall", 3)


def _syscall_of(b, body, end):
    """The SyscallCall.syscall enum of the Record at b[body:end] (fast path:
    the fields are written in field-number order)."""
    _, i = varint(b, body)  # Record.syscall key
    _, i = varint(b, i)  # its length
    while i < end:
        key, i = varint(b, i)
        if key & 7 == 0:
            v, i = varint(b, i)
            if key >> 3 == SC_SYSCALL_FIELD:
                return v
        elif key & 7 == 2:
            ln, i = varint(b, i)
            i += ln
        else:
            i += 8 if key & 7 == 1 else 4
    return None


def syscall_names():
    src = open(os.path.join(ROOT, "proto/probe.proto")).read()
    m = re.search(r"enum\s+Syscall\s*\{(.*?)\}", src, re.S)
    return {int(n): name.replace("SYSCALL_", "").lower() for name, n in
            re.findall(r"^\s*(\w+)\s*=\s*(\d+)\s*;", m.group(1), re.M)} if m else {}


def varint_len(v):
    n = 1
    while v >= 0x80:
        v >>= 7
        n += 1
    return n


# ---------------------------------------------------------------- runs
seq = 0


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


# ---------------------------------------------------------------- main

def med(xs):
    return statistics.median(xs) if xs else None


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

    # ---- report
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
    return report_failures(failures, check_failures, check_label="ACCOUNTING")


if __name__ == "__main__":
    run_main(main, tmp)
