# Helpers shared by the real-program drivers run under probe-agent by
# tests/real_programs_integrationtest.cc: the kernel's own per-thread
# counters, read with CLOCK_MONOTONIC brackets so that the test can line
# them up with the records.
import os
import socket
import time


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def thread_counters(pid):
    """{tid: {...}} for every thread of pid: context switches (voluntary +
    nonvoluntary) and schedstat's run-queue wait, each read between t0 and
    t1 (monotonic ns). A switch-out whose time falls inside [t0, t1] may or
    may not be in the count; the test treats such a record as ambiguous."""
    out = {}
    try:
        tids = os.listdir(f"/proc/{pid}/task")
    except FileNotFoundError:
        return out
    for tid in tids:
        base = f"/proc/{pid}/task/{tid}"
        t0 = time.monotonic_ns()
        try:
            with open(base + "/status") as f:
                status = f.read()
            with open(base + "/schedstat") as f:
                sched = f.read().split()
            with open(base + "/comm") as f:
                comm = f.read().strip()
        except (FileNotFoundError, ProcessLookupError):
            continue
        t1 = time.monotonic_ns()
        csw = 0
        for line in status.splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                csw += int(line.split()[1])
        out[int(tid)] = {"t0": t0, "t1": t1, "csw": csw, "run_delay_ns": int(sched[1]),
                         "comm": comm}
    return out


def print_threads(before, after):
    """One line per thread alive at both reads: "thread tid=.. b_t0=.. ..."
    (b_ before the traced window, a_ after)."""
    for tid in sorted(set(before) & set(after)):
        b, a = before[tid], after[tid]
        print(f"thread tid={tid} comm={a['comm'].replace(' ', '_')} b_t0={b['t0']} "
              f"b_t1={b['t1']} b_csw={b['csw']} b_run_delay={b['run_delay_ns']} "
              f"a_t0={a['t0']} a_t1={a['t1']} a_csw={a['csw']} "
              f"a_run_delay={a['run_delay_ns']}", flush=True)
