#!/usr/bin/env python3
"""Syscall-latency tracing benchmarks, every side measured in ONE run, in
alternating blocks (the order rotates each block) so drift hits all sides
equally:

  1. ping-pong: eventfd + select between two threads pinned to one CPU
     (bench/pingpong.c), wall time of the ping-pong loop untraced vs traced by
     probe-agent --pid (defaults: per-call records + histograms), by
     probe-agent with a ring buffer big enough to lose nothing, by the
     comparison loader in tp_btf and in per-syscall-tracepoint mode, by
     bpftrace (entry->exit histogram of pselect6) and by libbpf-tools
     `syscount -L`.
  2. untargeted: a tight syscall loop (bench/syscall_loop.c) in a process the
     tracer is NOT targeting (the tracer targets a `sleep`), for getppid (a
     number probe does not trace) and read(/dev/zero, 0 bytes) (a traced one).
  3. per-program cost: one extra pass with kernel.bpf_stats_enabled=1 (not
     used for the ratios: the stats add their own clock reads), giving
     run_time_ns / run_cnt per BPF program of probe and of the tracepoint
     variant (read from the tracer's /proc/PID/fdinfo of its bpf-prog fds).

bench/bpf/syscalls_tp_cmp.bpf.c + bench/bpf/tp_cmp_loader.c are the design
comparison: the agent's bpf/syscalls.bpf.c bodies behind tp_btf/sys_enter +
sys_exit (cmp-tp_btf), or behind tracepoint/syscalls/sys_{enter,exit}_NAME
(cmp-tracepoint, 26 programs); the -empty variants attach empty programs at
the same points, which isolates the kernel's dispatch cost from the bodies.

bpftrace, syscount and the tracepoint variant attach `tracepoint/...` and need
tracefs, which is not mounted at boot here: the bench mounts it at
/sys/kernel/tracing if absent and unmounts it at the end.

  4. where the time of a traced call goes: staged copies of bpf/syscalls.bpf.c
     with early returns at successive points, under bpf_stats.

Usage: bench/syscall_bench.py BUILD_DIR [--blocks N] [--rounds N]
           [--loop-iters N] [--no-profile] [--only pingpong|pipe|untargeted] [--per-cpu]
  1b. the same ping-pong over pipes (--pipe): untraced, probe with and without
     the wakeups family, runqlat; cost per scheduler event.
  defaults: 8 blocks, 100000 round trips, 400000 calls per loop (~2.5 min);
  --no-profile skips parts 3 and 4; --per-cpu adds probe-percpu to the ping-pong
  (--ring-buffers per-cpu: one ring per CPU instead of auto's one per 4).
Exit status: non-zero only when something failed to run; targets are
reported as PASS/MISS."""
import os, re, shutil, signal, statistics, subprocess, sys, tempfile, time

from benchlib import (HERE, ROOT, arg, build_dir, log, mount_tracefs, report_failures, rotated,
                      run_main, verdict, wait_for)



build = build_dir()
blocks = arg("--blocks", 8)
rounds = arg("--rounds", 100000)
loop_iters = arg("--loop-iters", 400000)
only = arg("--only", "", str)
profile = "--no-profile" not in sys.argv
agent = os.path.join(build, "agent/probe-agent")
out_dir = os.path.join(build, "bench")
tmp = tempfile.mkdtemp(prefix="probe_sysbench_")
ncpu = os.cpu_count() or 1
PP_CPU, LOOP_CPU = 0, (1 if ncpu > 1 else 0)
failures = []  # things that failed to run



