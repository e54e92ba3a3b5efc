"""syscall_bench.py's settings: its command line, where it builds and
writes, the CPUs it pins to, and the list of what failed to run."""
import os, sys, tempfile

from benchlib import arg, build_dir

build = build_dir()
blocks = arg("--blocks", 8)
rounds = arg("--rounds", 100000)
loop_iters = arg("--loop-iters", 400000)
only = arg("--only", "", str)
profile = "--no-profile" not in sys.argv
agent = os.path.join(build, "agent/probe-agent")
# --baseline-agent PATH: another build's probe-agent, for the KIND@baseline sides.
baseline_agent = arg("--baseline-agent", "", str)
out_dir = os.path.join(build, "bench")
tmp = tempfile.mkdtemp(prefix="probe_sysbench_")
ncpu = os.cpu_count() or 1
PP_CPU, LOOP_CPU = 0, (1 if ncpu > 1 else 0)
failures = []  # things that failed to run (appended to by every part)


