#!/usr/bin/env python3
"""Python twin of shim_select.c: ground truth for the LD_PRELOAD shim.

The main thread waits for an eventfd with select.select() and no timeout; a
writer thread makes it readable DELAY_MS later. Each iteration:

    begin wait(i)  mark BEFORE_SELECT(i)  select  mark AFTER_SELECT(i)
    os.eventfd_read  end wait(i)

Right before BEFORE_SELECT, main wakes the writer through a pipe (not an
eventfd, so the shim ignores it); the writer sleeps DELAY_MS and writes the
eventfd. Markers come from probe_markers (found through $PROBE_PYTHON_DIR or
../../preload/python from this file) and are no-ops without the shim.

usage: shim_select.py DELAY_MS ITERATIONS
"""

import os
import select
import sys
import threading
import time

_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(
    0,
    os.environ.get("PROBE_PYTHON_DIR")
    or os.path.join(_here, os.pardir, os.pardir, "preload", "python"),
)
import probe_markers as pm  # noqa: E402


def main():
    if len(sys.argv) < 3:
        print("usage: shim_select.py DELAY_MS ITERATIONS", file=sys.stderr)
        return 2
    delay_ms = int(sys.argv[1])
    iterations = int(sys.argv[2])
    efd = os.eventfd(0, 0)
    go_r, go_w = os.pipe()
    state = {"writer_tid": 0, "writes": 0}

    def writer():
        state["writer_tid"] = threading.get_native_id()
        for _ in range(iterations):
            if len(os.read(go_r, 1)) != 1:
                raise RuntimeError("pipe closed")
            time.sleep(delay_ms / 1000.0)
            os.eventfd_write(efd, 1)
            state["writes"] += 1

    t = threading.Thread(target=writer, name="writer")
    t.start()

    selects = reads = 0
    for i in range(iterations):
        pm.begin("wait", i, 0)
        os.write(go_w, b"g")
        pm.mark("BEFORE_SELECT", i, 0)
        # select.select retries EINTR itself (PEP 475); count our calls.
        readable, _, _ = select.select([efd], [], [])
        selects += 1
        if readable != [efd]:
            raise RuntimeError("select returned %r" % (readable,))
        pm.mark("AFTER_SELECT", i, 0)
        os.eventfd_read(efd)
        reads += 1
        pm.end("wait", i, 0)
    t.join()

    print(
        "shim_select_py pid=%d main_tid=%d writer_tid=%d iterations=%d selects=%d "
        "eventfd_reads=%d eventfd_writes=%d delay_ms=%d"
        % (os.getpid(), threading.get_native_id(), state["writer_tid"], iterations,
           selects, reads, state["writes"], delay_ms),
        flush=True,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
