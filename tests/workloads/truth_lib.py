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


def pin_to_one_cpu():
    """For a child's preexec_fn: the child and every thread it makes run on
    one CPU (the last one this process may use), so the kernel never
    migrates them. That keeps schedstat's run-queue time true: with EEVDF's
    delayed dequeue (kernels 6.12 on), a thread asleep but still queued
    (sched_delayed) that the kernel migrates gets its last_queued set at the
    migration, and the rest of its sleep is then added to run_delay at its
    next switch-in. Reported upstream with a one-line fix, under review when
    this was written: "sched/stats: Fix run_delay over-count for migrated
    sched_delayed tasks"
    (https://lore.kernel.org/all/20260909133345.1572954-1-albin_yang@163.com/).
    A CI run on two CPUs measured 210 ms of run_delay on a node thread over
    13 switches for which probe recorded 5.5 ms, every switch exact; on one
    CPU node's threads agree with schedstat to 0.2%."""
    os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})


def thread_counters(pid):
    """{tid: {...}} for every thread of pid: context switches (voluntary +
    nonvoluntary), schedstat's run-queue wait and the kernel's count of the
    thread's migrations between CPUs, each read between t0 and
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
            with open(base + "/sched") as f:
                sched_lines = f.read().splitlines()
        except (FileNotFoundError, ProcessLookupError):
            continue
        t1 = time.monotonic_ns()
        csw = 0
        for line in status.splitlines():
            if line.startswith(("voluntary_ctxt_switches", "nonvoluntary_ctxt_switches")):
                csw += int(line.split()[1])
        found = [int(line.split(":")[1]) for line in sched_lines
                 if line.startswith("se.nr_migrations")]
        if not found:
            raise SystemExit(f"truth_lib: no se.nr_migrations in {base}/sched: the test "
                             "cannot tell whether the kernel moved the thread")
        migrations = found[0]
        out[int(tid)] = {"t0": t0, "t1": t1, "csw": csw, "run_delay_ns": int(sched[1]),
                         "migrations": migrations, "comm": comm}
    return out


def print_threads(before, after):
    """One line per thread alive at both reads: "thread tid=.. b_t0=.. ..."
    (b_ before the traced window, a_ after)."""
    for tid in sorted(set(before) & set(after)):
        b, a = before[tid], after[tid]
        print(f"thread tid={tid} comm={a['comm'].replace(' ', '_')} b_t0={b['t0']} "
              f"b_t1={b['t1']} b_csw={b['csw']} b_run_delay={b['run_delay_ns']} "
              f"a_t0={a['t0']} a_t1={a['t1']} a_csw={a['csw']} "
              f"a_run_delay={a['run_delay_ns']} b_migrations={b['migrations']} "
              f"a_migrations={a['migrations']}", flush=True)
