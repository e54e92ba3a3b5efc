"""pandas DataFrames of a probe record file, one per record kind.

    import probe_trace
    f = probe_trace.frames("run.ptrace")
    f["syscalls"].groupby("syscall").duration_ns.describe()
    f["shim_calls"][["function", "duration_ns", "kernel_duration_ns", "user_ns"]]

The columns are exactly those of `probe-report --csv` (report/csv_export.cc
is the one schema of both: the frames are read from the CSV files it writes
for the file, so names are resolved the same way, e.g. a waker's comm), with
every integer column as an exact integer (pandas Int64, or UInt64 past
2**63: never float, so nanosecond timestamps keep every digit), true/false
columns as nullable booleans, and, in
shim_calls, the kernel syscall the shim call made matched to it:
kernel_syscall, kernel_start_time_ns, kernel_duration_ns and user_ns (the
shim's span minus the kernel's). Needs Debian's python3-pandas and the
probe-report binary: $PROBE_REPORT, then PATH, then the build tree's.
"""

import os
import re
import shutil
import subprocess
import tempfile

_INT = re.compile(r"-?\d+\Z")


def _find_report():
    here = os.path.dirname(os.path.abspath(__file__))
    for candidate in (os.environ.get("PROBE_REPORT"), shutil.which("probe-report"),
                      os.path.join(os.environ.get("PROBE_BUILD_DIR", ""), "report", "probe-report"),
                      os.path.join(here, os.pardir, "build", "report", "probe-report")):
        if candidate and os.access(candidate, os.X_OK) and os.path.isfile(candidate):
            return candidate
    raise FileNotFoundError("probe-report not found: install probe (make install), put it on "
                            "PATH, or set PROBE_REPORT")


def _exact_ints(pd, df):
    """Columns whose every non-empty cell is an integer become Int64/UInt64,
    true/false columns pandas' nullable boolean; empty cells are NA."""
    for col in df.columns:
        values = df[col]
        present = values[values != ""]
        if len(present) == 0:
            continue
        if present.isin(["true", "false"]).all():
            df[col] = pd.array([None if v == "" else v == "true" for v in values], dtype="boolean")
            continue
        if not present.map(lambda v: bool(_INT.match(v))).all():
            continue
        ints = [int(v) if v != "" else None for v in values]
        big = any(v is not None and v > 2**63 - 1 for v in ints)
        df[col] = pd.array(ints, dtype="UInt64" if big else "Int64")
    return df


def _match_kernel_calls(pd, shim, syscalls):
    """For each shim call, the first kernel syscall of the same thread that
    started inside its span."""
    extra = ["kernel_syscall", "kernel_start_time_ns", "kernel_duration_ns", "user_ns"]
    if shim.empty or syscalls.empty:
        for c in extra:
            shim[c] = pd.Series([pd.NA] * len(shim), dtype="object" if c == "kernel_syscall" else "Int64")
        return shim
    left = shim.reset_index().astype({"entry_ns": "int64", "tid": "int64"}).sort_values("entry_ns")
    right = syscalls[["tid", "syscall", "start_time_ns", "duration_ns"]].rename(
        columns={"syscall": "kernel_syscall", "start_time_ns": "kernel_start_time_ns",
                 "duration_ns": "kernel_duration_ns"})
    right = right.astype({"kernel_start_time_ns": "int64", "tid": "int64"}).sort_values(
        "kernel_start_time_ns")
    m = pd.merge_asof(left, right, left_on="entry_ns", right_on="kernel_start_time_ns", by="tid",
                      direction="forward")
    inside = m["kernel_start_time_ns"] <= m["entry_ns"] + m["duration_ns"].astype("int64")
    for c in ("kernel_syscall", "kernel_start_time_ns", "kernel_duration_ns"):
        m[c] = m[c].where(inside)
    m = m.set_index("index").sort_index()
    out = shim.copy()
    out["kernel_syscall"] = m["kernel_syscall"].astype("object").where(inside.values, None).values
    out["kernel_start_time_ns"] = pd.array(
        [int(v) if v == v and v is not None else None for v in m["kernel_start_time_ns"]], dtype="Int64")
    out["kernel_duration_ns"] = pd.array(
        [int(v) if v == v and v is not None else None for v in m["kernel_duration_ns"]], dtype="Int64")
    out["user_ns"] = out["duration_ns"].astype("Int64") - out["kernel_duration_ns"]
    return out


def frames(path):
    """{kind: DataFrame} for every CSV file probe-report writes ("syscalls",
    "wakeups", "shim_calls", "markers", "processes", histograms, counters...)."""
    import pandas as pd

    report = _find_report()
    with tempfile.TemporaryDirectory(prefix="probe-frames-") as tmp:
        out_dir = os.path.join(tmp, "csv")
        r = subprocess.run([report, "--no-progress", "--csv", out_dir, os.fspath(path)],
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if not os.path.isdir(out_dir):
            raise ValueError(f"probe-report could not read {path}: {r.stderr.strip()}")
        result = {}
        for name in sorted(os.listdir(out_dir)):
            if name.endswith(".csv"):
                df = pd.read_csv(os.path.join(out_dir, name), dtype=str, keep_default_na=False)
                result[name[:-4]] = _exact_ints(pd, df)
    if "shim_calls" in result and "syscalls" in result:
        result["shim_calls"] = _match_kernel_calls(pd, result["shim_calls"], result["syscalls"])
    return result
