#!/usr/bin/env python3
"""probe-report --html, rendered in headless Chromium (Debian's chromium).

Records a small run with the real agent (an eventfd ping-pong started under a
hostile name), makes the HTML page with probe-report, loads it in headless
Chromium and checks from the DOM Chromium dumps after the page's scripts ran:
the ready marker is set and no error banner is shown, as many plots, bars,
waits and processes are drawn as the record file holds, the hostile name was
escaped (no element came from it), and Chromium logged no console message
(a script error or a blocked network request would be one). Also saves a
screenshot beside the page (html_report_chromium.png in the build directory).

Needs root (BPF) like the integration tests: exits 77 (skipped) without it.
When chromium is missing it installs Debian's package (as root), saying so;
scripts/install-deps.sh normally has installed it already.
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
CHROMIUM_FLAGS = [
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions",
]
# A program name a traced process really can have: it becomes comm and argv.
HOSTILE = "<script>&\"x'"

failures = []


def check(ok, what):
    print(("ok    " if ok else "FAIL  ") + what)
    if not ok:
        failures.append(what)


def run(cmd, timeout=120, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, **kw)


def find_chromium():
    path = shutil.which("chromium")
    if path:
        return path
    print("chromium is not installed: installing Debian's package "
          "(apt-get install -y chromium; scripts/install-deps.sh does this too)")
    env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
    cmd = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "chromium"]
    r = run(cmd, timeout=600, env=env)
    if r.returncode != 0:  # the package lists may be stale or missing
        run(["apt-get", "update", "-qq"], timeout=300, env=env)
        r = run(cmd, timeout=600, env=env)
    path = shutil.which("chromium")
    if not path:
        print("cannot install chromium (exit %d): %s" % (r.returncode, r.stderr.strip()[-500:]))
    return path


def bucket(ns):
    return 0 if ns < 2 else min(ns.bit_length() - 1, 47)


def expected_from_records(report, trace):
    """What the page should draw, from the records themselves (probe-report --json)."""
    r = run([report, "--json", trace])
    assert r.returncode == 0, r.stderr
    hists, calls_hist, sched = {}, {}, {}
    calls, timeouts, procs = 0, 0, set()
    for line in r.stdout.splitlines():
        rec = json.loads(line)
        if "syscall_histogram" in rec:
            h = rec["syscall_histogram"]
            hists[(h.get("pid", 0), h.get("syscall"))] = [int(b) for b in h.get("log2_buckets", [])]
        elif "sched_histogram" in rec:
            h = rec["sched_histogram"]
            sched[(h.get("pid", 0), h.get("kind"))] = [int(b) for b in h.get("log2_buckets", [])]
        elif "syscall" in rec:
            c = rec["syscall"]
            calls += 1
            timeouts += 1 if c.get("timed_out") else 0
            b = calls_hist.setdefault((c.get("pid", 0), c.get("syscall")), set())
            b.add(bucket(int(c.get("duration_ns", 0))))
        elif "process" in rec:
            procs.add(rec["process"]["pid"])
        elif "snapshot" in rec:
            procs.add(rec["snapshot"]["pid"])
    bars = sum(sum(1 for n in b if n) for b in hists.values())
    bars += sum(len(b) for k, b in calls_hist.items() if k not in hists)
    bars += sum(sum(1 for n in b if n) for b in sched.values())
    keys = len(set(hists) | set(calls_hist))
    assert keys <= 48 and len(sched) <= 32, "the small run should have every histogram drawn"
    # The slowest calls that did not time out, and the timeouts apart: a timeline each.
    plots = keys + len(sched) + (1 if calls > timeouts else 0) + (1 if timeouts else 0) + \
        (1 if procs else 0)
    return {"plots": plots, "syscall_plots": keys, "sched_plots": len(sched), "bars": bars,
            "waits": min(calls - timeouts, 50) + min(timeouts, 50), "procs": len(procs), "calls": calls}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--agent", required=True)
    ap.add_argument("--report", required=True)
    ap.add_argument("--pingpong", required=True)
    ap.add_argument("--out-dir", default=".", help="where the page and screenshot are kept")
    args = ap.parse_args()

    if os.geteuid() != 0:
        print("skipped: needs root to load BPF (running as uid %d)" % os.geteuid())
        return SKIP
    if not os.access("/sys/kernel/btf/vmlinux", os.R_OK):
        print("skipped: kernel has no BTF")
        return SKIP
    chromium = find_chromium()
    if not chromium:
        print("FAIL: no chromium to render the page with")
        return 1

    tmp = tempfile.mkdtemp(prefix="probe_html_")
    try:
        # The workload under a hostile name: its comm and argv carry it.
        prog = os.path.join(tmp, HOSTILE)
        os.symlink(os.path.abspath(args.pingpong), prog)
        trace = os.path.join(tmp, "run.ptrace")
        r = run([args.agent, "-o", trace, "--", prog, "select", "2", "10", "--fork", "2"])
        check(r.returncode == 0, "agent recorded the ping-pong (exit %d) %s" %
              (r.returncode, r.stderr.strip()[-300:]))
        if r.returncode != 0:
            return 1
        want = expected_from_records(args.report, trace)
        print("expected from the records:", want)
        check(want["calls"] > 0 and want["syscall_plots"] > 0 and want["procs"] >= 2,
              "the run has syscalls, histograms and two processes")

        os.makedirs(args.out_dir, exist_ok=True)
        page = os.path.abspath(os.path.join(args.out_dir, "html_report_chromium.html"))
        r = run([args.report, "--html", page, trace])
        check(r.returncode == 0, "probe-report --html exit %d %s" % (r.returncode, r.stderr.strip()))
        with open(page, encoding="utf-8") as f:
            html = f.read()
        check("http://" not in html and "https://" not in html, "the page names no URL")

        profile = os.path.join(tmp, "profile")
        r = run([chromium] + CHROMIUM_FLAGS + ["--user-data-dir=" + profile,
                                               "--enable-logging=stderr", "--v=0",
                                               "--dump-dom", "file://" + page])
        dom = r.stdout
        check(r.returncode == 0 and "</html>" in dom,
              "chromium loaded the page (exit %d, %d bytes of DOM)" % (r.returncode, len(dom)))
        console = [l for l in r.stderr.splitlines() if "CONSOLE" in l or "Uncaught" in l]
        check(not console, "no console messages: %s" % console[:3])

        body = re.search(r"<body[^>]*>", dom)
        body = body.group(0) if body else ""
        check('data-ready="1"' in body and 'id="ready"' in dom,
              "ready marker set by the page's script: %s" % body)
        check('id="error-banner"' not in dom and "data-error" not in body, "no error banner")
        check('data-drawn="%d"' % want["plots"] in body,
              "every plot laid out with a size (%d)" % want["plots"])
        n = len(re.findall(r'<svg class="plot"', dom))
        check(n == want["plots"], "%d plots (want %d)" % (n, want["plots"]))
        n = len(re.findall(r'data-kind="syscall-histogram"', dom))
        check(n == want["syscall_plots"], "%d syscall histograms (want %d)" % (n, want["syscall_plots"]))
        n = len(re.findall(r'data-kind="sched-histogram"', dom))
        check(n == want["sched_plots"], "%d scheduler histograms (want %d)" % (n, want["sched_plots"]))
        n = len(re.findall(r'<rect class="bar"', dom))
        check(n == want["bars"], "%d histogram bars (want %d)" % (n, want["bars"]))
        n = len(re.findall(r'<g class="wait"', dom))
        check(n == want["waits"], "%d slowest calls on the timeline (want %d)" % (n, want["waits"]))
        n = len(re.findall(r'class="seg seg-blocked"', dom))
        check(n >= 10, "%d calls split with a blocked segment (the 10 selects at least)" % n)
        check("woken by pid" in dom, "tooltips name the waker")
        n = len(re.findall(r'<g class="proc"', dom))
        check(n == want["procs"], "%d processes in the tree (want %d)" % (n, want["procs"]))
        check('data-depth="1"' in dom, "the forked child is drawn under its parent")
        for sid in ("header", "counters", "syscall-histograms", "sched-histograms",
                    "slowest-waits", "process-tree"):
            check('id="%s"' % sid in dom, "section #%s" % sid)
        check("&lt;script&gt;&amp;" in dom, "the hostile name is shown, escaped")
        n = len(re.findall(r"<script", dom))
        check(n == 2, "only the page's own 2 scripts are elements (%d)" % n)

        shot = os.path.abspath(os.path.join(args.out_dir, "html_report_chromium.png"))
        r = run([chromium] + CHROMIUM_FLAGS + ["--user-data-dir=" + profile,
                                               "--window-size=1300,2400",
                                               "--screenshot=" + shot, "file://" + page])
        check(r.returncode == 0 and os.path.exists(shot) and os.path.getsize(shot) > 20000,
              "screenshot %s" % shot)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)

    print("%d failed" % len(failures) if failures else "all checks passed")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
