// What a record is about, for every kind in one place: its --kind name, its
// process and thread, and the time it spans. The filter (record_filter.h)
// decides from this alone, so a new record kind needs no filter change.
#pragma once
#include <cstdint>

#include "probe.pb.h"

namespace probe {

struct RecordExtent {
  // The --kind name (process, syscall, wakeup, shim, marker); null for the
  // records every output needs (header, stats, trailer, thread names, kinds
  // this build does not know), which no filter removes.
  const char* kind = nullptr;
  bool has_pid = false;
  int32_t pid = 0;
  enum class Thread {
    kNone,     // not about one thread (a process): --tid does not apply
    kOne,      // tid is the thread
    kAllOfPid  // sums over the process's threads: no --tid can keep it
  } thread = Thread::kNone;
  int32_t tid = 0;
  // [begin, end] in absolute monotonic ns; false for cumulative or undated
  // records, which pass any time window.
  bool timed = false;
  uint64_t begin = 0, end = 0;
};

RecordExtent ExtentOf(const v1::Record& r);

}  // namespace probe
