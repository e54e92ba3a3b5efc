// Which records probe-report's outputs see (--from/--to, --pid, --tid,
// --comm, --kind). Pure. Header, stats, trailer and thread names always pass;
// cumulative histograms pass the time window (they cannot be cut in time).
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "names.h"
#include "probe.pb.h"
#include "record_visitor.h"
#include "report_options.h"

namespace probe {

class RecordFilter : private RecordVisitor {
 public:
  explicit RecordFilter(const ReportOptions& o);
  bool active() const { return active_; }
  // --from/--to given: records are cut in time, cumulative histograms not.
  bool has_window() const { return from_.has_value() || to_.has_value(); }
  // --comm needs each pid's name before its events: a first pass over the
  // file feeds every record here.
  bool needs_names() const { return !comms_.empty(); }
  void LearnName(const v1::Record& r);
  bool Keep(const v1::Record& r);

 private:
  bool KeepPid(int32_t pid) const;
  bool KeepTid(int32_t tid) const { return tids_.empty() || tids_.count(tid); }
  bool InWindow(uint64_t from, uint64_t to) const;
  void OnHeader(const v1::Header& h) override { start_ = h.start_time_ns(); }

  bool active_ = false;
  std::set<int> pids_, tids_;
  std::set<std::string> comms_, kinds_;
  std::optional<uint64_t> from_, to_;  // relative to start_
  uint64_t start_ = 0;                 // Header.start_time_ns
  NameTable names_;                    // for --comm, from the first pass
};

}  // namespace probe
