// Syscall latency for probe-report: per-(pid, syscall) histograms, their
// percentiles, the slowest recorded calls, and their text form. Pure, no I/O:
// records go in one at a time and memory stays bounded by the number of keys,
// however large the file.
#pragma once
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "histogram.h"
#include "names.h"
#include "probe.pb.h"

namespace probe {

struct SyscallKey {
  int32_t pid = 0;
  v1::Syscall syscall = v1::SYSCALL_UNSPECIFIED;
  auto operator<=>(const SyscallKey&) const = default;
};

struct SyscallRow {
  SyscallKey key;
  v1::SyscallHistogram histogram;
  bool from_calls = false;  // no histogram record: built from the per-call records
  uint64_t recorded = 0;    // per-call records in the file
  // Every call's duration, sorted, when the file recorded every call of the
  // key and there were at most kMaxExactCalls; else empty.
  std::vector<uint64_t> exact_durations;
  Quantiles quantiles;  // from exact_durations when there are, else the histogram
};

// The limit slowest calls seen, in a min-heap so each Add is O(log limit).
class TopCalls {
 public:
  explicit TopCalls(size_t limit) : limit_(limit) {}
  void Add(const v1::SyscallCall& c);
  size_t size() const { return heap_.size(); }
  // Slowest first; equal durations by start time.
  std::vector<v1::SyscallCall> Sorted() const;

 private:
  size_t limit_;
  std::vector<v1::SyscallCall> heap_;
};

class SyscallTable {
 public:
  static constexpr size_t kSlowest = 10;      // the text report lists these
  static constexpr size_t kKeptSlowest = 50;  // the HTML page draws these
  // Durations kept per key for exact percentiles; bounded so memory is too.
  static constexpr size_t kMaxExactCalls = 1 << 16;

  void AddCall(const v1::SyscallCall& c);
  void AddHistogram(const v1::SyscallHistogram& h);
  bool empty() const { return keys_.empty(); }
  uint64_t recorded() const { return recorded_; }
  // By pid, then by total time, longest first.
  std::vector<SyscallRow> Rows() const;
  // The slowest calls that did not time out, and apart from them the
  // slowest that did (usually idle waits).
  const TopCalls& slowest() const { return slowest_; }
  const TopCalls& slowest_timeouts() const { return slowest_timeouts_; }

 private:
  struct Entry {
    bool has_record = false;
    v1::SyscallHistogram histogram;  // the last record, else built from calls
    uint64_t recorded = 0;
    std::vector<uint64_t> durations;  // cleared for good past kMaxExactCalls
    bool too_many = false;
  };
  std::map<SyscallKey, Entry> keys_;
  TopCalls slowest_{kKeptSlowest};
  TopCalls slowest_timeouts_{kKeptSlowest};
  uint64_t recorded_ = 0;
};

enum class DurationUnit { kNs, kUs, kMs };

DurationUnit UnitFor(uint64_t max_ns);
// One bcc-style row: "      4096 -> 8191       : 5        |*****...|".
std::string FormatHistogramRow(int bucket, uint64_t count, uint64_t max_count, DurationUnit unit);
// Header and rows from the first to the last non-empty bucket.
std::string FormatHistogram(const v1::SyscallHistogram& h);
// "= 5.00 ms blocked (woken by tid 812 (server) in write(fd 7)) + 14.0 us run
// queue + 3.0 us to block and return".
std::string FormatBreakdown(const v1::WaitBreakdown& b);

// What the call was asked and what it returned, e.g. "nfds 4, timeout none, ret 1".
std::string FormatCallContext(const v1::SyscallCall& c);

// What the text sections need besides their table.
struct SyscallReportContext {
  const NameTable* names = nullptr;  // processes' names; none: every comm is "?"
  uint64_t start_time_ns = 0;        // slowest calls are shown relative to it
  uint64_t min_latency_ns = 0;       // per-call records were only written at or above it
};

// The process's comm as known from the file, escaped for a terminal, or "?".
std::string CommOf(const SyscallReportContext& ctx, int32_t pid);

// The table, one histogram per key and the slowest calls; empty when the
// table is.
std::string FormatSyscallSection(const SyscallTable& t, const SyscallReportContext& ctx);

}  // namespace probe
