// What a record's kind implies, for code that is not a visitor: which
// counter counts it, where its waker is, what text it can hold. With
// report/record_visitor.cc (the report's one dispatch to a method per kind),
// record_kind.cc is the only source that branches on a record's kind, so a
// new kind is one case there and one method of the visitor.
#pragma once
#include "probe.pb.h"

namespace probe {

// The KindCounters entry that counts a record the agent wrote from an event:
// syscalls, the shim's calls and markers, wakeups; anything else is PROCESS.
v1::EventKind KindOfRecord(const v1::Record& r);

// The waker of a wakeup, or of a syscall's wait breakdown; nullptr when the
// record has none.
const v1::Waker* WakerOf(const v1::Record& r);
v1::Waker* MutableWakerOf(v1::Record* r);

// The record's process lifetime (fork, exec, exit), nullptr for other kinds.
const v1::ProcessLifetime* ProcessOf(const v1::Record& r);

// Whether r is a Header: a file's first record must be one.
bool IsHeader(const v1::Record& r);

// The names and other text a record of r's kind can hold (names, argv and
// paths are bytes: untrusted, never assumed to be UTF-8).
enum class RecordText {
  kNone,       // numbers only (histograms, shim calls, an empty record)
  kWakerName,  // at most its waker's comm (wakeups, syscalls: most of a file)
  kAny,        // any text field (found by reflection)
};
RecordText TextOf(const v1::Record& r);

// Whether r's kind has proto3 string fields (header, stats, trailer: text the
// agent makes itself), which a parser rejects when they are not UTF-8.
bool HoldsProtoStrings(const v1::Record& r);

}  // namespace probe