# ---------------------------------------------------------------- building
def build_all():
    os.makedirs(out_dir, exist_ok=True)
    cc = shutil.which("gcc") or shutil.which("cc") or "clang"
    bins = {}

    def run(cmd):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(" ".join(cmd) + "\n" + r.stderr)

    for name, extra in (("pingpong", ["-pthread"]), ("syscall_loop", [])):
        bins[name] = os.path.join(out_dir, name)
        run([cc, "-O2", "-Wall", *extra, os.path.join(HERE, name + ".c"), "-o", bins[name]])
    # The comparison BPF object, compiled like bpf/CMakeLists.txt does.
    try:
        vmlinux_dir = os.path.join(build, "bpf")
        if not os.path.exists(os.path.join(vmlinux_dir, "vmlinux.h")):
            raise RuntimeError(f"{vmlinux_dir}/vmlinux.h missing (build the project first)")
        bins["cmp_obj"] = os.path.join(out_dir, "syscalls_tp_cmp.bpf.o")
        run(["clang", "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-I" + vmlinux_dir,
             "-I" + os.path.join(ROOT, "bpf"), "-c", os.path.join(HERE, "bpf/syscalls_tp_cmp.bpf.c"),
             "-o", bins["cmp_obj"]])
        bins["cmp_loader"] = os.path.join(out_dir, "tp_cmp_loader")
        libbpf = subprocess.run(["pkg-config", "--cflags", "--libs", "libbpf"], capture_output=True,
                                text=True).stdout.split() or ["-lbpf", "-lelf", "-lz"]
        run([cc, "-O2", "-Wall", "-I" + os.path.join(ROOT, "bpf"),
             os.path.join(HERE, "bpf/tp_cmp_loader.c"), "-o", bins["cmp_loader"], *libbpf])
    except RuntimeError as e:
        failures.append(f"comparison object did not build: {e}")
        bins.pop("cmp_obj", None)
        bins.pop("cmp_loader", None)
    return bins


# ---------------------------------------------------------------- tracefs


# ---------------------------------------------------------------- tracers

def file_has(path, text):
    try:
        with open(path, errors="replace") as f:
            return text in f.read()
    except FileNotFoundError:
        return False


