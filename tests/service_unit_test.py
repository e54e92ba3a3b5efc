#!/usr/bin/python3
"""packaging/probe-agent.service (issue 22) on the real agent:

    /usr/bin/python3 tests/service_unit_test.py BUILD_DIR

  - systemd-analyze verify accepts the unit without a word;
  - its ExecStart, run as it is (the build's agent for /usr/bin/probe-agent,
    a scratch directory for /var/lib/probe, -d 2 added), records into
    run-TIME.ptrace.000001, a whole file of sequence 1 with the unit's tag;
  - the capabilities of its CapabilityBoundingSet are enough: the same
    command as an unprivileged user holding only those (those this machine
    has), and each one said to be needed for loading is: without CAP_SYSLOG
    or CAP_BPF the agent cannot start;
  - with CAP_SYS_PTRACE the snapshots name other users' executables.
Needs root (BPF).
"""

import os
import re
import shlex
import shutil
import subprocess
import sys
import tempfile

BUILD = os.path.abspath(sys.argv[1])
SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
UNIT = os.path.join(SOURCE, "packaging", "probe-agent.service")
AGENT = os.path.join(BUILD, "agent", "probe-agent")
sys.path[:0] = [os.path.join(SOURCE, "python"), os.path.join(BUILD, "python")]
import probe_trace  # noqa: E402

failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def unit_value(key):
    for line in open(UNIT):
        if line.startswith(key + "="):
            return line.strip().split("=", 1)[1]
    return None


def capability_bits():
    for line in open("/proc/self/status"):
        if line.startswith("CapBnd:"):
            return int(line.split()[1], 16)
    return 0


CAP_NUMBERS = {"CAP_SYS_PTRACE": 19, "CAP_SYS_RESOURCE": 24, "CAP_SYSLOG": 34,
               "CAP_PERFMON": 38, "CAP_BPF": 39}


def command(out_dir, extra=""):
    """The unit's ExecStart as an argv for sh, pointed at the build and out_dir."""
    argv = shlex.split(unit_value("ExecStart"))
    assert argv[:2] == ["/bin/sh", "-c"], argv
    script = argv[2].replace("%%", "%")
    script = script.replace("/usr/bin/probe-agent", AGENT).replace("/var/lib/probe", out_dir)
    return ["/bin/sh", "-c", script + " -d 2" + extra]


def records(path):
    return list(probe_trace.read(path))


def closed_files(out_dir):
    return sorted(f for f in os.listdir(out_dir) if re.fullmatch(r"run-\d{8}T\d{6}Z\.ptrace\.\d{6}", f))


def main():
    verify = shutil.which("systemd-analyze")
    check(verify is not None, "systemd-analyze is installed (Debian package systemd)")
    if verify:
        r = subprocess.run([verify, "verify", "--man=no", UNIT], capture_output=True, text=True)
        check(r.returncode == 0 and not r.stderr.strip() and not r.stdout.strip(),
              f"systemd-analyze verify says nothing ({(r.stdout + r.stderr).strip()})")

    out = tempfile.mkdtemp(prefix="probe-service-")
    os.chmod(out, 0o777)
    try:
        r = subprocess.run(command(out), capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, f"the unit's command runs as root ({r.stderr.strip()[-300:]})")
        files = closed_files(out)
        check(len(files) == 1 and files[0].endswith(".000001"), f"one closed file: {files}")
        if files:
            recs = records(os.path.join(out, files[0]))
            h = recs[0].header
            check(h.sequence == 1 and h.run_id != "", "sequence 1 with a run id")
            check([(t.key, t.value) for t in h.tags] == [(b"service", b"probe-agent")],
                  "the unit's tag in the header")
            check(recs[-1].WhichOneof("kind") == "trailer" and not recs[-1].trailer.rotated,
                  "closed with its trailer")
        for f in os.listdir(out):
            os.unlink(os.path.join(out, f))

        # Only the unit's capabilities, as nobody (those this machine's
        # bounding set has: a container may lack CAP_SYS_RESOURCE).
        have = capability_bits()
        caps = [c for c in unit_value("CapabilityBoundingSet").split() if have >> CAP_NUMBERS[c] & 1]
        missing = sorted(set(unit_value("CapabilityBoundingSet").split()) - set(caps))
        print(f"note: capabilities this machine cannot give: {missing or 'none'}")

        def as_nobody(capset, extra=""):
            spec = ",".join("+" + c[4:].lower() for c in capset)
            return subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                                   f"--inh-caps={spec}", f"--ambient-caps={spec}"] +
                                  command(out, extra), capture_output=True, text=True, timeout=60)

        # Files of 1 s: the second file's snapshot is taken after the drop.
        r = as_nobody(caps, " --rotate 1s")
        check(r.returncode == 0, f"the unit's capabilities are enough ({r.stderr.strip()[-300:]})")
        files = closed_files(out)
        check(len(files) >= 2, f"files of 1 s: {files}")
        if len(files) >= 2:
            recs = records(os.path.join(out, files[1]))
            check("sys_ptrace" in recs[0].header.privileges,
                  f"it keeps CAP_SYS_PTRACE for the snapshots ({recs[0].header.privileges})")
            root_exes = [r.snapshot.exe for r in recs if r.WhichOneof("kind") == "snapshot"
                         and os.path.exists(f"/proc/{r.snapshot.pid}")
                         and os.stat(f"/proc/{r.snapshot.pid}").st_uid == 0 and r.snapshot.exe]
            check(len(root_exes) > 0,
                  f"the snapshot after the drop names root's executables ({len(root_exes)})")
        for needed in ("CAP_SYSLOG", "CAP_BPF"):
            for f in os.listdir(out):
                os.unlink(os.path.join(out, f))
            r = as_nobody([c for c in caps if c != needed])
            check(r.returncode != 0, f"without {needed} the agent cannot start ({r.stderr.strip()[-200:]})")
    finally:
        shutil.rmtree(out, ignore_errors=True)
    print(f"{len(failures)} failure(s)")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
