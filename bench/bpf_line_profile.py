#!/usr/bin/env python3
"""Where W1's CPU goes while a tracer is on it, down to the source line of
each BPF program: perf samples of CPU 0 (`perf record -C 0`) while the W1
ping-pong (eventfd + select, both threads on CPU 0) runs, those taken in
W1's own threads kept, and each one in a program of the tracer mapped to
the source line its JIT offset falls in (bench/bpf/jited_lines.c: the
kernel's JIT line table, which Debian's bpftool, built without libbfd,
cannot print).

Figures are ns of W1's CPU per W1 call (the calls W1 counted itself: 6 a
round trip, 2 pselect6, 2 read, 2 write): samples x the sampling period /
calls; CPU 0's idle time and other tasks are shown apart. One run of a side
moves by ~10 ns per item from the next: compare within one run, and
repeat before trusting a difference that small. --reps runs every side
in turn N times (default 3) and sums their samples and calls, so that a
slow minute of the host weighs on every side alike. The machines have no PMU, so
perf samples with cpu-clock, an hrtimer: time with interrupts off (the
sched_switch programs run inside __schedule with them off) is charged to
where they come back on (finish_task_switch, _raw_spin_unlock_irq), and a
sample lands a few instructions past a slow one. Read lines as "about
here", and compare two tracers only within one run of this script.

Usage: bench/bpf_line_profile.py [--reps N] [--rounds N] [--freq HZ] [--top N]
                                 LABEL='AGENT [ARGS]' | LABEL=cmp:MODE | LABEL=- [...]
  LABEL=- profiles W1 untraced, for its own kernel time beside the others;
  LABEL=cmp:MODE runs bench/bpf/tp_cmp_loader.c in MODE (tp_btf-timer: the
  least that times each call; tp_btf-empty: empty programs; built by
  `bench/syscall_bench.py BUILD` into BENCH_BIN).
  e.g. bench/bpf_line_profile.py un=- 'sys=build/agent/probe-agent --events process,syscalls'
  with BENCH_BIN=dir holding pingpong (default build/bench)."""
import collections, bisect, os, re, shlex, shutil, signal, subprocess, sys, tempfile, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from benchlib import bpf_prog_stats, bpf_progs_shown

if "-h" in sys.argv[1:] or "--help" in sys.argv[1:]:
    print(__doc__.strip())
    sys.exit(0)
HERE = os.path.dirname(os.path.abspath(__file__))
args = sys.argv[1:]
opts = {"--rounds": 300000, "--freq": 10000, "--top": 25, "--reps": 3}
while args and args[0] in opts:
    opts[args[0]] = int(args[1])
    args = args[2:]
sides = [a.split("=", 1) for a in args]
if not sides or any(len(s) != 2 for s in sides):
    sys.exit("bpf_line_profile: give LABEL='AGENT [ARGS]', LABEL=cmp:MODE or LABEL=- (see --help)")
bindir = os.environ.get("BENCH_BIN", "build/bench")
if not shutil.which("perf"):
    sys.exit("bpf_line_profile: needs perf (Debian: linux-perf)")
tmp = tempfile.mkdtemp(prefix="bpf_lines_")


