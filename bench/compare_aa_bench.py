#!/usr/bin/env python3
"""A/A false alarms of probe-report --compare: how often two sets of
recordings of the same command are called slower.

For each of PAIRS pairs, records RUNS runs of the command per side under the
real agent, alternating A, B, A, B (so a change of the machine's load lands
on both sides), then runs `probe-report --compare A B --fail-if-slower PCT
--json`. An exit status of 3 is a false alarm: nothing changed. Prints the
share of pairs flagged (family-wise: any figure) and the share of gating
figures flagged (per figure), and which figures were flagged.

Usage: bench/compare_aa_bench.py BUILD_DIR [--pairs 20] [--runs 10] [--pct 10]
       [--workload pingpong|python|both]"""
import json, os, subprocess, sys, tempfile
from collections import Counter

from benchlib import arg, build_dir, log, run_main

build = build_dir()
pairs = arg("--pairs", 20)
runs = arg("--runs", 10)
pct = arg("--pct", 10.0, float)
which = arg("--workload", "both", str)
agent = os.path.join(build, "agent/probe-agent")
report = os.path.join(build, "report/probe-report")
pingpong = os.path.join(build, "tests/eventfd_pingpong")
tmp = tempfile.mkdtemp(prefix="probe_compare_aa_")

WORKLOADS = {
    # A wait-heavy program: syscalls, wait breakdowns, scheduler histograms.
    "pingpong": [pingpong, "select", "2", "10"],
    # A short process tree (python3 -c pass; under pyenv, a tree of bash).
    "python": ["python3", "-c", "pass"],
}


def record(path, cmd):
    r = subprocess.run([agent, "-o", path, "--"] + cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"agent failed on {cmd}: {r.stderr.strip()}")


def one_pair(name, cmd, i):
    sides = {"a": [], "b": []}
    for k in range(runs):
        for side in ("a", "b"):
            path = os.path.join(tmp, f"{name}{i}{side}{k}.ptrace")
            record(path, cmd)
            sides[side].append(path)
    r = subprocess.run([report, "--compare", ",".join(sides["a"]), ",".join(sides["b"]),
                        "--fail-if-slower", str(pct), "--json"], capture_output=True, text=True)
    if r.returncode not in (0, 3):
        raise RuntimeError(f"probe-report failed: {r.stderr.strip()}")
    figures = [json.loads(line) for line in r.stdout.splitlines()]
    gating = [f for f in figures if f["unit"] == "ns"]
    flagged = [f for f in gating if f["slower_than_threshold"]]
    # What a gate without the adjustment over the figures would have flagged.
    raw = [f for f in gating if f["raw_p"] < 0.01 and f["new"] > f["base"] and
           (f["ratio"] is None or f["ratio"] > 1 + pct / 100)]
    for path in sides["a"] + sides["b"]:
        os.unlink(path)
    return r.returncode == 3, len(gating), flagged, raw


def main():
    names = list(WORKLOADS) if which == "both" else [which]
    total_pairs = total_flagged_pairs = total_figures = total_flagged_figures = 0
    for name in names:
        flagged_pairs = figures = flagged_figures = raw_pairs = raw_figures = 0
        what = Counter()
        for i in range(pairs):
            alarm, n, flagged, raw = one_pair(name, WORKLOADS[name], i)
            flagged_pairs += alarm
            raw_pairs += bool(raw)
            raw_figures += len(raw)
            figures += n
            flagged_figures += len(flagged)
            for f in flagged:
                what[f"{f['figure']} / {f['measure']}"] += 1
            log(f"{name} pair {i + 1}/{pairs}: {'FLAGGED' if alarm else 'ok'} "
                f"({len(flagged)} of {n} time figures)")
        print(f"{name}: {flagged_pairs}/{pairs} A/A pairs flagged slower at {pct:g}% "
              f"(p < 0.01) = {100.0 * flagged_pairs / pairs:.1f}%; "
              f"{flagged_figures}/{figures} time figures = "
              f"{100.0 * flagged_figures / max(1, figures):.2f}% per figure "
              f"({runs} runs a side)")
        print(f"  without the Holm adjustment (raw p < 0.01): {raw_pairs}/{pairs} pairs = "
              f"{100.0 * raw_pairs / pairs:.1f}%, {raw_figures}/{figures} figures = "
              f"{100.0 * raw_figures / max(1, figures):.2f}%")
        for fig, n in what.most_common(10):
            print(f"  flagged {n}x: {fig}")
        total_pairs += pairs
        total_flagged_pairs += flagged_pairs
        total_figures += figures
        total_flagged_figures += flagged_figures
    print(f"all: {total_flagged_pairs}/{total_pairs} pairs "
          f"({100.0 * total_flagged_pairs / total_pairs:.1f}%), "
          f"{total_flagged_figures}/{total_figures} figures "
          f"({100.0 * total_flagged_figures / max(1, total_figures):.2f}%)")
    return 0


run_main(main, tmp)
