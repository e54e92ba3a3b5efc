// Scheduler view for probe-report: per-process run-queue and off-CPU
// distributions, and who wakes whom. Pure, bounded memory.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <tuple>

#include "histogram.h"
#include "probe.pb.h"
#include "syscall_table.h"

namespace probe {

class SchedTable {
 public:
  // Distinct waker -> wakee pairs kept; later new pairs are counted apart.
  static constexpr size_t kMaxPairs = 4096;
  static constexpr size_t kTopPairs = 10;
  static constexpr size_t kDrawnHistograms = 4;

  void AddWakeup(const v1::Wakeup& w);
  void AddHistogram(const v1::SchedHistogram& h);
  bool empty() const { return histograms_.empty() && wakeups_ == 0; }

  struct Pair {
    uint64_t count = 0;
    uint64_t blocked_ns = 0;  // sum of the wakees' off-CPU time before these wakeups
    std::string waker;        // as printed: a task's comm pid/tid, or the interrupt or timer
  };
  // waker pid, waker tid, wakee tid; for a waker that is not a task (irq,
  // softirq, timer): -context, its irq or softirq number, wakee tid, so the
  // task it happened to interrupt is never named.
  using PairKey = std::tuple<int32_t, int32_t, int32_t>;
  const std::map<PairKey, Pair>& pairs() const { return pairs_; }
  uint64_t untracked_pair_wakeups() const { return untracked_; }
  // The last (cumulative) histogram per (pid, kind).
  const std::map<std::pair<int32_t, int>, v1::SchedHistogram>& histograms() const {
    return histograms_;
  }
  // Run-queue delay of the wakeup records per (wakee pid, waker group, see
  // WakerStyle::kGroup); preemptions under kPreempted. At most kMaxPairs
  // keys; wakeups of further keys are counted in untracked_delays().
  using DelayKey = std::pair<int32_t, std::string>;
  static constexpr const char* kPreempted = "preempted (no waker)";
  const std::map<DelayKey, DurationSample>& delay_by_waker() const { return delay_by_waker_; }
  uint64_t untracked_delays() const { return untracked_delays_; }
  // The note every output gives when some wakeups' waker is only the task
  // that was on its CPU (--no-waker-context), else "".
  std::string ContextUntrackedNote() const;

 private:
  std::map<std::pair<int32_t, int>, v1::SchedHistogram> histograms_;
  std::map<PairKey, Pair> pairs_;
  std::map<DelayKey, DurationSample> delay_by_waker_;
  uint64_t untracked_delays_ = 0;
  uint64_t wakeups_ = 0;
  uint64_t untracked_ = 0;
  uint64_t context_untracked_ = 0;  // wakeups whose waker's context was not tracked
};

// A SchedHistogram as the syscall code's histogram type, for percentiles and
// the bcc-style rendering.
v1::SyscallHistogram AsSyscallHistogram(const v1::SchedHistogram& h);

// p50/p90/p99 of a scheduler histogram, as every output shows them.
Quantiles SchedQuantiles(const v1::SchedHistogram& h);

std::string FormatSchedSection(const SchedTable& t, const SyscallReportContext& ctx);

}  // namespace probe
