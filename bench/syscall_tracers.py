"""The tracers syscall_bench.py compares (probe-agent in its variants, the
comparison loader, bpftrace, syscount, runqlat), each started against one
target pid, and the workloads run under them."""
import os, re, shutil, signal, subprocess

from benchlib import wait_for
from syscall_settings import LOOP_CPU, PP_CPU, agent, baseline_agent, loop_iters, rounds, tmp


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
            # KIND@baseline: the same side run by --baseline-agent's binary
            # (an A/B of two builds in the same blocks).
            kind, _, which = self.kind.partition("@")
            self.out = os.path.join(tmp, f"{kind}.{which}.{Tracer.seq}.ptrace")
            cmd = [baseline_agent if which == "baseline" else agent,
                   "--pid", str(self.target), "-o", self.out]
            if kind == "probe-32M":
                cmd += ["--ring-buffer", "32M"]
            if kind == "probe-no-wakeups":
                cmd += ["--events", "process,syscalls"]
            if kind == "probe-wakeups-only":
                cmd += ["--events", "process,wakeups"]
            if kind == "probe-percpu":
                cmd += ["--ring-buffers", "per-cpu"]
            if kind == "probe-no-waker-context":
                cmd += ["--no-waker-context"]
            if kind == "probe-wakeups-no-context":
                cmd += ["--events", "process,wakeups", "--no-waker-context"]
            if kind == "probe-histograms-only":
                # Every call still in its exact histogram, none a record: the
                # price of the per-call record is probe-no-wakeups minus this.
                cmd += ["--events", "process,syscalls", "--min-latency", "1000s"]
            if kind == "probe-sample100":
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
            self.proc = subprocess.Popen(["stdbuf", "-oL", self.bins["syscount"],
                                          "-L", "-p", str(self.target)], stdout=logf, stderr=logf)
            wait_for(lambda: file_has(self.log, "Tracing syscalls"), self.proc, "syscount")
        elif self.kind == "runqlat":
            self.proc = subprocess.Popen(["stdbuf", "-oL", self.bins["runqlat"],
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
def run_traced(cmd, bins, kind):
    """Runs cmd (a workload that prints "ready ..." and waits for a line on
    stdin) under tracer kind, attached by pid before it starts; returns its
    key=value output and what the tracer said."""
    name = os.path.basename(cmd[0])
    w = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    line = w.stdout.readline()
    if not line.startswith("ready"):
        w.kill()
        raise RuntimeError(f"{name} did not start: {line!r}")
    tr = Tracer(kind, w.pid, bins)
    try:
        tr.start()
    except Exception:
        w.kill()
        w.wait()
        raise
    w.stdin.write("go\n")
    w.stdin.flush()
    out, _ = w.communicate()
    if w.returncode != 0:
        tr.stop()
        raise RuntimeError(f"{name} exited {w.returncode}")
    return kv_out(out), tr.stop(target_exits=True)


def run_pingpong(bins, kind, pipes=False):
    kv, info = run_traced([bins["pingpong"], "--rounds", str(rounds), "--cpu", str(PP_CPU), "--wait"]
                          + (["--pipe"] if pipes else []), bins, kind)
    return int(kv["elapsed_ns"]), {k: int(kv[k]) for k in ("selects", "reads", "writes", "syscalls")}, info


def run_loop(bins, op):
    out = subprocess.run([bins["syscall_loop"], op, str(loop_iters), "--cpu", str(LOOP_CPU), "--reps", "3"],
                         capture_output=True, text=True, check=True).stdout
    return float(kv_out(out)["ns_per_call"])

