// The summary of a record file that the text report and the HTML page both
// print (so their numbers cannot differ): the tables, the names, the
// header, counters and trailer. Built one record at a time by AddRecord;
// pure, no I/O, memory bounded by the tables' keys.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "interval_table.h"
#include "names.h"
#include "probe.pb.h"
#include "repeat_runs.h"
#include "sched_table.h"
#include "shim_table.h"
#include "syscall_table.h"
#include "thread_table.h"
#include "wait_table.h"

namespace probe {

struct TraceSummary {
  NameTable names;  // fed first, so every table sees a record's names
  bool has_header = false;
  v1::Header header;
  std::vector<v1::ProcessLifetime> processes;
  std::vector<v1::ProcessSnapshot> snapshots;
  SyscallTable syscalls;
  SchedTable sched;
  ShimTable shim;       // shim calls and markers, paired with the kernel's syscalls
  WaitTable waits;      // where blocking waits' time went
  ThreadTable threads;  // per-thread totals
  RepeatRuns repeats;   // --repeat N: the runs and their statistics
  bool has_trailer = false;
  v1::Trailer trailer;
  bool has_stats = false;
  v1::Stats last_stats;
  uint64_t unknown_records = 0;
  uint64_t records = 0;
  // --from/--to cut the records but not the histograms (cumulative over the
  // whole recording): every output that shows both says so.
  bool cut_in_time = false;
  // What every output says when cut_in_time: the records are cut, the
  // cumulative histograms (calls, percentiles, the scheduler's) are not.
  static constexpr const char* kNotCutInTime =
      "--from/--to cut the records (the recorded calls, the slowest calls, the wakeups), not "
      "the histograms: they are cumulative over the whole recording and cannot be cut in "
      "time, so calls, percentiles and the scheduler histograms are the whole recording's";
  // The latest time any header, stats, trailer, process, call or histogram
  // record mentions: how long the recording ran.
  uint64_t last_time_ns = 0;

  // The trailer's counters, else the last stats record's, else null.
  const google::protobuf::RepeatedPtrField<v1::KindCounters>* counters() const {
    return has_trailer ? &trailer.counters() : has_stats ? &last_stats.counters() : nullptr;
  }
  // What the counters' source says was written to the file, or 0.
  uint64_t bytes_written() const {
    return has_trailer ? trailer.bytes_written() : has_stats ? last_stats.bytes_written() : 0;
  }
  SyscallReportContext Context() const;
};

void AddRecord(const v1::Record& r, TraceSummary* s);
// A..B intervals between consecutive markers, for --interval A..B.
inline IntervalReport IntervalStats(const TraceSummary& s, std::string_view from,
                                    std::string_view to) {
  return IntervalStats(s.shim, from, to);
}

}  // namespace probe