class Tracer:
    """One tracer run against one target pid. start() returns once attached."""
    seq = 0

    def __init__(self, kind, target, bins):
        Tracer.seq += 1
        self.kind, self.target, self.bins = kind, target, bins
        self.log = os.path.join(tmp, f"{kind}.{Tracer.seq}.log")
        self.proc = None

    def start(self):
        try:
            return self._start()
        except Exception:
            if self.proc is not None and self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            raise

    def _start(self):
        if self.kind == "untraced":
            return self
        logf = open(self.log, "w")
        if self.kind.startswith("probe"):
            self.out = os.path.join(tmp, f"{self.kind}.{Tracer.seq}.ptrace")
            cmd = [agent, "--pid", str(self.target), "-o", self.out]
            if self.kind == "probe-32M":
                cmd += ["--ring-buffer", "32M"]
            if self.kind == "probe-no-wakeups":
                cmd += ["--events", "process,syscalls"]
            if self.kind == "probe-wakeups-only":
                cmd += ["--events", "process,wakeups"]
            if self.kind == "probe-percpu":
                cmd += ["--ring-buffers", "per-cpu"]
            if self.kind == "probe-no-waker-context":
                cmd += ["--no-waker-context"]
            if self.kind == "probe-wakeups-no-context":
                cmd += ["--events", "process,wakeups", "--no-waker-context"]
            if self.kind == "probe-sample100":
                cmd += ["--sample", "syscalls=1/100,wakeups=1/100"]
            self.proc = subprocess.Popen(cmd, stdout=logf, stderr=logf)
            wait_for(lambda: os.path.exists(self.out) and os.path.getsize(self.out) > 0, self.proc,
                     "probe-agent")
        elif self.kind.startswith("cmp-"):
            mode = self.kind[4:]
            self.proc = subprocess.Popen(
                [self.bins["cmp_loader"], self.bins["cmp_obj"], mode, "--pid", str(self.target)],
                stdout=logf, stderr=logf)
            wait_for(lambda: file_has(self.log, "ready"), self.proc, f"tp_cmp_loader {mode}")
        elif self.kind == "bpftrace":
            prog = ('BEGIN { printf("bench-attached\\n"); } '
                    f'tracepoint:syscalls:sys_enter_pselect6 /pid == {self.target}/ {{ @s[tid] = nsecs; }} '
                    'tracepoint:syscalls:sys_exit_pselect6 /@s[tid]/ '
                    '{ @h = hist(nsecs - @s[tid]); delete(@s[tid]); }')
            self.proc = subprocess.Popen(["bpftrace", "-e", prog], stdout=logf, stderr=logf)
            wait_for(lambda: file_has(self.log, "bench-attached"), self.proc, "bpftrace")
        elif self.kind == "syscount":
            # stdbuf: its "Tracing syscalls" line would sit in a full buffer until exit.
            self.proc = subprocess.Popen(["stdbuf", "-oL", shutil.which("syscount") or "/usr/sbin/syscount",
                                          "-L", "-p", str(self.target)], stdout=logf, stderr=logf)
            wait_for(lambda: file_has(self.log, "Tracing syscalls"), self.proc, "syscount")
        elif self.kind == "runqlat":
            self.proc = subprocess.Popen(["stdbuf", "-oL", shutil.which("runqlat") or "/usr/sbin/runqlat",
                                          "-p", str(self.target)], stdout=logf, stderr=logf)
            wait_for(lambda: file_has(self.log, "Tracing run queue latency"), self.proc, "runqlat")
        else:
            raise ValueError(self.kind)
        return self

    def stop(self, target_exits=False):
        """Stops the tracer; returns how many calls it saw (None if unknown)."""
        if self.proc is None:
            return {}
        if self.kind.startswith("probe") and target_exits:
            try:  # the agent stops by itself once every target has exited
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise RuntimeError(f"{self.kind} did not stop on SIGINT")
        text = open(self.log, errors="replace").read()
        info = {}
        if self.kind.startswith("probe"):
            m = re.search(r"(\d+) syscall records \((\d+) calls\)", text)
            if m:
                info["written"], info["seen"] = int(m.group(1)), int(m.group(2))
            m = re.search(r"(\d+) events lost", text)
            info["lost"] = int(m.group(1)) if m else 0
        elif self.kind.startswith("cmp-"):
            kv = dict(re.findall(r"^(\w+)=(\d+)$", text, re.M))
            if "produced" in kv:
                info["seen"], info["written"] = int(kv["produced"]), int(kv["events"])
                info["lost"] = int(kv["ring_full"]) + int(kv["table_full"])
        elif self.kind == "bpftrace":
            info["seen"] = sum(int(n) for n in re.findall(r"^\[[^\]\n]*\)\s+(\d+)", text, re.M))
        elif self.kind == "syscount":
            info["seen"] = sum(int(n) for n in re.findall(r"^[a-z_0-9]+\s+(\d+)\s+[\d.]+\s*$", text, re.M))
        return info


def kv_out(text):
    return dict(l.split("=", 1) for l in text.splitlines() if "=" in l)