def build_jited_lines():
    cc = shutil.which("gcc") or shutil.which("cc") or "clang"
    out = os.path.join(tmp, "jited_lines")
    libbpf = subprocess.run(["pkg-config", "--cflags", "--libs", "libbpf"], capture_output=True,
                            text=True).stdout.split() or ["-lbpf", "-lelf", "-lz"]
    r = subprocess.run([cc, "-O2", "-Wall", os.path.join(HERE, "bpf/jited_lines.c"), "-o", out,
                        *libbpf], capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit("bpf_line_profile: jited_lines did not build:\n" + r.stderr)
    return out


def prog_ids(pid):
    """The ids of the BPF programs process pid holds."""
    return set(bpf_prog_stats(pid))


def line_tables(jited_lines, ids):
    """{program tag suffix: (offsets, lines)} for each program that has one;
    perf names a JIT'd program bpf_prog_<tag>_<name>."""
    shown = bpf_progs_shown()
    tables = {}
    for i in ids:
        p = shown.get(i)
        if not p or "name" not in p: continue
        r = subprocess.run([jited_lines, str(i)], capture_output=True, text=True)
        if r.returncode != 0: continue
        rows = [l.split(" ", 2) for l in r.stdout.splitlines()]
        tables[f"bpf_prog_{p['tag']}_{p['name']}"] = (
            p["name"], [int(x[0], 16) for x in rows], [" ".join(x[1:]).strip() for x in rows])
    return tables


def profile(label, cmd, jited_lines, live):
    """perf samples of CPU 0 over one W1 run under cmd (None: untraced),
    the line tables of cmd's programs, W1's pid and the calls it counted.
    Every process started is in live until it has ended."""
    pp = subprocess.Popen([os.path.join(bindir, "pingpong"), "--rounds", str(opts["--rounds"]),
                           "--cpu", "0", "--wait"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                          text=True)
    live.append(pp)
    pp.stdout.readline()
    ag, tables = None, {}
    if cmd and cmd.startswith("cmp:"):
        # bench/bpf/tp_cmp_loader.c, e.g. cmp:tp_btf-timer (the least that
        # times each call) or cmp:tp_btf-empty (empty programs).
        ag = subprocess.Popen([os.path.join(bindir, "tp_cmp_loader"),
                               os.path.join(bindir, "syscalls_tp_cmp.bpf.o"), cmd[4:], "--pid",
                               str(pp.pid)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        live.append(ag)
        for _ in range(200):
            if prog_ids(ag.pid): break
            time.sleep(0.05)
        time.sleep(0.5)  # attached after loading
    elif cmd:
        binary, *own = shlex.split(cmd)
        out = os.path.join(tmp, "r.ptrace")
        ag = subprocess.Popen([binary, "--pid", str(pp.pid), "--force", "-o", out] + own,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        live.append(ag)
        for _ in range(200):
            if os.path.exists(out) and os.path.getsize(out) > 0: break
            time.sleep(0.05)
        time.sleep(0.3)
    if ag:
        tables = line_tables(jited_lines, prog_ids(ag.pid))
    data = os.path.join(tmp, f"{label}.perf")
    perf = subprocess.Popen(["perf", "record", "-q", "-F", str(opts["--freq"]), "-C", "0", "-o", data],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    live.append(perf)
    time.sleep(0.5)  # perf is sampling
    t0 = time.monotonic()
    pp.stdin.write("go\n"); pp.stdin.flush()
    out, _ = pp.communicate()
    seconds = time.monotonic() - t0
    for p in (perf, ag):
        if p:
            p.send_signal(signal.SIGINT); p.wait()
    calls = int(re.search(r"^syscalls=(\d+)$", out, re.M).group(1))
    script = subprocess.run(["perf", "script", "-i", data, "-F", "pid,ip,sym,symoff,dso"],
                            capture_output=True, text=True).stdout
    return script, tables, seconds, pp.pid, calls


# Kernel symbols by what a tracer pays them for; the untraced side shows
# the kernel's own share of the same symbols (select reads the clock too).
GROUPS = {
    "clock reads": ("read_tsc", "ktime_get_mono_fast_ns"),
    "user-memory reads": ("copy_from_user_nofault", "bpf_probe_read_user", "nmi_uaccess_okay"),
    "task storage helper": ("bpf_task_storage_get_recur", "bpf_task_storage_get"),
    "reaching the program": ("bpf_trace_run1", "bpf_trace_run2", "bpf_trace_run3", "bpf_trace_run4",
                             "its_return_thunk", "__x86_indirect_thunk_rax", "__bpf_prog_enter_recur",
                             "__bpf_prog_exit_recur", "migrate_disable", "migrate_enable"),
    "ring buffer": ("bpf_ringbuf_output", "__bpf_ringbuf_reserve", "bpf_ringbuf_submit",
                    "bpf_ringbuf_reserve", "bpf_ringbuf_commit", "bpf_ringbuf_query",
                    "irq_work_queue"),
}


# perf script -F pid,ip,sym,symoff,dso: "  PID  IP  SYMBOL+0xOFF (DSO)";
# C++ symbols may hold spaces, an unknown one is "[unknown]".
SAMPLE = re.compile(r"^\s*(\d+)\s+[0-9a-f]+\s+(.*?)\s+\((.*)\)$")


def tally(script, tables, pid):
    """W1's samples (those of process pid) by symbol, by program and by
    (program, line); how many of them fell in W1's own user-space code; and
    the other samples of CPU 0 (idle, other tasks)."""
    syms, progs, lines = collections.Counter(), collections.Counter(), collections.Counter()
    total = user = other = 0
    for row in script.splitlines():
        m = SAMPLE.match(row)
        if not m: continue
        if int(m.group(1)) != pid:
            other += 1
            continue
        total += 1
        at, dso = m.group(2), m.group(3)
        sym, _, off = at.partition("+0x")
        if not dso.startswith("[") and not sym.startswith("bpf_prog_"):
            user += 1  # a file, not [kernel.kallsyms], a module's [name] or [unknown]
        syms[sym] += 1
        if sym in tables and off:
            name, offsets, text = tables[sym]
            i = bisect.bisect_right(offsets, int(off, 16)) - 1
            progs[name] += 1
            lines[(name, text[i] if i >= 0 else "?")] += 1
    return total, user, other, syms, progs, lines


live = []
try:
    jited_lines = build_jited_lines()
    period_ns = 1e9 / opts["--freq"]
    zero = lambda: [0, 0, 0, collections.Counter(), collections.Counter(), collections.Counter(), 0, 0.0]
    sums = {label: zero() for label, _ in sides}
    for rep in range(opts["--reps"]):
        for label, cmd in sides:
            script, tables, seconds, pid, calls = profile(label, None if cmd == "-" else cmd,
                                                          jited_lines, live)
            acc = sums[label]
            for i, part in enumerate(tally(script, tables, pid)):
                acc[i] += part
            acc[6] += calls
            acc[7] += seconds
    for label, cmd in sides:
        total, user, other, syms, progs, lines, calls, seconds = sums[label]
        per_call = lambda n: n * period_ns / calls
        # The same user-space instructions under every side: when this
        # moves, the machine's speed moved (a third within minutes, the
        # host's) or the tracer slowed W1's own code (its caches).
        print(f"\n== {label}: {cmd}")
        print(f"   W1: {calls} calls in {seconds * 1e3:.0f} ms ({opts['--reps']} runs); its CPU "
              f"{per_call(total):.0f} ns per call ({total} samples at {opts['--freq']} Hz), of which "
              f"its own user-space code {per_call(user):.1f}; CPU 0 idle or elsewhere "
              f"{per_call(other):.0f}")
        print(f"   {'ns/call':>8} {'share':>6}  symbol")
        for sym, n in syms.most_common(opts["--top"]):
            print(f"   {per_call(n):8.1f} {100 * n / total:5.1f}%  {sym}")
        print(f"   {'ns/call':>8}  kernel work done for the tracer (and by the kernel itself)")
        for group, members in GROUPS.items():
            n = sum(syms[m] for m in members)
            print(f"   {per_call(n):8.1f}  {group}: {', '.join(m for m in members if syms[m])}")
        print(f"   {per_call(sum(progs.values())):8.1f}  the programs' own code")
        for name, n in progs.most_common():
            print(f"\n   program {name}: {per_call(n):.1f} ns per call; its lines of 1% or more:")
            for (prog, text), k in lines.most_common():
                if prog != name or k * 100 < n: continue
                print(f"   {per_call(k):8.1f} {100 * k / n:5.1f}%  {text[:100]}")
finally:
    for p in live:
        if p.poll() is None:
            p.kill()
            p.wait()
    shutil.rmtree(tmp, ignore_errors=True)
