// Turns raw kernel events into records: a pure function over bytes that
// validates sizes and never trusts lengths inside the event.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

#include "probe.pb.h"

namespace probe {

enum class DecodeResult { kOk, kMalformed, kUnknownType };

// *out is the record on kOk, unspecified otherwise. Decoding into the same
// Record again reuses its message when the kind is the same.
DecodeResult DecodeEvent(const void* data, size_t size, v1::Record* out, uint64_t page_size);

// The second record some events hold: a blocked call's record can carry the
// thread's wakeup from its last sleep (probe_syscall_wait_event's
// wakeup_folded). True, with *out that Wakeup record, when this one does;
// *out is untouched otherwise.
bool DecodeFoldedWakeup(const void* data, size_t size, v1::Record* out);

// Splits a NUL-separated argv area of len bytes into strings.
void SplitArgs(const char* data, size_t len, google::protobuf::RepeatedPtrField<std::string>* out);

}  // namespace probe
