// Collects records into the summary probe-report prints; pure, no I/O.
#pragma once
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "probe.pb.h"
#include "sched_table.h"
#include "shim_table.h"
#include "syscall_table.h"
#include "thread_table.h"
#include "wait_table.h"

namespace probe {

struct TraceSummary {
  bool has_header = false;
  v1::Header header;
  std::vector<v1::ProcessLifetime> processes;
  std::vector<v1::ProcessSnapshot> snapshots;
  SyscallTable syscalls;
  SchedTable sched;
  ShimTable shim;       // shim calls and markers, paired with the kernel's syscalls
  WaitTable waits;      // where blocking waits' time went
  ThreadTable threads;  // per-thread totals
  bool has_trailer = false;
  v1::Trailer trailer;
  bool has_stats = false;
  v1::Stats last_stats;
  uint64_t unknown_records = 0;
  // ThreadName records: wakers' names by tid (the last one per tid wins).
  std::unordered_map<int32_t, std::string> thread_names;
};

void AddRecord(const v1::Record& r, TraceSummary* s);
// The human-readable report.
std::string FormatSummary(const TraceSummary& s);
std::string FormatDuration(uint64_t ns);
// A..B intervals between consecutive markers, for --interval A..B.
inline IntervalReport IntervalStats(const TraceSummary& s, std::string_view from,
                                    std::string_view to) {
  return IntervalStats(s.shim, from, to);
}

}  // namespace probe
