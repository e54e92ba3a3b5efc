"""The part of the package pyproject.toml cannot say: probe_pb2.py is not in
the source tree, it is generated from ../proto/probe.proto with protoc (a
build dependency of probe) when the package is built, or copied from a
probe build directory ($PROBE_BUILD_DIR, ../build) when protoc is absent."""
import os
import shutil
import subprocess

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = os.path.dirname(os.path.abspath(__file__))


class BuildPyWithPb2(build_py):
    def run(self):
        super().run()
        os.makedirs(self.build_lib, exist_ok=True)
        proto_dir = os.path.normpath(os.path.join(HERE, os.pardir, "proto"))
        protoc = shutil.which("protoc")
        if protoc and os.path.isfile(os.path.join(proto_dir, "probe.proto")):
            subprocess.run([protoc, f"--python_out={self.build_lib}", f"-I{proto_dir}", "probe.proto"],
                           check=True)
            return
        for build in (os.environ.get("PROBE_BUILD_DIR"), os.path.join(HERE, os.pardir, "build")):
            pb2 = os.path.join(build or "", "python", "probe_pb2.py")
            if build and os.path.isfile(pb2):
                shutil.copyfile(pb2, os.path.join(self.build_lib, "probe_pb2.py"))
                return
        raise SystemExit("probe_pb2.py: no protoc (apt-get install protobuf-compiler) and no "
                         "probe build directory with python/probe_pb2.py")


setup(py_modules=["probe_trace", "probe_frames"], cmdclass={"build_py": BuildPyWithPb2})
