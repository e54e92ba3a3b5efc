#!/usr/bin/python3
"""The install, package, pipe and command-line conventions of issue 21, on
the real tools:

    /usr/bin/python3 tests/install_test.py CASE BUILD_DIR

  install   cmake --install to a scratch prefix; with the build tree hidden
            (a tmpfs over it, in a private mount namespace) the installed
            agent records python3 with --preload through the installed
            shim, the installed report and Python reader read it; the man
            pages carry every option of --help; pkg-config and completion work
  package   cpack -G DEB from the build tree: its Depends name the packages
            that own every library the binaries load (ldd + dpkg -S), it
            lists the files, unpacked with dpkg -x it records and reports,
            and dpkg --root -i installs it into a scratch root
  pipe      probe-agent -o - -- cmd | probe-report -: the record stream on
            stdout, the command's own stdout and the summary on stderr
  version   --version of both tools against libbpf's package version and
            /sys/kernel/btf/vmlinux
  options   GNU long options (--pid=N, --output=FILE), bundled short flags,
            durations with units and a bare number as seconds, both
            spellings of kinds, and the header's run identity (boot id,
            machine id, run id, CPU count, BOOTTIME offset, --tag) against
            the kernel's own values
  python    pip install ./python offline into a venv, then
            probe_trace.frames() from /: the CSV's columns, exact integers,
            each shim select matched with the kernel's pselect6 inside it
Needs root (BPF).
"""

import base64
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import uuid

CASE, BUILD = sys.argv[1], os.path.abspath(sys.argv[2])
SOURCE = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
AGENT = os.path.join(BUILD, "agent", "probe-agent")
REPORT = os.path.join(BUILD, "report", "probe-report")
PY = "/usr/bin/python3"
# A workload that is not ours: python3 waiting in select() 30 times, which
# the shim times in user space and the kernel side sees as pselect6.
SELECTS = 30
WORKLOAD = [PY, "-c", f"import select\nfor _ in range({SELECTS}): select.select([], [], [], 0.001)"]
failures = []


def check(ok, what):
    print(("ok   " if ok else "FAIL ") + what)
    if not ok:
        failures.append(what)


def run(cmd, **kw):
    kw.setdefault("capture_output", True)
    kw.setdefault("text", True)
    kw.setdefault("timeout", 120)
    return subprocess.run(cmd, **kw)


def records(report, path):
    r = run([report, "--json", path])
    return [json.loads(line) for line in r.stdout.splitlines() if line.strip()], r


def count(recs, key):
    return sum(1 for r in recs if key in r)


def check_recording(agent, report, out, shim_dir, label):
    """Records WORKLOAD with --preload and checks what the file holds."""
    r = run([agent, "--preload", "--events", "process,syscall", "-o", out, "--"] + WORKLOAD)
    check(r.returncode == 0, f"{label}: agent --preload exits 0 ({r.returncode}: {r.stderr.strip()[-300:]})")
    recs, rr = records(report, out)
    header = next((x["header"] for x in recs if "header" in x), {})
    lib = base64.b64decode(header.get("preload_library", "")).decode(errors="replace")  # bytes: base64 in JSON
    check(lib == os.path.join(shim_dir, "libprobe_preload.so"),
          f"{label}: the shim used is {shim_dir}/libprobe_preload.so (header says {lib!r})")
    shim_selects = [x["shim_call"] for x in recs if "shim_call" in x]
    sys_selects = [x["syscall"] for x in recs if "syscall" in x]
    check(len(shim_selects) >= SELECTS, f"{label}: {len(shim_selects)} shim calls >= {SELECTS} selects")
    check(len(sys_selects) >= SELECTS, f"{label}: {len(sys_selects)} kernel syscalls >= {SELECTS}")
    text = run([report, out])
    check(text.returncode == 0 and "python3" in text.stdout,
          f"{label}: report exits 0 and names python3 ({text.returncode}: {text.stderr.strip()[-200:]})")


