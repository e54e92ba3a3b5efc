#!/usr/bin/python3
# Runs CMD (a program that prints "ready" once it is in its steady state and
# exits when its stdin closes), reads the kernel's counters of CMD's threads
# at the start and at the end of a window of SECONDS, then closes its stdin.
# CMD runs on one CPU (truth_lib.pin_to_one_cpu says why).
# Prints "target pid=..", CMD's own output, and "thread ..." lines.
# Usage: window_drive.py SECONDS CMD ARGS...
import os
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import truth_lib  # noqa: E402


def main():
    seconds = float(sys.argv[1])
    child = subprocess.Popen(sys.argv[2:], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                             text=True, preexec_fn=truth_lib.pin_to_one_cpu)
    try:
        line = child.stdout.readline()
        if line.strip() != "ready":
            print(f"window_drive: expected 'ready', got {line!r}", file=sys.stderr)
            sys.exit(1)
        time.sleep(0.2)
        before = truth_lib.thread_counters(child.pid)
        time.sleep(seconds)
        after = truth_lib.thread_counters(child.pid)
        child.stdin.close()
        out = child.stdout.read()
        rc = child.wait(timeout=20)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    print(f"target pid={child.pid} rc={rc}", flush=True)
    sys.stdout.write(out)
    truth_lib.print_threads(before, after)


if __name__ == "__main__":
    main()
