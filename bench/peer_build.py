"""Builds the libbpf-tools peers (syscount, runqlat) from the sources
vendored in bench/peers/libbpf-tools: Debian 12's archive has no
libbpf-tools package, and these machines reach package registries only.
Compiled the way libbpf-tools' own Makefile does (clang -target bpf against
the running kernel's vmlinux.h, a bpftool skeleton, the C helpers linked
with libbpf), against Debian's libbpf."""
import os, shutil, subprocess

from benchlib import HERE

SRC = os.path.join(HERE, "peers", "libbpf-tools")
HELPERS = ["trace_helpers.c", "uprobe_helpers.c", "btf_helpers.c", "syscall_helpers.c",
           "errno_helpers.c", "map_helpers.c"]


def build_peers(out_dir, vmlinux_dir):
    """{"syscount": path, "runqlat": path}; raises RuntimeError with the
    compiler's message when a tool does not build."""
    if not os.path.exists(os.path.join(vmlinux_dir, "vmlinux.h")):
        raise RuntimeError(f"{vmlinux_dir}/vmlinux.h missing (build the project first)")
    work = os.path.join(out_dir, "libbpf-tools")
    os.makedirs(work, exist_ok=True)
    cc = shutil.which("gcc") or shutil.which("cc") or "clang"
    libbpf = subprocess.run(["pkg-config", "--cflags", "--libs", "libbpf"], capture_output=True,
                            text=True).stdout.split() or ["-lbpf", "-lelf", "-lz"]

    def run(cmd, stdout=None):
        r = subprocess.run(cmd, stdout=stdout, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            raise RuntimeError(" ".join(cmd) + "\n" + r.stderr)

    tools = {}
    for tool in ("syscount", "runqlat"):
        obj = os.path.join(work, tool + ".bpf.o")
        run(["clang", "-g", "-O2", "-target", "bpf", "-D__TARGET_ARCH_x86", "-I" + vmlinux_dir,
             "-I" + SRC, "-c", os.path.join(SRC, tool + ".bpf.c"), "-o", obj])
        with open(os.path.join(work, tool + ".skel.h"), "w") as skel:
            run(["bpftool", "gen", "skeleton", obj], stdout=skel)
        tools[tool] = os.path.join(work, tool)
        run([cc, "-O2", "-w", "-I" + work, "-I" + SRC, os.path.join(SRC, tool + ".c"),
             *[os.path.join(SRC, h) for h in HELPERS], "-o", tools[tool], *libbpf, "-lelf", "-lz"])
    return tools