def case_install():
    prefix = tempfile.mkdtemp(prefix="probe-prefix-")
    try:
        r = run(["cmake", "--install", BUILD, "--prefix", prefix])
        check(r.returncode == 0, f"cmake --install --prefix exits 0 ({r.stderr.strip()[-300:]})")
        pyver = "%d.%d" % tuple(map(int, run([PY, "-c", "import sys; print(*sys.version_info[:2])"]).stdout.split()))
        pydir = os.path.join(prefix, "lib", f"python{pyver}", "dist-packages")
        expected = ["bin/probe-agent", "bin/probe-report", "lib/probe/libprobe_preload.so",
                    "include/probe.h", "share/pkgconfig/probe.pc", "share/man/man1/probe-agent.1",
                    "share/man/man1/probe-report.1", "share/bash-completion/completions/probe-agent",
                    "share/bash-completion/completions/probe-report",
                    "lib/systemd/system/probe-agent.service",
                    os.path.relpath(os.path.join(pydir, "probe_trace.py"), prefix),
                    os.path.relpath(os.path.join(pydir, "probe_pb2.py"), prefix),
                    os.path.relpath(os.path.join(pydir, "probe_markers.py"), prefix)]
        for f in expected:
            check(os.path.exists(os.path.join(prefix, f)), f"installed {f}")
        if failures:
            return
        agent, report = os.path.join(prefix, "bin/probe-agent"), os.path.join(prefix, "bin/probe-report")
        # Nothing installed may point back at the build or source tree.
        for b in (agent, report, os.path.join(prefix, "lib/probe/libprobe_preload.so")):
            dyn = run(["readelf", "-d", b]).stdout
            check("RUNPATH" not in dyn and "RPATH" not in dyn, f"{os.path.basename(b)} has no RPATH/RUNPATH")

        # The same checks with the build tree hidden: a tmpfs over it in a
        # private mount namespace, so nothing of it can be found.
        r = run(["unshare", "--mount", "--propagation", "private", "sh", "-c",
                 f"mount -t tmpfs probe-hidden {BUILD} && exec {PY} {os.path.abspath(__file__)} "
                 f"install-hidden {BUILD} {prefix} {pydir}"])
        print(r.stdout, end="")
        check(r.returncode == 0, f"installed tree works with the build tree hidden ({r.stderr.strip()[-400:]})")

        # The error names every place the agent looked for the shim.
        os.rename(os.path.join(prefix, "lib/probe"), os.path.join(prefix, "lib/probe.away"))
        r = run([agent, "--preload", "-o", os.path.join(prefix, "x.ptrace"), "--", "/bin/true"])
        check(r.returncode != 0 and f"{prefix}/bin/../lib/probe/libprobe_preload.so" in r.stderr
              and "looked in" in r.stderr and r.stderr.count("\n") == 1,
              f"a missing shim: one line naming where the agent looked ({r.stderr.strip()})")
        os.rename(os.path.join(prefix, "lib/probe.away"), os.path.join(prefix, "lib/probe"))

        # Man pages: generated from --help, so every option of --help is there.
        for tool, binary in (("probe-agent", agent), ("probe-report", report)):
            man = open(os.path.join(prefix, f"share/man/man1/{tool}.1")).read().replace("\\-", "-")
            opts = set(re.findall(r"(?<![\w-])(--[a-z][\w-]*)", run([binary, "--help"]).stdout))
            missing = [o for o in opts if o not in man]
            check(len(opts) > 5 and not missing, f"{tool}.1 has all {len(opts)} options of --help (missing {missing})")
            check(man.startswith(".TH " + tool.upper()), f"{tool}.1 is a man page")
            if shutil.which("groff"):
                g = run(["groff", "-man", "-Tutf8", "-ww", "-z", os.path.join(prefix, f"share/man/man1/{tool}.1")])
                check(g.returncode == 0 and not g.stderr, f"{tool}.1 renders without groff warnings ({g.stderr[:200]})")
        # pkg-config names the installed header.
        pc = run(["pkg-config", "--cflags", "probe"], env=dict(os.environ, PKG_CONFIG_PATH=os.path.join(prefix, "share/pkgconfig")))
        check(pc.returncode == 0 and f"-I{prefix}/include" in pc.stdout, f"pkg-config --cflags probe ({pc.stdout.strip()} {pc.stderr.strip()})")
        # Bash completion: options, and kinds after --events / --kind.
        comp = os.path.join(prefix, "share/bash-completion/completions/probe-agent")
        def complete(*words):
            cmd = f"source {comp}; COMP_WORDS=({' '.join(words)}); COMP_CWORD={len(words) - 1}; _probe_complete; echo \"${{COMPREPLY[*]}}\""
            return run(["bash", "-c", cmd]).stdout.split()
        check(complete("probe-agent", "--ev") == ["--events"], f"completes --ev to --events ({complete('probe-agent', '--ev')})")
        check(complete("probe-agent", "--events", "sys") == ["syscall"], "completes a kind after --events")
        check(complete("probe-report", "--kind", "syscall,ma") == ["syscall,marker"], "completes a kind list after --kind")
        check(complete("probe-agent", "--events", "=", "wa") == ["wakeup"], "completes a kind after --events=")
    finally:
        shutil.rmtree(prefix, ignore_errors=True)


