"""Builds what syscall_bench.py runs: the ping-pong and syscall loop
workloads and the comparison BPF object with its loader."""
import os, shutil, subprocess

from benchlib import HERE, ROOT
from peer_build import build_peers
from syscall_settings import build, failures, out_dir


def build_all():
    os.makedirs(out_dir, exist_ok=True)
    cc = shutil.which("gcc") or shutil.which("cc") or "clang"
    bins = {}

    def run(cmd):
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(" ".join(cmd) + "\n" + r.stderr)

    for name, extra in (("pingpong", ["-pthread"]), ("syscall_loop", [])):
        bins[name] = os.path.join(out_dir, name)
        run([cc, "-O2", "-Wall", *extra, os.path.join(HERE, name + ".c"), "-o", bins[name]])
    # The comparison BPF object, compiled like bpf/CMakeLists.txt does.
    try:
        vmlinux_dir = os.path.join(build, "bpf")
        if not os.path.exists(os.path.join(vmlinux_dir, "vmlinux.h")):
            raise RuntimeError(f"{vmlinux_dir}/vmlinux.h missing (build the project first)")
        bins["cmp_obj"] = os.path.join(out_dir, "syscalls_tp_cmp.bpf.o")
        run(["clang", "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-I" + vmlinux_dir,
             "-I" + os.path.join(ROOT, "bpf"), "-c", os.path.join(HERE, "bpf/syscalls_tp_cmp.bpf.c"),
             "-o", bins["cmp_obj"]])
        bins["cmp_loader"] = os.path.join(out_dir, "tp_cmp_loader")
        libbpf = subprocess.run(["pkg-config", "--cflags", "--libs", "libbpf"], capture_output=True,
                                text=True).stdout.split() or ["-lbpf", "-lelf", "-lz"]
        run([cc, "-O2", "-Wall", "-I" + os.path.join(ROOT, "bpf"),
             os.path.join(HERE, "bpf/tp_cmp_loader.c"), "-o", bins["cmp_loader"], *libbpf])
    except RuntimeError as e:
        failures.append(f"comparison object did not build: {e}")
        bins.pop("cmp_obj", None)
        bins.pop("cmp_loader", None)
    # The peers: libbpf-tools' syscount and runqlat, from vendored sources.
    try:
        bins.update(build_peers(out_dir, os.path.join(build, "bpf")))
    except RuntimeError as e:
        failures.append(f"libbpf-tools peers did not build: {e}")
    return bins


# ---------------------------------------------------------------- tracefs


