"""Reads a probe record file frame by frame without protobuf (proto/FORMAT.md:
0x0a varint(len) Record): its syscall records, their exact bytes per field,
and the trailer's syscall counters; field numbers read from proto/probe.proto."""
import os, re

from benchlib import ROOT


def varint(b, i):
    r = s = 0
    while True:
        c = b[i]
        i += 1
        r |= (c & 0x7F) << s
        if c < 0x80:
            return r, i
        s += 7


def pb_fields(b, start=0, end=None):
    """[(field, wire_type, value, start, end)] of one protobuf message; value
    is an int (varint, fixed) or (start, end) of a length-delimited field."""
    end = len(b) if end is None else end
    out, i = [], start
    while i < end:
        f0 = i
        key, i = varint(b, i)
        field, wt = key >> 3, key & 7
        if wt == 0:
            v, i = varint(b, i)
        elif wt == 2:
            ln, i = varint(b, i)
            v = (i, i + ln)
            i += ln
        elif wt == 1:
            v = int.from_bytes(b[i:i + 8], "little")
            i += 8
        elif wt == 5:
            v = int.from_bytes(b[i:i + 4], "little")
            i += 4
        else:
            raise ValueError(f"wire type {wt} at {f0}")
        out.append((field, wt, v, f0, i))
    return out


def proto_fields(message):
    """{number: name} of a message in proto/probe.proto."""
    src = open(os.path.join(ROOT, "proto/probe.proto")).read()
    m = re.search(r"message\s+" + message + r"\s*\{(.*?)\n\}", src, re.S)
    if not m:
        return {}
    return {int(n): name for name, n in re.findall(r"^\s*(?:repeated\s+)?\w+\s+(\w+)\s*=\s*(\d+)\s*;",
                                                 m.group(1), re.M)}


RECORD = {name: num for num, name in proto_fields("Record").items()}
KC = proto_fields("KindCounters")
EVENT_KIND_SYSCALL = 2  # proto/probe.proto EventKind
FIELD_SAMPLE = 20000  # SyscallCall records whose fields are measured


def scan_file(path):
    """Counts and exact bytes of the file's syscall records, the trailer's
    EVENT_KIND_SYSCALL counters, and bytes per SyscallCall field."""
    b = open(path, "rb").read()
    n, i = len(b), 0
    sys_tag = RECORD.get("syscall", 6)
    trailer_tag = RECORD.get("trailer", 2)
    count = frame_bytes = body_bytes = 0
    trailer = None
    fields = {}
    by_sys = {}  # Syscall enum value -> (records, on-disk bytes)
    sampled = 0
    while i < n:
        start = i
        if b[i] != 0x0A:
            raise ValueError(f"{path}: bad frame tag at offset {i}")
        c = b[i + 1]
        if c < 0x80:
            ln, i = c, i + 2
        else:
            ln, i = varint(b, i + 1)
        body = i
        i += ln
        if i > n:
            raise ValueError(f"{path}: truncated record at offset {start}")
        tag = b[body] >> 3 if ln else 0
        if tag == sys_tag:
            count += 1
            frame_bytes += i - start
            body_bytes += ln
            sc = _syscall_of(b, body, i)
            by_sys[sc] = by_sys.get(sc, (0, 0))
            by_sys[sc] = (by_sys[sc][0] + 1, by_sys[sc][1] + i - start)
            if sampled < FIELD_SAMPLE:
                sampled += 1
                fields["(frame: 0x0a + length)"] = fields.get("(frame: 0x0a + length)", 0) + body - start
                (_, _, (s0, s1), f0, _), = pb_fields(b, body, i)
                fields["(Record.syscall tag + length)"] = fields.get("(Record.syscall tag + length)", 0) + s0 - f0
                for field, _, _, a, z in pb_fields(b, s0, s1):
                    name = SC_FIELDS.get(field, str(field))
                    fields[name] = fields.get(name, 0) + z - a
        elif tag == trailer_tag:
            trailer = (body, i)
    counters = None
    if trailer:
        (_, _, (t0, t1), _, _), = pb_fields(b, *trailer)
        for field, wt, v, _, _ in pb_fields(b, t0, t1):
            if KC and field == 2 and wt == 2:  # Trailer.counters
                kc = {KC.get(f, str(f)): val for f, w, val, _, _ in pb_fields(b, *v) if w == 0}
                if kc.get("kind") == EVENT_KIND_SYSCALL:
                    counters = kc
    per_field = {k: v / sampled for k, v in fields.items()} if sampled else {}
    return {"records": count, "frame_bytes": frame_bytes, "body_bytes": body_bytes, "file_bytes": n,
            "counters": counters, "fields": per_field, "field_sample": sampled, "by_syscall": by_sys}


SC_FIELDS = proto_fields("SyscallCall")
SC_SYSCALL_FIELD = {v: k for k, v in SC_FIELDS.items()}.get("syscall", 3)


def _syscall_of(b, body, end):
    """The SyscallCall.syscall enum of the Record at b[body:end] (fast path:
    the fields are written in field-number order)."""
    _, i = varint(b, body)  # Record.syscall key
    _, i = varint(b, i)  # its length
    while i < end:
        key, i = varint(b, i)
        if key & 7 == 0:
            v, i = varint(b, i)
            if key >> 3 == SC_SYSCALL_FIELD:
                return v
        elif key & 7 == 2:
            ln, i = varint(b, i)
            i += ln
        else:
            i += 8 if key & 7 == 1 else 4
    return None


def syscall_names():
    src = open(os.path.join(ROOT, "proto/probe.proto")).read()
    m = re.search(r"enum\s+Syscall\s*\{(.*?)\}", src, re.S)
    return {int(n): name.replace("SYSCALL_", "").lower() for name, n in
            re.findall(r"^\s*(\w+)\s*=\s*(\d+)\s*;", m.group(1), re.M)} if m else {}


def varint_len(v):
    n = 1
    while v >= 0x80:
        v >>= 7
        n += 1
    return n