def case_package():
    tmp = tempfile.mkdtemp(prefix="probe-deb-")
    try:
        r = run(["cpack", "-G", "DEB", "-B", tmp], cwd=BUILD, timeout=300)
        debs = [f for f in os.listdir(tmp) if f.endswith(".deb")]
        check(r.returncode == 0 and len(debs) == 1, f"cpack -G DEB makes one .deb ({debs} {r.stderr.strip()[-300:]})")
        if not debs:
            return
        deb = os.path.join(tmp, debs[0])
        depends = run(["dpkg-deb", "-f", deb, "Depends"]).stdout
        dep_names = {d.strip().split()[0] for d in depends.split(",") if d.strip()}
        # Every shared library the binaries link (their NEEDED entries, as
        # dpkg-shlibdeps counts them; what those load in turn is their own
        # packages' Depends, e.g. libcurl4's TLS libraries) belongs to a
        # package in Depends.
        for binary in (AGENT, REPORT):
            needed = set(re.findall(r"\(NEEDED\)\s+Shared library: \[(\S+)\]",
                                    run(["readelf", "-d", binary]).stdout))
            for name, lib in re.findall(r"^\s*(\S+) => (/\S+)", run(["ldd", binary]).stdout, re.M):
                if name not in needed:
                    continue
                owner = run(["dpkg", "-S", os.path.realpath(lib)])
                if owner.returncode != 0:
                    owner = run(["dpkg", "-S", lib])
                pkg = owner.stdout.split(":")[0]
                check(pkg in dep_names, f"{os.path.basename(binary)} loads {lib}, owned by {pkg!r}, in Depends")
        for name in ("libbpf1", "libprotobuf32", "libelf1", "zlib1g"):
            check(name in dep_names, f"Depends names {name} ({depends.strip()})")
        listing = run(["dpkg-deb", "-c", deb]).stdout
        for f in ("./usr/bin/probe-agent", "./usr/bin/probe-report", "./usr/lib/probe/libprobe_preload.so",
                  "./usr/include/probe.h", "./usr/share/man/man1/probe-agent.1",
                  "./usr/lib/python3/dist-packages/probe_trace.py", "./usr/lib/python3/dist-packages/probe_pb2.py",
                  "./usr/lib/systemd/system/probe-agent.service"):
            check(f in listing, f"the package lists {f}")
        root = os.path.join(tmp, "root")
        r = run(["dpkg", "-x", deb, root])
        check(r.returncode == 0, "dpkg -x unpacks it into a scratch root")
        agent, report = os.path.join(root, "usr/bin/probe-agent"), os.path.join(root, "usr/bin/probe-report")
        v = run([agent, "--version"])
        check(v.returncode == 0 and v.stdout.startswith("probe-agent "), f"unpacked probe-agent --version ({v.stdout.strip()})")
        check_recording(agent, report, os.path.join(tmp, "run.ptrace"), os.path.join(root, "usr/lib/probe"), "unpacked .deb")
        # dpkg -i into a scratch root with its own (empty) dpkg database: it
        # installs, and names the declared dependencies it does not have.
        droot = os.path.join(tmp, "dpkg-root")
        for d in ("info", "updates", "triggers"):
            os.makedirs(os.path.join(droot, "var/lib/dpkg", d))
        open(os.path.join(droot, "var/lib/dpkg/status"), "w").close()
        r = run(["dpkg", f"--root={droot}", "--force-depends", "--force-script-chrootless", "-i", deb])
        status = run(["dpkg", f"--root={droot}", "-s", "probe"]).stdout
        check(r.returncode == 0 and "Status: install ok installed" in status,
              f"dpkg --root -i installs it ({r.stderr.strip()[-200:]})")
        check("probe depends on libbpf1" in r.stdout + r.stderr, "dpkg sees the libbpf1 dependency")
        v = run([os.path.join(droot, "usr/bin/probe-report"), "--version"])
        check(v.returncode == 0 and v.stdout.startswith("probe-report "), "dpkg-installed probe-report --version")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def case_pipe():
    tmp = tempfile.mkdtemp(prefix="probe-pipe-")
    try:
        marker = "written-by-the-command"
        agent = subprocess.Popen([AGENT, "-o", "-", "--events", "process,syscall", "--", "sh", "-c",
                                  f"echo {marker}; exec " + " ".join(f"'{w}'" for w in WORKLOAD)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=tmp)
        report = subprocess.run([REPORT, "-"], stdin=agent.stdout, capture_output=True, text=True, timeout=60)
        agent.stdout.close()
        agent_err = agent.stderr.read().decode(errors="replace")
        agent.wait(timeout=60)
        check(agent.returncode == 0, f"agent -o - exits 0 ({agent.returncode}: {agent_err.strip()[-300:]})")
        check(report.returncode == 0, f"probe-report - exits 0 ({report.returncode}: {report.stderr.strip()[-300:]})")
        check("python3" in report.stdout and "pselect6" in report.stdout,
              "the report of the stream shows python3 and its pselect6 calls")
        m = re.search(r"pselect6\s+(\d+)", report.stdout)
        check(m is not None and int(m.group(1)) >= SELECTS, f"pselect6 count >= {SELECTS} ({m and m.group(0)})")
        check(marker in agent_err, "the command's stdout went to stderr, not into the stream")
        check("has no trailer" not in report.stderr, "the stream ends with a trailer")
        check(os.listdir(tmp) == [], f"no file named '-' (or any) was created ({os.listdir(tmp)})")
        # A file on stdin reads the same as the file.
        out = os.path.join(tmp, "run.ptrace")
        run([AGENT, "-o", out, "--events", "process", "--", "/bin/true"])
        a = run([REPORT, out]).stdout
        with open(out, "rb") as f:
            b = run([REPORT, "-"], stdin=f).stdout
        check(a == b and a, "probe-report - < FILE prints what probe-report FILE prints")
        # A failed start with -o - removes nothing: not even a file named "-".
        dash = os.path.join(tmp, "-")
        with open(dash, "w") as f:
            f.write("not ours")
        with open(os.path.join(tmp, "sink"), "wb") as sink:
            r = run([AGENT, "-o", "-", "--preload-library", "/nonexistent/libprobe_preload.so", "--", "/bin/true"],
                    cwd=tmp, stdout=sink, capture_output=False, stderr=subprocess.PIPE)
        check(r.returncode != 0 and open(dash).read() == "not ours",
              f"a failed -o - run leaves a file named '-' alone ({r.stderr.strip()})")
        os.unlink(dash)
        # --comm reads the file twice: refused on stdin with one line.
        with open(out, "rb") as f:
            r = run([REPORT, "--comm", "true", "-"], stdin=f)
        check(r.returncode == 2 and "stdin" in r.stderr and r.stderr.count("\n") == 1,
              f"--comm with stdin: one line ({r.stderr.strip()})")
        # A terminal is refused (through a pty).
        import pty
        pid, fd = pty.fork()
        if pid == 0:
            os.dup2(os.open("/dev/null", os.O_WRONLY), 2)
            os.execv(AGENT, [AGENT, "-o", "-", "--", "/bin/true"])
        _, status = os.waitpid(pid, 0)
        os.close(fd)
        check(os.WIFEXITED(status) and os.WEXITSTATUS(status) != 0, "-o - on a terminal is refused")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def case_version():
    btf = os.path.exists("/sys/kernel/btf/vmlinux")
    libbpf = run(["dpkg-query", "-W", "-f", "${Version}", "libbpf1"]).stdout  # e.g. 1:1.1.2-0+deb12u1
    major_minor = re.match(r"(?:\d+:)?(\d+\.\d+)", libbpf).group(1)
    git = run(["git", "-C", SOURCE, "describe", "--tags", "--always", "--dirty"]).stdout.strip()
    for tool, binary in (("probe-agent", AGENT), ("probe-report", REPORT)):
        r = run([binary, "--version"])
        print(r.stdout, end="")
        check(r.returncode == 0 and r.stdout.startswith(f"{tool} 0."), f"{tool} --version exits 0 with its version")
        check(major_minor in r.stdout and "libbpf" in r.stdout, f"{tool} --version names libbpf {major_minor}")
        check(("kernel BTF: present" if btf else "kernel BTF: absent") in r.stdout, f"{tool} --version says BTF present={btf}")
        if git:
            got = re.search(r"\(git ([^)]+)\)", r.stdout)
            # The build's describe; the tree may have changed since (dirty).
            check(got is not None and got.group(1).split("-dirty")[0][:7] == git.split("-dirty")[0][:7],
                  f"{tool} --version has git describe ({got and got.group(1)} vs {git})")


def case_options():
    tmp = tempfile.mkdtemp(prefix="probe-opts-")
    try:
        out = os.path.join(tmp, "run.ptrace")
        sleeper = subprocess.Popen(["sleep", "30"])
        try:
            r = run([AGENT, f"--pid={sleeper.pid}", f"--output={out}", "--events=processes,syscalls",
                     "--duration=300ms", "--tag=team=db", "--tag", "run=3", "--min-latency=0"])
        finally:
            sleeper.kill()
            sleeper.wait()
        check(r.returncode == 0, f"--pid=N --output=FILE --events=... --duration=300ms ({r.stderr.strip()[-300:]})")
        recs, _ = records(REPORT, out)
        h = next((x["header"] for x in recs if "header" in x), {})
        check(h.get("target_pids") == [sleeper.pid], f"--pid=N traced {sleeper.pid} ({h.get('target_pids')})")
        check(h.get("events") == ["process", "syscalls"], f"plural kinds accepted ({h.get('events')})")
        # The run identity against the kernel's own values.
        boot_id = open("/proc/sys/kernel/random/boot_id").read().strip()
        check(h.get("boot_id") == boot_id, f"boot_id {h.get('boot_id')} == {boot_id}")
        try:
            machine_id = open("/etc/machine-id").read().strip()
        except OSError:
            machine_id = None
        check(h.get("machine_id", "") == (machine_id or ""), f"machine_id {h.get('machine_id')} == {machine_id}")
        check(h.get("cpu_count") == os.sysconf("SC_NPROCESSORS_ONLN"), f"cpu_count {h.get('cpu_count')}")
        offset = time.clock_gettime_ns(time.CLOCK_BOOTTIME) - time.clock_gettime_ns(time.CLOCK_MONOTONIC)
        got = int(h.get("boottime_offset_ns", 0))
        check(abs(got - offset) < 2_000_000, f"boottime_offset_ns {got} within 2 ms of {offset}")
        rid = h.get("run_id", "")
        check(bool(re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", rid)),
              f"run_id is a UUID v4 ({rid})")
        tags = [(base64.b64decode(t.get("key", "")).decode(), base64.b64decode(t.get("value", "")).decode())
                for t in h.get("tags", [])]  # bytes: base64 in JSON
        check(tags == [("team", "db"), ("run", "3")], f"tags in order ({tags})")
        text = run([REPORT, out]).stdout
        check(f"run {rid}, boot {boot_id}" in text and "tags: team=db, run=3" in text,
              "the report prints the run identity and tags")
        # Bundled short flags, an attached short value, a bare number as seconds.
        out2 = os.path.join(tmp, "run2.ptrace")
        open(out2, "w").close()
        r = run([AGENT, "-fo", out2, "-eprocess", "-d", "0.2", "--", "/bin/true"])
        check(r.returncode == 0, f"-fo FILE -eprocess -d 0.2 ({r.stderr.strip()[-300:]})")
        rid2 = next((x["header"] for x in records(REPORT, out2)[0] if "header" in x), {}).get("run_id")
        check(rid2 and rid2 != rid, "each run has its own run id")
        # The report: --kind with either spelling, --from/--to with units.
        a = run([REPORT, "--json", "--kind=syscall", out]).stdout
        b = run([REPORT, "--json", "--kind", "syscalls", "--from=0", "--to=1m", out]).stdout
        check(a == b and a, "--kind=syscall == --kind syscalls with --from=0 --to=1m")
        # One line and a non-zero exit for each misuse.
        for args, needle in (([AGENT, "--all=yes"], "takes no value"),
                             ([AGENT, "--pid=abc"], "invalid pid 'abc'"),
                             ([AGENT, "-xz", "--all"], "unknown option '-x'"),
                             ([AGENT, "--all", "--duration=5h"], "invalid duration"),
                             ([AGENT, "--all", "--tag=novalue"], "invalid --tag"),
                             ([AGENT, "--all", "--tag", "k=\x01"], "invalid --tag"),
                             ([REPORT, "--kind=bogus", out], "unknown --kind 'bogus'"),
                             ([REPORT, "--from=-1", out], "invalid --from")):
            r = run(args)
            check(r.returncode == 2 and needle in r.stderr and r.stderr.count("\n") == 1,
                  f"{' '.join(args[1:])}: one line with {needle!r} ({r.stderr.strip()})")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def case_python():
    """pip install ./python offline into a venv (Debian's protobuf and pandas
    through --system-site-packages), then probe_trace.frames() from / on a
    recording, checked against the records and the kernel's view."""
    tmp = tempfile.mkdtemp(prefix="probe-py-")
    try:
        # A copy of python/ and proto/: the package build writes in its tree.
        for d in ("python", "proto"):
            shutil.copytree(os.path.join(SOURCE, d), os.path.join(tmp, d),
                            ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
        venv = os.path.join(tmp, "venv")
        # Debian's pip through the system site (ensurepip would take ~20 s).
        r = run([PY, "-m", "venv", "--system-site-packages", "--without-pip", venv])
        check(r.returncode == 0, f"python3 -m venv ({r.stderr.strip()[-200:]})")
        r = run([os.path.join(venv, "bin/python"), "-m", "pip", "install", "--no-index", "--no-build-isolation",
                 os.path.join(tmp, "python")], env=dict(os.environ, PIP_NO_INPUT="1"))
        check(r.returncode == 0, f"pip install --no-index ./python ({(r.stdout + r.stderr).strip()[-300:]})")
        out = os.path.join(tmp, "run.ptrace")
        r = run([AGENT, "--preload", "-o", out, "--"] + WORKLOAD)
        check(r.returncode == 0, f"recorded ({r.stderr.strip()[-200:]})")
        script = f"""
import json, probe_trace
f = probe_trace.frames({out!r})
shim, sys_ = f["shim_calls"], f["syscalls"]
recs = [r for r in probe_trace.read({out!r}) if r.WhichOneof("kind") == "shim_call"]
print(json.dumps(dict(
    module=probe_trace.__file__, kinds=sorted(f),
    columns={{k: list(v.columns) for k, v in f.items()}},
    entry_dtype=str(shim["entry_ns"].dtype),
    entries=[int(x) for x in shim["entry_ns"]], record_entries=[r.shim_call.entry_ns for r in recs],
    functions=sorted(set(shim["function"])), kernel=sorted(set(str(x) for x in shim["kernel_syscall"])),
    user_ns_min=int(shim["user_ns"].min()), kernel_min=int(shim["kernel_duration_ns"].min()),
    inside=bool(((shim["kernel_start_time_ns"] >= shim["entry_ns"]) &
                 (shim["kernel_start_time_ns"] + shim["kernel_duration_ns"] <= shim["entry_ns"] + shim["duration_ns"])).all()),
    sys_comm_dtype=str(sys_["pid"].dtype), timed_out_dtype=str(sys_["timed_out"].dtype),
    timed_out=int(sys_["timed_out"].sum()))))
"""
        r = run([os.path.join(venv, "bin/python"), "-c", script], cwd="/",
                env=dict(os.environ, PROBE_REPORT=REPORT, PYTHONPATH=""))
        check(r.returncode == 0, f"frames() from / ({r.stderr.strip()[-400:]})")
        if r.returncode != 0:
            return
        got = json.loads(r.stdout)
        check(got["module"].startswith(venv), f"probe_trace imported from the venv ({got['module']})")
        csv_dir = os.path.join(tmp, "csv")
        run([REPORT, "--no-progress", "--csv", csv_dir, out])
        for name in os.listdir(csv_dir):
            header = open(os.path.join(csv_dir, name)).readline().strip().split(",")
            cols = got["columns"].get(name[:-4], [])
            check(cols[:len(header)] == header, f"frames()[{name[:-4]!r}] has the columns of {name}")
        check(got["entry_dtype"] == "Int64" and got["sys_comm_dtype"] == "Int64", "64-bit integers stay integers")
        # Every select() waited out its 1 ms timeout: true/false as booleans.
        check(got["timed_out_dtype"] == "boolean" and got["timed_out"] == SELECTS,
              f"timed_out is boolean and true {SELECTS} times ({got['timed_out_dtype']}, {got['timed_out']})")
        check(got["entries"] == sorted(got["record_entries"]) or got["entries"] == got["record_entries"],
              "entry_ns equal the records' to the nanosecond")
        check(len(got["entries"]) == SELECTS and got["functions"] == ["select"], f"{SELECTS} select shim calls")
        check(got["kernel"] == ["pselect6"], f"each matched to the kernel's pselect6 ({got['kernel']})")
        check(got["inside"] and got["user_ns_min"] >= 0, "the kernel call lies inside the shim's span")
        check(got["kernel_min"] >= 1_000_000, f"the kernel waited the 1 ms timeout ({got['kernel_min']} ns)")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def case_install_hidden():
    """Run by case_install in a mount namespace where BUILD is an empty tmpfs."""
    prefix, pydir = sys.argv[3], sys.argv[4]
    check(os.listdir(BUILD) == [], "the build tree is hidden")
    os.chdir("/")
    out = os.path.join(prefix, "run.ptrace")
    check_recording(os.path.join(prefix, "bin/probe-agent"), os.path.join(prefix, "bin/probe-report"),
                    out, os.path.join(prefix, "lib/probe"), "installed, build tree hidden")
    r = run([PY, "-c", "import probe_trace, sys; print(sum(1 for _ in probe_trace.read(sys.argv[1])))", out],
            env=dict(os.environ, PYTHONPATH=pydir))
    check(r.returncode == 0 and int(r.stdout or 0) > SELECTS,
          f"the installed probe_trace reads the file ({r.stdout.strip()} {r.stderr.strip()[-200:]})")


if __name__ == "__main__":
    if os.geteuid() != 0:
        sys.exit("install_test: needs root (BPF)")
    {"install": case_install, "install-hidden": case_install_hidden, "package": case_package, "pipe": case_pipe, "python": case_python,
     "version": case_version, "options": case_options}[CASE]()
    print(f"{len(failures)} failed" if failures else "all passed")
    sys.exit(1 if failures else 0)
