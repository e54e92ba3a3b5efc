"""Parts 3 and 4 of syscall_bench.py, under kernel.bpf_stats_enabled: the
cost per run of each BPF program, and where a traced call's time goes
(staged copies of bpf/syscalls.bpf.c)."""
import os, signal, subprocess

from benchlib import HERE, ROOT, wait_for
from syscall_settings import LOOP_CPU, PP_CPU, build, loop_iters, out_dir, rounds, tmp
from syscall_tracers import Tracer, file_has, kv_out


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
    ("  if (!capture_args(sys, regs, f, sampled_out)) {",
     "#if ENTER_STAGE == 1\n  f->syscall = sys; f->nr = (__u32)id; return 0;\n#endif\n"
     "#if ENTER_STAGE == 2\n  f->syscall = sys; f->nr = (__u32)id; f->start_ns = bpf_ktime_get_ns(); return 0;\n#endif\n"
     "  if (!capture_args(sys, regs, f, sampled_out)) {"),
    ("  count(PROBE_CTR_SYS_PRODUCED);\n  add_to_histogram(f, tgid, sys, d, timed_out, error);\n",
     "#if EXIT_STAGE == 1\n  return 0;\n#endif\n  count(PROBE_CTR_SYS_PRODUCED);\n"
     "  add_to_histogram(f, tgid, sys, d, timed_out, error);\n#if EXIT_STAGE == 2\n  return 0;\n#endif\n"),
]
STAGES = [  # (label, ENTER_STAGE, EXIT_STAGE, which program the row is about)
    ("enter: switch on nr + task storage get (targets lookup on a thread's first call)", 1, 0, "enter"),
    ("enter: + bpf_ktime_get_ns", 2, 0, "enter"),
    ("enter: + capture_args (is_eventfd, user timeout/value reads) = full", 0, 0, "enter"),
    ("exit: switch + task storage get + bpf_ktime_get_ns", 0, 1, "exit"),
    ("exit: + counter + histogram slot", 0, 2, "exit"),
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
