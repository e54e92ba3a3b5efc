// Collects records into the summary probe-report prints; pure, no I/O.
#pragma once
#include <string>
#include <vector>

#include "probe.pb.h"
#include "sched_table.h"
#include "syscall_table.h"

namespace probe {

struct TraceSummary {
  bool has_header = false;
  v1::Header header;
  std::vector<v1::ProcessLifetime> processes;
  std::vector<v1::ProcessSnapshot> snapshots;
  SyscallTable syscalls;
  SchedTable sched;
  bool has_trailer = false;
  v1::Trailer trailer;
  bool has_stats = false;
  v1::Stats last_stats;
  uint64_t unknown_records = 0;
};

void AddRecord(const v1::Record& r, TraceSummary* s);
// The human-readable report.
std::string FormatSummary(const TraceSummary& s);
std::string FormatDuration(uint64_t ns);

}  // namespace probe