# ---------------------------------------------------------------- workloads
def run_pingpong(bins, kind, pipes=False):
    pp = subprocess.Popen([bins["pingpong"], "--rounds", str(rounds), "--cpu", str(PP_CPU), "--wait"]
                          + (["--pipe"] if pipes else []),
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = pp.stdout.readline()
    if not line.startswith("ready"):
        pp.kill()
        raise RuntimeError(f"pingpong did not start: {line!r}")
    tr = Tracer(kind, pp.pid, bins)
    try:
        tr.start()
    except Exception:
        pp.kill()
        pp.wait()
        raise
    pp.stdin.write("go\n")
    pp.stdin.flush()
    out, _ = pp.communicate()
    if pp.returncode != 0:
        tr.stop()
        raise RuntimeError(f"pingpong exited {pp.returncode}")
    info = tr.stop(target_exits=True)
    kv = kv_out(out)
    return int(kv["elapsed_ns"]), {k: int(kv[k]) for k in ("selects", "reads", "writes", "syscalls")}, info


def run_loop(bins, op):
    out = subprocess.run([bins["syscall_loop"], op, str(loop_iters), "--cpu", str(LOOP_CPU), "--reps", "3"],
                         capture_output=True, text=True, check=True).stdout
    return float(kv_out(out)["ns_per_call"])


# ---------------------------------------------------------------- bpf stats
def prog_stats(pid):
    """{prog_id: (run_cnt, run_time_ns)} for the bpf-prog fds that pid holds."""
    stats = {}
    fd_dir = f"/proc/{pid}/fd"
    for fd in os.listdir(fd_dir):
        try:
            if os.readlink(os.path.join(fd_dir, fd)) != "anon_inode:bpf-prog":
                continue
            kv = dict(l.split(":", 1) for l in open(f"/proc/{pid}/fdinfo/{fd}") if ":" in l)
            stats[int(kv["prog_id"])] = (int(kv["run_cnt"]), int(kv["run_time_ns"]))
        except (OSError, KeyError, ValueError):
            continue
    return stats


def prog_names():
    import json
    out = subprocess.run(["bpftool", "prog", "show", "-j"], capture_output=True, text=True).stdout
    try:
        return {p["id"]: p.get("name", "?") for p in json.loads(out)}
    except ValueError:
        return {}


def delta(before, after):
    return {i: (after[i][0] - before.get(i, (0, 0))[0], after[i][1] - before.get(i, (0, 0))[1])
            for i in after}


def profile_pass(bins, kinds, sleeper):
    """[(tracer, workload, program, runs, ns_per_run, runs_per_call)]"""
    rows = []
    old = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    try:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        for kind in kinds:
            # ping-pong, traced: the agent's pid holds the programs.
            pp = subprocess.Popen([bins["pingpong"], "--rounds", str(rounds), "--cpu", str(PP_CPU), "--wait"],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
            pp.stdout.readline()
            tr = Tracer(kind, pp.pid, bins).start()
            names = prog_names()
            before = prog_stats(tr.proc.pid)
            pp.stdin.write("go\n")
            pp.stdin.flush()
            out, _ = pp.communicate()
            after = prog_stats(tr.proc.pid)
            tr.stop(target_exits=True)
            calls = int(kv_out(out)["syscalls"])
            for pid_, (cnt, ns) in sorted(delta(before, after).items()):
                if cnt >= calls / 100:  # not the odd fork/exec/poll of the tracer's own
                    rows.append((kind, "pingpong (traced)", names.get(pid_, str(pid_)), cnt, ns / cnt, cnt / calls))
            # untargeted loops
            tr = Tracer(kind, sleeper, bins).start()
            names = prog_names()
            for op in ("getppid", "read0"):
                before = prog_stats(tr.proc.pid)
                subprocess.run([bins["syscall_loop"], op, str(loop_iters), "--cpu", str(LOOP_CPU), "--reps", "1"],
                               capture_output=True, check=True)
                after = prog_stats(tr.proc.pid)
                for pid_, (cnt, ns) in sorted(delta(before, after).items()):
                    if cnt >= loop_iters / 100:
                        rows.append((kind, f"untargeted {op}", names.get(pid_, str(pid_)), cnt, ns / cnt,
                                     cnt / loop_iters))
            tr.stop()
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(old)
    return rows



# ---------------------------------------------------------------- breakdown
# Where the time of a traced call goes: staged copies of bpf/syscalls.bpf.c
# (the real file with early returns inserted at successive points), each
# loaded behind tp_btf by the comparison loader and measured with bpf_stats.
# Skipped, not failed, when the source no longer has the anchors.
STAGE_PATCHES = [
    ("  if (!capture_args(sys, regs, f)) {",
     "#if ENTER_STAGE == 1\n  f->syscall = sys; f->nr = (__u32)id; return 0;\n#endif\n"
     "#if ENTER_STAGE == 2\n  f->syscall = sys; f->nr = (__u32)id; f->start_ns = bpf_ktime_get_ns(); return 0;\n#endif\n"
     "  if (!capture_args(sys, regs, f)) {"),
    ("  count(PROBE_CTR_SYS_PRODUCED);\n  add_to_histogram(tgid, sys, d, timed_out, error);\n",
     "#if EXIT_STAGE == 1\n  return 0;\n#endif\n  count(PROBE_CTR_SYS_PRODUCED);\n"
     "  add_to_histogram(tgid, sys, d, timed_out, error);\n#if EXIT_STAGE == 2\n  return 0;\n#endif\n"),
]
STAGES = [  # (label, ENTER_STAGE, EXIT_STAGE, which program the row is about)
    ("enter: switch on nr + task storage get (targets lookup on a thread's first call)", 1, 0, "enter"),
    ("enter: + bpf_ktime_get_ns", 2, 0, "enter"),
    ("enter: + capture_args (is_eventfd, user timeout/value reads) = full", 0, 0, "enter"),
    ("exit: switch + task storage get + bpf_ktime_get_ns", 0, 1, "exit"),
    ("exit: + counter + per-CPU histogram", 0, 2, "exit"),
    ("exit: + user read of value + ring buffer = full", 0, 0, "exit"),
]


def build_stages(bins):
    src = open(os.path.join(ROOT, "bpf/syscalls.bpf.c")).read()
    for old, new in STAGE_PATCHES:
        if src.count(old) != 1:
            return f"bpf/syscalls.bpf.c no longer has the anchor {old.strip()[:50]!r}"
        src = src.replace(old, new)
    d = os.path.join(out_dir, "stages")
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "syscalls.bpf.c"), "w") as f:
        f.write(src)
    objs = {}
    for _, en, ex, _ in STAGES:
        o = os.path.join(out_dir, f"stage_{en}{ex}.bpf.o")
        if o in objs.values():
            continue
        r = subprocess.run(["clang", "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86",
                            f"-DENTER_STAGE={en}", f"-DEXIT_STAGE={ex}", "-I" + d, "-I" + os.path.join(build, "bpf"),
                            "-I" + os.path.join(ROOT, "bpf"), "-c", os.path.join(HERE, "bpf/syscalls_tp_cmp.bpf.c"),
                            "-o", o], capture_output=True, text=True)
        if r.returncode != 0:
            return "staged object did not compile: " + r.stderr[-300:]
        objs[(en, ex)] = o
    bins["stages"] = objs
    return None


