#!/usr/bin/python3
"""The slowest traced syscalls of a probe file, with where their time went.

    /usr/bin/python3 python/examples/slowest_waits.py run.ptrace [-n 10]

For each call: duration, syscall, pid/tid, result, and for a call that
blocked its breakdown (entry -> blocked -> woken -> run queue -> return) and
who woke it, in which syscall. Streams the file; keeps only the top N and the
thread names (ThreadName records) wakers refer to.
"""

import argparse
import heapq
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
import probe_trace  # noqa: E402

pb = probe_trace.probe_pb2

# x86_64 numbers of the syscalls wakers are usually in.
X86_SYSCALLS = {0: "read", 1: "write", 3: "close", 7: "poll", 16: "ioctl", 19: "readv",
                20: "writev", 23: "select", 35: "nanosleep", 44: "sendto", 46: "sendmsg",
                56: "clone", 59: "execve", 60: "exit", 61: "wait4", 62: "kill", 200: "tkill",
                202: "futex", 230: "clock_nanosleep", 231: "exit_group", 232: "epoll_wait",
                234: "tgkill", 270: "pselect6", 271: "ppoll", 281: "epoll_pwait",
                290: "eventfd2", 435: "clone3", 441: "epoll_pwait2"}


def fmt_ns(ns):
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return "%.3g %s" % (ns / scale, unit)
    return "%d ns" % ns


def syscall_name(value):
    try:
        return pb.Syscall.Name(value)[len("SYSCALL_"):].lower()
    except ValueError:
        return "syscall %d" % value


def describe_waker(waker, names):
    comm = probe_trace.text(waker.comm or names.get(waker.tid, b"?"))  # names are bytes
    if waker.pid == 0:
        return "an interrupt or kernel thread (%s)" % comm
    who = "tid %d (%s, pid %d)" % (waker.tid, comm, waker.pid)
    if waker.syscall_nr < 0:
        return who + " outside a syscall"
    what = X86_SYSCALLS.get(waker.syscall_nr, "syscall %d" % waker.syscall_nr)
    if waker.HasField("fd"):
        what += "(fd %d)" % waker.fd
    return who + " in " + what


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("-n", type=int, default=10, help="how many calls (default 10)")
    args = ap.parse_args()

    names = {}   # tid -> comm, the last ThreadName record
    top = []     # min-heap of (duration, seq, call, waker description)
    calls = 0
    reader = probe_trace.Reader(args.file, warn=False)  # said below, on stdout
    for record in reader:
        kind = record.WhichOneof("kind")
        if kind == "thread_name":
            names[record.thread_name.tid] = record.thread_name.comm
        elif kind == "syscall":
            c = record.syscall
            calls += 1
            if len(top) < args.n or c.duration_ns > top[0][0]:
                # Resolve the waker now: a later ThreadName may rename the tid.
                b = c.breakdown
                waker = describe_waker(b.waker, names) if c.HasField("breakdown") and b.woken else ""
                item = (c.duration_ns, calls, c, waker)
                if len(top) < args.n:
                    heapq.heappush(top, item)
                else:
                    heapq.heapreplace(top, item)

    print("%d slowest of %d syscall records in %s" % (len(top), calls, args.file))
    for duration, _, c, waker in sorted(top, key=lambda t: -t[0]):
        print("%10s  %-12s pid %d tid %d  ret %d%s" % (
            fmt_ns(duration), syscall_name(c.syscall), c.pid, c.tid, c.ret,
            "  (timed out)" if c.timed_out else ""))
        if not c.HasField("breakdown"):
            print("            never left the CPU")
            continue
        b = c.breakdown
        parts = ["to block %s" % fmt_ns(b.to_block_ns), "blocked %s" % fmt_ns(b.blocked_ns)]
        if b.woken:
            parts.append("run queue %s" % fmt_ns(b.run_queue_ns))
        parts.append("return %s" % fmt_ns(b.return_ns))
        if b.total_blocked_ns > b.blocked_ns:
            parts.append("blocked %s in all" % fmt_ns(b.total_blocked_ns))
        print("            " + ", ".join(parts))
        print("            " + ("woken by " + waker if b.woken else "not woken by a task"))
    if reader.status != probe_trace.END:
        print("stopped early: %s: %s" % (reader.status, reader.reason))
    return 0


if __name__ == "__main__":
    sys.exit(main())
