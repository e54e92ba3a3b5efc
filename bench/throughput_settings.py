"""throughput_bench.py's settings: its command line, the sides it compares,
its targets, and the lists of what failed to run or did not add up."""
import os, sys, tempfile

from benchlib import arg, build_dir

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