def pingpong_prog_ns(bins, obj, mode):
    """ns per run of each program (bpf_stats on) while the loader traces a ping-pong."""
    pp = subprocess.Popen([bins["pingpong"], "--rounds", str(rounds // 2), "--cpu", str(PP_CPU), "--wait"],
                          stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    pp.stdout.readline()
    logf = open(os.path.join(tmp, "stage.log"), "w")
    ld = subprocess.Popen([bins["cmp_loader"], obj, mode, "--pid", str(pp.pid)], stdout=logf, stderr=logf)
    try:
        wait_for(lambda: file_has(logf.name, "ready"), ld, "tp_cmp_loader")
    except Exception:
        ld.kill()
        pp.kill()
        raise
    names = prog_names()
    before = prog_stats(ld.pid)
    pp.stdin.write("go\n")
    pp.stdin.flush()
    pp.communicate()
    after = prog_stats(ld.pid)
    ld.send_signal(signal.SIGINT)
    ld.wait()
    out = {}
    for i, (cnt, ns) in delta(before, after).items():
        if cnt > 1000:
            n = names.get(i, "")
            out["enter" if "enter" in n else "exit"] = ns / cnt
    return out


def breakdown_pass(bins):
    """[(label, ns_per_run, net_of_floor)], floor = empty program under bpf_stats."""
    old = open("/proc/sys/kernel/bpf_stats_enabled").read().strip()
    res = {}
    try:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write("1")
        for _ in range(2):  # two passes, the faster of the two (least disturbed)
            floor = pingpong_prog_ns(bins, bins["cmp_obj"], "tp_btf-empty")
            res.setdefault("floor", []).append((floor.get("enter", 0) + floor.get("exit", 0)) / 2)
            for key, obj in bins["stages"].items():
                for prog, ns in pingpong_prog_ns(bins, obj, "tp_btf").items():
                    res.setdefault((key, prog), []).append(ns)
    finally:
        with open("/proc/sys/kernel/bpf_stats_enabled", "w") as f:
            f.write(old)
    floor = min(res["floor"])
    rows = [("empty program (bpf_stats' own clock reads)", floor, 0.0)]
    for label, en, ex, prog in STAGES:
        v = res.get(((en, ex), prog))
        if v:
            rows.append((label, min(v), min(v) - floor))
    return rows

# ---------------------------------------------------------------- main

def main():
    if not os.access(agent, os.X_OK):
        print(f"syscall_bench: {agent} not found: build first", file=sys.stderr)
        return 1
    t_start = time.monotonic()
    try:
        bins = build_all()
    except RuntimeError as e:
        print(f"syscall_bench: build failed: {e}", file=sys.stderr)
        return 1
    have_tracefs, mounted = mount_tracefs("syscall_bench")
    sleeper = subprocess.Popen(["sleep", "1000"])
    try:
        return run_all(bins, have_tracefs, mounted, sleeper, t_start)
    finally:
        sleeper.kill()
        sleeper.wait()
        if mounted:
            subprocess.run(["umount", "/sys/kernel/tracing"])


def run_all(bins, have_tracefs, mounted, sleeper, t_start):
    skipped = {}
    kinds = ["untraced", "probe", "probe-no-wakeups", "probe-wakeups-only", "probe-32M",
             "probe-sample100", "probe-no-waker-context", "probe-wakeups-no-context"]
    if "--per-cpu" in sys.argv:
        kinds.insert(2, "probe-percpu")
    if "cmp_loader" in bins:
        kinds += ["cmp-tp_btf", "cmp-tp_btf-empty"]
        if have_tracefs:
            kinds += ["cmp-tracepoint", "cmp-tracepoint-empty"]
        else:
            skipped["cmp-tracepoint"] = "tracefs could not be mounted"
    if not shutil.which("bpftrace"):
        skipped["bpftrace"] = "bpftrace not installed (scripts/install-bench-deps.sh)"
        failures.append(skipped["bpftrace"])
    elif not have_tracefs:
        skipped["bpftrace"] = "tracefs could not be mounted"
    else:
        kinds.append("bpftrace")
    if not (shutil.which("syscount") or os.path.exists("/usr/sbin/syscount")):
        skipped["syscount"] = "libbpf-tools not installed (optional)"
    elif not have_tracefs:
        skipped["syscount"] = "tracefs could not be mounted"
    else:
        kinds.append("syscount")
    if shutil.which("runqlat") or os.path.exists("/usr/sbin/runqlat"):
        kinds.append("runqlat")  # tp_btf: no tracefs needed
    else:
        skipped["runqlat"] = "libbpf-tools not installed (optional)"

    print(f"syscall_bench: {blocks} blocks; ping-pong {rounds} round trips per run on CPU {PP_CPU}; "
          f"untargeted loops {loop_iters} calls x 3 reps (fastest rep) on CPU {LOOP_CPU}")
    print(f"tracefs: {'mounted by this bench at /sys/kernel/tracing (unmounted at the end)' if mounted else ('already mounted' if have_tracefs else 'unavailable')}; "
          "bpftrace/syscount/cmp-tracepoint use tracepoint:syscalls:* / raw_syscalls (tracefs); "
          "probe and cmp-tp_btf use tp_btf (no tracefs)")
    for k, why in skipped.items():
        print(f"skipped {k}: {why}")

    # ---- part 1: ping-pong
    broken = set()

    def alternate(name, ks, run_one):
        """Runs run_one(k) for every kind in blocks, rotating the order; a
        tracer that cannot run is reported and left out, the rest goes on."""
        for b in range(blocks):
            for k in rotated(ks, b):
                if k in broken:
                    continue
                try:
                    run_one(k)
                except Exception as e:
                    failures.append(f"{name} under {k}: {e}")
                    broken.add(k)
            log(f"  {name} block {b + 1}/{blocks} done ({time.monotonic() - t_start:.0f} s)")

    pp = {k: [] for k in kinds}
    counts, seen = {}, {k: [] for k in kinds}
    if only in ("", "pingpong"):
        run_pingpong(bins, "untraced")  # warm-up

        def one_pingpong(k):
            nonlocal counts
            ns, c, info = run_pingpong(bins, k)
            pp[k].append(ns)
            counts = c
            seen[k].append(info)

        alternate("pingpong", kinds, one_pingpong)

    # ---- part 1b: the same ping-pong over pipes (reads/writes not traced by
    # probe's syscall family; the scheduler work is the same)
    pipe_kinds = [k for k in ("untraced", "probe", "probe-no-wakeups", "probe-wakeups-only",
                              "probe-no-waker-context", "probe-wakeups-no-context", "runqlat")
                  if k in kinds]
    pipe_pp = {k: [] for k in pipe_kinds}
    if only in ("", "pingpong", "pipe"):
        alternate("pipe pingpong", pipe_kinds,
                  lambda k: pipe_pp[k].append(run_pingpong(bins, k, pipes=True)[0]))

    # ---- part 2: untargeted loops
    ukinds = [k for k in kinds if k not in ("probe-32M", "probe-no-wakeups", "probe-wakeups-only", "runqlat",
                                            "probe-sample100", "probe-percpu")]
    loops = {(k, op): [] for k in ukinds for op in ("getppid", "read0")}
    if only in ("", "untargeted"):
        for op in ("getppid", "read0"):
            run_loop(bins, op)  # warm-up
        for b in range(blocks):
            order = rotated(ukinds, b)
            for k in order:
                if k in broken:
                    continue
                try:
                    tr = Tracer(k, sleeper.pid, bins).start()
                    for op in (("getppid", "read0") if b % 2 == 0 else ("read0", "getppid")):
                        loops[(k, op)].append(run_loop(bins, op))
                    tr.stop()
                except Exception as e:
                    failures.append(f"untargeted loop under {k}: {e}")
                    broken.add(k)
            log(f"  untargeted block {b + 1}/{blocks} done ({time.monotonic() - t_start:.0f} s)")

    prof, brk = [], []
    if profile and "cmp_loader" in bins:
        why = build_stages(bins)
        if why:
            print(f"breakdown skipped: {why}")
        else:
            try:
                brk = breakdown_pass(bins)
            except Exception as e:
                failures.append(f"breakdown pass: {e}")
    if profile:
        try:
            prof = profile_pass(bins, [k for k in ("probe", "cmp-tracepoint", "cmp-tp_btf-empty") if k in kinds],
                                sleeper.pid)
        except Exception as e:
            failures.append(f"bpf_stats profile pass: {e}")

    # ---- report
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
    if "probe" in results:
        ratio, added = results["probe"]
        print(f"  {verdict(ratio <= 1.30)}  ping-pong, processes + syscalls + wakeups (the default): "
              f"{ratio:.3f}x wall (target <= 1.30x)")
    if "probe-no-wakeups" in results:
        ratio, added = results["probe-no-wakeups"]
        print(f"  info  same without wakeups (--events process,syscalls): {ratio:.3f}x, {added:.0f} ns per call")
    if "probe-percpu" in results:
        ratio, added = results["probe-percpu"]
        print(f"  info  ping-pong, all families, --ring-buffers per-cpu: {ratio:.3f}x, {added:.0f} ns per call")
    if "probe-sample100" in results:
        ratio, added = results["probe-sample100"]
        print(f"  info  ping-pong, all families, --sample syscalls=1/100,wakeups=1/100 (histograms "
              f"exact): {ratio:.3f}x, {added:.0f} ns per call")
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
    return report_failures(failures)


if __name__ == "__main__":
    run_main(main, tmp)
