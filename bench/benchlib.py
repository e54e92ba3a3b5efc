"""Pieces every bench script uses: arguments, the build directory, logging,
waiting for a tracer, tracefs, the PASS/MISS verdict, the block order of
side-by-side runs, and the exit with its failures."""
import os, re, shlex, shutil, subprocess, sys, time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

# A bench takes minutes and loads BPF: `--help` prints the script's own text
# and runs nothing (it used to start the whole bench, every option being
# optional). Here, because every bench imports this before it parses.
if "-h" in sys.argv[1:] or "--help" in sys.argv[1:]:
    print((getattr(sys.modules.get("__main__"), "__doc__", None) or "no help text").strip())
    sys.exit(0)


def arg(name, default, conv=int):
    """The value after `name` on the command line, converted, or default."""
    return conv(sys.argv[sys.argv.index(name) + 1]) if name in sys.argv else default


def build_dir():
    """BUILD_DIR, the first argument unless it is an option; default build."""
    first = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith("-") else "build"
    return os.path.abspath(first)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def verdict(ok):
    return "PASS" if ok else "MISS"


def rotated(sides, block):
    """sides in the order for block `block`: each block starts one further, so
    no side always runs first (or always right after a given other)."""
    k = block % len(sides)
    return sides[k:] + sides[:k]


def report_failures(failures, checks=(), check_label="CHECK FAILED"):
    """Prints what failed the run's own checks and what failed to run at all;
    the exit status: 1 if anything did."""
    for c in checks:
        print(f"{check_label}: {c}")
    for f in failures:
        print(f"FAILED TO RUN: {f}")
    return 1 if failures or checks else 0


def run_main(main, tmp):
    """Runs main(), removes the scratch directory tmp whatever happens, and
    exits with main's status."""
    try:
        rc = main()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    sys.exit(rc)


def time_v(cmd, stdout=subprocess.DEVNULL):
    """Runs cmd under /usr/bin/time -v; returns (the CompletedProcess, its
    peak RSS in MiB, its wall-clock seconds). stderr holds cmd's own lines
    followed by time's."""
    r = subprocess.run(["/usr/bin/time", "-v"] + cmd, stdout=stdout, stderr=subprocess.PIPE,
                       text=True)
    rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", r.stderr).group(1)) / 1024
    wall = re.search(r"Elapsed \(wall clock\) time \(h:mm:ss or m:ss\): ([\d:.]+)", r.stderr).group(1)
    parts = [float(p) for p in wall.split(":")]
    secs = parts[-1] + 60 * parts[-2] + (3600 * parts[-3] if len(parts) > 2 else 0)
    return r, rss, secs


def wait_for(cond, proc, what, timeout=30.0, poll=0.005):
    """Waits until cond() holds; raises if proc exits first or time runs out."""
    t0 = time.monotonic()
    while not cond():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode} before it was ready")
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"{what} not ready after {timeout:.0f} s")
        time.sleep(poll)


def tracefs_mounted():
    with open("/proc/mounts") as f:
        return any(l.split()[2] == "tracefs" for l in f if len(l.split()) > 2)


def mount_tracefs(who):
    """tracefs for tools that attach tracepoints by name (it is not mounted at
    boot here). Returns (available, mounted_by_us)."""
    if tracefs_mounted():
        return True, False
    r = subprocess.run(["mount", "-t", "tracefs", "nodev", "/sys/kernel/tracing"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        log(f"{who}: cannot mount tracefs: {r.stderr.strip()}")
        return False, False
    return True, True


def bpf_prog_stats(pid):
    """{prog_id: (run_cnt, run_time_ns)} of the BPF programs process pid
    holds (its /proc fdinfo; the times need kernel.bpf_stats_enabled=1)."""
    out = {}
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            if os.readlink(f"/proc/{pid}/fd/{fd}") != "anon_inode:bpf-prog": continue
            kv = dict(l.split(":", 1) for l in open(f"/proc/{pid}/fdinfo/{fd}") if ":" in l)
            out[int(kv["prog_id"])] = (int(kv.get("run_cnt", 0)), int(kv.get("run_time_ns", 0)))
        except (OSError, KeyError, ValueError):
            pass
    return out


def bpf_progs_shown():
    """{prog_id: bpftool's JSON of it} for every loaded BPF program."""
    import json
    shown = subprocess.run(["bpftool", "-j", "prog", "show"], capture_output=True, text=True).stdout
    return {p["id"]: p for p in json.loads(shown or "[]")}


def tracer_on(spec, pid, tmp, peers, bindir, events="", extra=()):
    """Starts the tracer spec on pid and returns its Popen once its programs
    are attached. spec: cmp:MODE (bench/bpf/tp_cmp_loader.c, e.g.
    cmp:tp_btf-timer, the least that times each call), peer:TOOL (syscount
    -L, runqlat, or bpftrace with one pselect6 entry->exit histogram; peers
    from peer_build.build_peers), or a probe-agent binary with its own
    arguments after it ('build/agent/probe-agent --events process,syscalls'),
    which writes to tmp/r.ptrace."""
    def attached(cmd):
        p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(400):
            if bpf_prog_stats(p.pid): break
            time.sleep(0.05)
        time.sleep(0.5)  # attached after loading
        return p

    if spec.startswith("cmp:"):
        return attached([os.path.join(bindir, "tp_cmp_loader"),
                         os.path.join(bindir, "syscalls_tp_cmp.bpf.o"), spec[4:], "--pid", str(pid)])
    if spec.startswith("peer:"):
        tool = spec[5:]
        if tool == "bpftrace":
            return attached(["bpftrace", "-e",
                             f"tracepoint:syscalls:sys_enter_pselect6 /pid == {pid}/ {{ @s[tid] = nsecs; }} "
                             "tracepoint:syscalls:sys_exit_pselect6 /@s[tid]/ "
                             "{ @h = hist(nsecs - @s[tid]); delete(@s[tid]); }"])
        return attached([peers[tool]] + (["-L"] if tool == "syscount" else []) + ["-p", str(pid)])
    out = os.path.join(tmp, "r.ptrace")
    if os.path.exists(out): os.unlink(out)
    binary, *own = shlex.split(spec)
    cmd = [binary, "--pid", str(pid), "-o", out] + (["--events", events] if events else []) + list(extra) + own
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):  # the header is written once the programs are attached
        if os.path.exists(out) and os.path.getsize(out) > 0: break
        time.sleep(0.05)
    time.sleep(0.2)
    return p
