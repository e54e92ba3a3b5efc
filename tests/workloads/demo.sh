#!/bin/sh
# Demo workload with known shape: a start-up phase, a short-lived child, a
# parallel pair, one that fails, an eventfd ping-pong waited on with select(),
# and one killed by a signal.
echo "demo: starting" >&2
sleep 0.1                      # "start-up" that a user would want to see
# An interpreter's start-up, without any version-manager shims in front.
"$(command -v /usr/bin/python3 || command -v python3)" -c 'pass' 2>/dev/null || true
( sleep 0.05 & sleep 0.03 & wait )
ls /nonexistent 2>/dev/null    # exits 2
# An RPC-style wait: one thread sleeps 5 ms then writes an eventfd, another
# waits for it with select() (built by cmake; path from `make demo`).
if [ -x "${PROBE_PINGPONG:-}" ]; then "$PROBE_PINGPONG" select 5 20 --fork 2 >/dev/null; fi
# The same wait seen from user space: under `probe-agent --preload` the shim
# times select() around the kernel's pselect6, and the workload's markers
# (BEGIN/END wait, BEFORE_SELECT, AFTER_SELECT) land on the same timeline;
# the Python twin does it through ctypes.
if [ -x "${PROBE_SHIM_SELECT:-}" ]; then "$PROBE_SHIM_SELECT" 5 10 >/dev/null; fi
if [ -n "${PROBE_SHIM_SELECT_PY:-}" ]; then
  "$(command -v /usr/bin/python3 || command -v python3)" "$PROBE_SHIM_SELECT_PY" 5 10 >/dev/null 2>&1 || true
fi
sleep 5 & victim=$!
sleep 0.05; kill -TERM "$victim"; wait "$victim" 2>/dev/null
echo "demo: done" >&2
exit 0
