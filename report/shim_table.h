// User-space view for probe-report, from the LD_PRELOAD shim's records:
// marker spans, intervals between consecutive markers, wrapped libc calls
// paired with the kernel syscall inside them, and the shim's own counters.
// Pure, no I/O: records go in one at a time, in file order (which is not
// time order), and memory stays bounded however large the file.
#pragma once
#include <compare>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "histogram.h"
#include "names.h"
#include "probe.pb.h"
#include "syscall_table.h"

namespace probe {

struct ThreadKey {
  int32_t pid = 0;
  int32_t tid = 0;
  auto operator<=>(const ThreadKey&) const = default;
};

// One distribution per name over all threads, and one per (thread, name).
// Both maps hold at most kMaxKeys entries; values for further keys are
// counted in untracked() only, so a flood of distinct names cannot grow it.
template <typename Name>
class NamedDurations {
 public:
  static constexpr size_t kMaxKeys = 4096;

  void Add(ThreadKey thread, const Name& name, uint64_t ns) {
    AddTo(all_, name, ns);
    AddTo(by_thread_, std::make_pair(thread, name), ns);
  }
  const std::map<Name, DurationSample>& all() const { return all_; }
  const std::map<std::pair<ThreadKey, Name>, DurationSample>& by_thread() const {
    return by_thread_;
  }
  uint64_t untracked() const { return untracked_; }

 private:
  template <typename Map, typename Key>
  void AddTo(Map& map, const Key& key, uint64_t ns) {
    auto it = map.find(key);
    if (it == map.end()) {
      if (map.size() >= kMaxKeys) {
        ++untracked_;
        return;
      }
      it = map.emplace(key, DurationSample()).first;
    }
    it->second.Add(ns);
  }

  std::map<Name, DurationSample> all_;
  std::map<std::pair<ThreadKey, Name>, DurationSample> by_thread_;
  uint64_t untracked_ = 0;
};

using SpanName = std::string;                              // the BEGIN/END name
using IntervalName = std::pair<std::string, std::string>;  // A..B: from, to

struct CallKey {
  int32_t pid = 0;
  v1::ShimFunction function = v1::SHIM_UNSPECIFIED;
  auto operator<=>(const CallKey&) const = default;
};

// A wrapped function's calls; kernel and overhead only for the calls paired
// with a kernel syscall (overhead = user-space span - kernel span).
struct CallStats {
  uint64_t count = 0;
  uint64_t matched = 0;
  DurationSample user;
  DurationSample kernel;
  DurationSample overhead;
};

// Whether the kernel syscall s is what the libc function f enters (glibc's
// select() is pselect6, poll() may be ppoll, eventfd_read() is read, ...).
bool ShimCallWraps(v1::ShimFunction f, v1::Syscall s);

class ShimTable {
 public:
  static constexpr size_t kMaxOpenSpans = 256;       // per thread; the oldest give way
  static constexpr size_t kMaxPendingPerTid = 8192;  // per tid and side
  static constexpr size_t kMaxPendingTotal = 1 << 18;
  static constexpr size_t kMaxCallKeys = 4096;

  void AddMarker(const v1::Marker& m);
  void AddShimCall(const v1::ShimCall& c);
  void AddKernelCall(const v1::SyscallCall& c);
  // From a Stats or Trailer record; the last entry per pid wins.
  void AddShimProcesses(const google::protobuf::RepeatedPtrField<v1::ShimProcess>& shim);

  // No shim call and no marker records: nothing to report.
  bool empty() const { return shim_calls_ == 0 && markers_ == 0; }

  const NamedDurations<SpanName>& spans() const { return spans_; }
  const NamedDurations<IntervalName>& intervals() const { return intervals_; }
  const std::map<CallKey, CallStats>& calls() const { return calls_; }
  const std::map<int32_t, v1::ShimProcess>& processes() const { return processes_; }

  uint64_t markers() const { return markers_; }
  uint64_t shim_calls() const { return shim_calls_; }
  uint64_t kernel_calls() const { return kernel_calls_; }
  uint64_t unmatched_ends() const { return unmatched_ends_; }
  uint64_t open_spans() const;  // BEGINs never ended, including those given way
  uint64_t time_reversals() const { return time_reversals_; }
  uint64_t untracked_calls() const { return untracked_calls_; }
  // Calls dropped while waiting for a partner, past the pending limits.
  uint64_t dropped_shim() const { return dropped_shim_; }
  uint64_t dropped_kernel() const { return dropped_kernel_; }
  size_t pending() const { return pending_; }  // calls waiting for a partner now

 private:
  struct MarkerThread {
    std::vector<std::pair<std::string, uint64_t>> open;  // BEGIN name, time; innermost last
    std::string last_name;
    uint64_t last_time = 0;
    bool has_last = false;
  };
  struct PendingShim {
    uint64_t entry = 0;
    uint64_t end = 0;
    int32_t pid = 0;
    v1::ShimFunction function = v1::SHIM_UNSPECIFIED;
  };
  struct PendingKernel {
    uint64_t start = 0;
    uint64_t end = 0;
    v1::Syscall syscall = v1::SYSCALL_UNSPECIFIED;
  };
  // Each side sorted by start time. A thread's shim records come in its
  // order, and so do its kernel records, so the watermarks (latest start
  // seen per side) tell when a waiting call can no longer find a partner.
  struct TidCalls {
    std::deque<PendingShim> shim;
    std::deque<PendingKernel> kernel;
    uint64_t shim_watermark = 0;
    uint64_t kernel_watermark = 0;
  };

  uint64_t Elapsed(uint64_t from, uint64_t to);
  void AddInterval(ThreadKey t, MarkerThread& th, const v1::Marker& m);
  void CloseSpan(ThreadKey t, MarkerThread& th, const v1::Marker& m);
  bool MatchShim(TidCalls& tc, const PendingShim& s);
  bool MatchKernel(TidCalls& tc, const PendingKernel& k);
  void RecordMatch(const PendingShim& s, const PendingKernel& k);
  void Retire(TidCalls& tc);
  void Park(TidCalls& tc, const PendingShim& s);
  void Park(TidCalls& tc, const PendingKernel& k);
  void EvictOldest();
  void ForgetIfIdle(int32_t tid);

  NamedDurations<SpanName> spans_;
  NamedDurations<IntervalName> intervals_;
  std::map<ThreadKey, MarkerThread> marker_threads_;
  std::map<CallKey, CallStats> calls_;
  std::map<int32_t, TidCalls> pending_by_tid_;
  std::map<int32_t, v1::ShimProcess> processes_;
  uint64_t markers_ = 0;
  uint64_t shim_calls_ = 0;
  uint64_t kernel_calls_ = 0;
  uint64_t unmatched_ends_ = 0;
  uint64_t given_way_ = 0;
  uint64_t time_reversals_ = 0;
  uint64_t untracked_calls_ = 0;
  uint64_t dropped_shim_ = 0;
  uint64_t dropped_kernel_ = 0;
  size_t pending_ = 0;
};

// A..B intervals (consecutive markers A then B on a thread), over all
// threads and per thread; count 0 when there were none. For --interval A..B.
struct IntervalReport {
  DurationStats all;
  std::vector<std::pair<ThreadKey, DurationStats>> by_thread;  // by pid, tid
};
IntervalReport IntervalStats(const ShimTable& t, std::string_view from, std::string_view to);

// "user-space (shim)" section: wrapped calls vs kernel, spans, intervals,
// the shim's counters; empty when the table is.
std::string FormatShimSection(const ShimTable& t, const SyscallReportContext& ctx);

}  // namespace probe
