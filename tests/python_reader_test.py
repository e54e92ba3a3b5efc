#!/usr/bin/python3
"""Tests of python/probe_trace.py and python/examples/slowest_waits.py.

    /usr/bin/python3 tests/python_reader_test.py BUILD_DIR

Run by ctest (test python_reader) with the build directory, whose python/
holds the generated probe_pb2.py. Needs Debian's python3-protobuf, hence
/usr/bin/python3. Writes a small valid file with probe_pb2 (header, records,
trailer), a truncated and a corrupt copy, and checks what the reader returns;
runs the example on the valid file; and, as root with a built agent, reads a
file the agent recorded.
"""

import io
import os
import shutil
import subprocess
import sys
import tempfile
import unittest

SOURCE_DIR = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), os.pardir))
PYTHON_DIR = os.path.join(SOURCE_DIR, "python")
EXAMPLE = os.path.join(PYTHON_DIR, "examples", "slowest_waits.py")
BUILD_DIR = os.environ.get("PROBE_BUILD_DIR") or os.path.join(SOURCE_DIR, "build")

probe_trace = None
pb = None


def frame(record):
    body = record.SerializeToString()
    out = bytearray([0x0A])
    n = len(body)
    while True:
        b = n & 0x7F
        n >>= 7
        out.append(b | (0x80 if n else 0))
        if not n:
            break
    return bytes(out) + body


def sample_records():
    records = []
    r = pb.Record()
    r.header.format_version = 1
    r.header.hostname = b"testhost"
    r.header.target_pids.append(100)
    records.append(r)

    r = pb.Record()
    r.thread_name.pid, r.thread_name.tid, r.thread_name.comm = 200, 201, b"waker"
    records.append(r)

    for i, duration in enumerate((1000, 9000000, 5000, 3000000)):
        r = pb.Record()
        c = r.syscall
        c.pid, c.tid = 100, 101
        c.syscall = pb.SYSCALL_EPOLL_WAIT
        c.start_time_ns = 10000 * (i + 1)
        c.duration_ns = duration
        c.ret = -4 if i == 2 else 1
        c.fd = 7
        if duration > 1000000:
            b = c.breakdown
            b.to_block_ns, b.blocked_ns, b.run_queue_ns = 100, duration - 300, 150
            b.return_ns = 50
            b.woken = True
            b.waker.pid, b.waker.tid, b.waker.syscall_nr = 200, 201, 1
            b.waker.fd = 5
        records.append(r)

    r = pb.Record()
    r.marker.pid, r.marker.tid, r.marker.name = 100, 101, b"step, \"one\""
    r.marker.type = pb.MARKER_BEGIN
    r.marker.arg0 = -3
    records.append(r)

    r = pb.Record()
    r.trailer.time_ns = 99999
    r.trailer.stop_reason = "targets exited"
    k = r.trailer.counters.add()
    k.kind, k.produced, k.written = pb.EVENT_KIND_SYSCALL, 4, 4
    records.append(r)
    return records


class ReaderTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp(prefix="probe_pytest_")
        cls.records = sample_records()
        cls.data = b"".join(frame(r) for r in cls.records)
        cls.valid = os.path.join(cls.tmp, "valid.ptrace")
        with open(cls.valid, "wb") as f:
            f.write(cls.data)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, name, data):
        path = os.path.join(self.tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path

    def test_valid_file(self):
        reader = probe_trace.Reader(self.valid)
        got = list(reader)
        self.assertEqual(reader.status, "end")
        self.assertEqual(reader.reason, "")
        self.assertEqual(reader.offset, len(self.data))
        self.assertEqual(got, self.records)
        kinds = [r.WhichOneof("kind") for r in got]
        self.assertEqual(kinds, ["header", "thread_name"] + ["syscall"] * 4 + ["marker", "trailer"])
        self.assertEqual(got[0].header.hostname, b"testhost")
        self.assertEqual(list(got[0].header.target_pids), [100])
        c = got[3].syscall
        self.assertEqual(c.syscall, pb.SYSCALL_EPOLL_WAIT)
        self.assertEqual(c.duration_ns, 9000000)
        self.assertEqual(c.fd, 7)
        self.assertEqual(c.breakdown.waker.tid, 201)
        self.assertEqual(c.breakdown.waker.comm, b"")  # nothing resolved
        self.assertEqual(got[4].syscall.ret, -4)
        self.assertFalse(got[2].syscall.HasField("breakdown"))
        self.assertEqual(got[6].marker.name, b"step, \"one\"")
        self.assertEqual(got[6].marker.arg0, -3)
        self.assertEqual(got[7].trailer.stop_reason, "targets exited")
        self.assertEqual(got[7].trailer.counters[0].written, 4)

    def test_read_generator(self):
        self.assertEqual(len(list(probe_trace.read(self.valid))), len(self.records))
        self.assertEqual(len(list(probe_trace.read(self.valid, strict=True))), len(self.records))
        with open(self.valid, "rb") as f:  # a file object works too
            self.assertEqual(len(list(probe_trace.read(f))), len(self.records))
        self.assertEqual(len(list(probe_trace.read(io.BytesIO(self.data)))), len(self.records))

    def test_empty_file(self):
        reader = probe_trace.Reader(self.write("empty.ptrace", b""))
        self.assertEqual(list(reader), [])
        self.assertEqual((reader.status, reader.offset), ("end", 0))

    def test_truncated_inside_a_record(self):
        last = len(frame(self.records[-1]))
        path = self.write("cut.ptrace", self.data[:-3])
        reader = probe_trace.Reader(path)
        got = list(reader)
        self.assertEqual(got, self.records[:-1])
        self.assertEqual(reader.status, "truncated")
        self.assertEqual(reader.offset, len(self.data) - last)
        self.assertIn("file ends inside a record", reader.reason)
        # read() stops at the tail with a warning, or raises with strict=True.
        with self.assertWarnsRegex(probe_trace.TraceWarning, "truncated after 7 records"):
            self.assertEqual(len(list(probe_trace.read(path))), len(self.records) - 1)
        with self.assertRaises(probe_trace.TraceError) as cm:
            list(probe_trace.read(path, strict=True))
        self.assertEqual(cm.exception.status, "truncated")

    def test_truncated_inside_a_header(self):
        path = self.write("cut_header.ptrace", self.data + b"\x0a\x85")  # length varint cut
        reader = probe_trace.Reader(path)
        self.assertEqual(len(list(reader)), len(self.records))
        self.assertEqual(reader.status, "truncated")
        self.assertEqual(reader.offset, len(self.data))
        self.assertIn("header", reader.reason)

    def test_corrupt_tag(self):
        first_two = len(frame(self.records[0])) + len(frame(self.records[1]))
        data = bytearray(self.data)
        data[first_two] = 0x12  # the third frame's tag
        reader = probe_trace.Reader(self.write("bad_tag.ptrace", bytes(data)))
        self.assertEqual(list(reader), self.records[:2])
        self.assertEqual(reader.status, "corrupt")
        self.assertEqual(reader.offset, first_two)
        self.assertIn("bad record tag 0x12", reader.reason)

    def test_corrupt_body_and_length(self):
        bad_body = b"\x0a\x03\xff\xff\xff"  # a frame whose body is not a Record
        reader = probe_trace.Reader(self.write("bad_body.ptrace", self.data[:len(frame(self.records[0]))] + bad_body))
        self.assertEqual(len(list(reader)), 1)
        self.assertEqual(reader.status, "corrupt")
        self.assertIn("does not parse", reader.reason)

        head = self.data[:len(frame(self.records[0]))]
        huge = b"\x0a\x80\x80\x80\x10" + b"\0" * 16  # 32 MiB: over the limit, never read
        reader = probe_trace.Reader(self.write("huge.ptrace", head + huge))
        self.assertEqual(len(list(reader)), 1)
        self.assertEqual((reader.status, reader.offset), ("corrupt", len(head)))
        self.assertIn("exceeds limit", reader.reason)

        reader = probe_trace.Reader(self.write("varint.ptrace", head + b"\x0a" + b"\xff" * 12))
        self.assertEqual(len(list(reader)), 1)
        self.assertEqual(reader.status, "corrupt")
        self.assertIn("varint too long", reader.reason)

    def test_unknown_kind_is_returned(self):
        unknown = b"\x0a\x03\xfa\x01\x00"  # Record field 31, empty: a kind from the future
        head = len(frame(self.records[0]))
        data = self.data[:head] + unknown + self.data[head:]
        reader = probe_trace.Reader(self.write("future.ptrace", data))
        got = list(reader)
        self.assertEqual(reader.status, "end")
        self.assertEqual(len(got), len(self.records) + 1)
        self.assertIsNone(got[1].WhichOneof("kind"))

    def test_large_file_streams(self):
        r = pb.Record()
        r.marker.name = b"x" * 100
        data = frame(self.records[0]) + frame(r) * 5000  # several read chunks
        reader = probe_trace.Reader(self.write("large.ptrace", data))
        self.assertEqual(sum(1 for _ in reader), 5001)
        self.assertEqual((reader.status, reader.offset), ("end", len(data)))

    # Issue 17 item 1: names are bytes, kept exact; text() shows them.
    def test_names_are_bytes_shown_with_escapes(self):
        r = pb.Record()
        r.process.pid, r.process.comm = 5, b"e\x1b[31m\xff\xfe"
        r.process.argv.extend([b"/bin/true", b"\xff", "caf\u00e9".encode()])
        path = self.write("bytes.ptrace", frame(self.records[0]) + frame(r))
        got = list(probe_trace.read(path, strict=True))
        self.assertEqual(got[1].process.comm, b"e\x1b[31m\xff\xfe")
        self.assertEqual(list(got[1].process.argv), [b"/bin/true", b"\xff", "caf\u00e9".encode()])
        self.assertEqual(probe_trace.text(got[1].process.comm), "e\x1b[31m\\xff\\xfe")
        self.assertEqual(probe_trace.text(got[1].process.argv[2]), "caf\u00e9")
        self.assertEqual(probe_trace.text("already text"), "already text")

    # Issue 17 items 1 and 12: a corrupt tail is said (a warning by default),
    # and a file without a whole header first is not a recording.
    def test_corrupt_tail_warns_by_default(self):
        bad = self.write("bad_tail.ptrace", self.data + b"\x0a\x03\xff\xff\xff")
        with self.assertWarnsRegex(probe_trace.TraceWarning, "corrupt after 8 records"):
            self.assertEqual(len(list(probe_trace.read(bad))), len(self.records))
        reader = probe_trace.Reader(bad, warn=False)
        list(reader)
        self.assertEqual(reader.status, "corrupt")
        with self.assertRaises(probe_trace.TraceError):
            list(probe_trace.read(bad, strict=True))

    def test_not_a_record_file(self):
        for name, data in (("five.bin", b"\x0a\xff\xff\xff\x07"),
                           ("cut_header.bin", self.data[:5]),
                           ("headless.bin", self.data[len(frame(self.records[0])):])):
            reader = probe_trace.Reader(self.write(name, data), warn=False)
            self.assertEqual(list(reader), [], name)
            self.assertEqual((reader.status, reader.offset), ("not a probe record file", 0), name)
        self.assertIn("first record", reader.reason)
        with self.assertWarnsRegex(probe_trace.TraceWarning, "not a probe record file"):
            list(probe_trace.read(self.write("five2.bin", b"\x0a\xff\xff\xff\x07")))

    def run_example(self, path):
        env = dict(os.environ, PYTHONPATH=os.path.join(BUILD_DIR, "python"))
        return subprocess.run([sys.executable, EXAMPLE, path], env=env, capture_output=True,
                              text=True, timeout=60)

    def test_example_script(self):
        out = self.run_example(self.valid)
        self.assertEqual(out.returncode, 0, out.stderr)
        lines = out.stdout.splitlines()
        self.assertIn("4 slowest of 4 syscall records", lines[0])
        self.assertIn("9 ms", lines[1])  # the slowest first
        self.assertIn("epoll_wait", lines[1])
        self.assertIn("blocked", lines[2])
        self.assertIn("woken by tid 201 (waker, pid 200) in write(fd 5)", lines[3])
        self.assertIn("never left the CPU", out.stdout)
        self.assertNotIn("stopped early", out.stdout)

        out = self.run_example(self.write("cut_example.ptrace", self.data[:-3]))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("stopped early: truncated", out.stdout)

    def test_agent_file(self):
        agent = os.path.join(BUILD_DIR, "agent", "probe-agent")
        if not os.access(agent, os.X_OK):
            self.skipTest("no agent at %s" % agent)
        if os.geteuid() != 0:
            self.skipTest("the agent needs root")
        path = os.path.join(self.tmp, "agent.ptrace")
        run = subprocess.run([agent, "-o", path, "--", "true"], capture_output=True, text=True,
                             timeout=120)
        if run.returncode != 0 and not os.path.exists(path):
            self.skipTest("the agent could not record here: %s" % run.stderr.strip()[-300:])
        self.assertEqual(run.returncode, 0, run.stderr)
        reader = probe_trace.Reader(path)
        got = list(reader)
        self.assertEqual(reader.status, "end", reader.reason)
        self.assertEqual(reader.offset, os.path.getsize(path))
        self.assertEqual(got[0].WhichOneof("kind"), "header")
        self.assertEqual(got[-1].WhichOneof("kind"), "trailer")
        self.assertTrue(any(r.WhichOneof("kind") == "process" and r.process.comm == b"true"
                            for r in got), "no ProcessLifetime of true")
        out = self.run_example(path)
        self.assertEqual(out.returncode, 0, out.stderr)


def main():
    global probe_trace, pb, BUILD_DIR
    args = sys.argv[1:]
    if args and not args[0].startswith("-"):
        BUILD_DIR = os.path.abspath(args.pop(0))
    os.environ["PROBE_BUILD_DIR"] = BUILD_DIR
    sys.path.insert(0, PYTHON_DIR)
    import probe_trace as module
    probe_trace, pb = module, module.probe_pb2
    print("probe_pb2 from %s, protobuf runtime %s" % (
        pb.__file__, __import__("google.protobuf").protobuf.__version__))
    unittest.main(argv=[sys.argv[0], "-v"] + args)


if __name__ == "__main__":
    main()
