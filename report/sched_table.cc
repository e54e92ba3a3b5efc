#include "sched_table.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

namespace probe {

void SchedTable::AddWakeup(const v1::Wakeup& w) {
  ++wakeups_;
  const bool preempted = w.state() == v1::OFF_CPU_PREEMPTED;
  DelayKey delay{
      w.pid(), preempted ? kPreempted : WakerText(w.waker(), w.waker().comm(), WakerStyle::kGroup)};
  auto d = delay_by_waker_.find(delay);
  if (d == delay_by_waker_.end() && delay_by_waker_.size() < kMaxPairs)
    d = delay_by_waker_.emplace(std::move(delay), DurationSample()).first;
  if (d != delay_by_waker_.end())
    d->second.Add(w.run_queue_ns());
  else
    ++untracked_delays_;
  if (preempted) return;  // nobody woke it
  const v1::Waker& k = w.waker();
  if (k.context() == v1::WAKER_CONTEXT_UNTRACKED) ++context_untracked_;
  const bool task = NamesATask(k);
  PairKey key =
      task ? PairKey{k.pid(), k.tid(), w.tid()}
           : PairKey{-static_cast<int32_t>(k.context()),
                     k.context() == v1::WAKER_CONTEXT_HARDIRQ ? k.irq()
                                                              : static_cast<int32_t>(k.softirq()),
                     w.tid()};
  auto it = pairs_.find(key);
  if (it == pairs_.end()) {
    if (pairs_.size() >= kMaxPairs) {
      ++untracked_;
      return;
    }
    it = pairs_.emplace(key, Pair{0, 0, WakerText(k, k.comm(), WakerStyle::kPair)}).first;
  }
  it->second.count++;
  it->second.blocked_ns += w.off_cpu_ns();
}

void SchedTable::AddHistogram(const v1::SchedHistogram& h) {
  histograms_[{h.pid(), static_cast<int>(h.kind())}] = h;
}

v1::SyscallHistogram AsSyscallHistogram(const v1::SchedHistogram& h) {
  v1::SyscallHistogram out;
  out.set_pid(h.pid());
  out.set_time_ns(h.time_ns());
  out.set_count(h.count());
  out.set_sum_ns(h.sum_ns());
  out.set_min_ns(h.min_ns());
  out.set_max_ns(h.max_ns());
  *out.mutable_log2_buckets() = h.log2_buckets();
  return out;
}

Quantiles SchedQuantiles(const v1::SchedHistogram& h) {
  // No per-event list to be exact from: the wakeup records need not hold
  // every switch-in the histogram counts.
  return QuantilesOf({}, AsSyscallHistogram(h));
}

namespace {

const char* KindName(int kind) {
  return kind == v1::SCHED_HISTOGRAM_RUN_QUEUE ? "run queue" : "off CPU";
}

void AppendDistributions(const SchedTable& t, const SyscallReportContext& ctx,
                         std::ostringstream& o) {
  const char* fmt = "%8s %-16s %-10s %9s %10s %10s %10s %10s %12s\n";
  char line[256];
  snprintf(line, sizeof(line), fmt, "PID", "COMM", "WHAT", "COUNT", "P50", "P90", "P99", "MAX",
           "TOTAL");
  o << line;
  for (const auto& [key, h] : t.histograms()) {
    const Quantiles q = SchedQuantiles(h);
    auto pct = [&](uint64_t ns) { return FormatQuantile(ns, q.exact); };
    snprintf(line, sizeof(line), fmt, std::to_string(key.first).c_str(),
             CommOf(ctx, key.first).c_str(), KindName(key.second),
             std::to_string(h.count()).c_str(), pct(q.p50_ns).c_str(), pct(q.p90_ns).c_str(),
             pct(q.p99_ns).c_str(), FormatDuration(h.max_ns()).c_str(),
             FormatDuration(h.sum_ns()).c_str());
    o << line;
  }
  // Drawn only for the distributions holding the most time: a run of many
  // short processes would otherwise print pages of tiny histograms.
  std::vector<std::pair<std::pair<int32_t, int>, v1::SchedHistogram>> top(t.histograms().begin(),
                                                                          t.histograms().end());
  std::sort(top.begin(), top.end(),
            [](const auto& a, const auto& b) { return a.second.sum_ns() > b.second.sum_ns(); });
  if (top.size() > SchedTable::kDrawnHistograms) top.resize(SchedTable::kDrawnHistograms);
  for (const auto& [key, h] : top) {
    o << "\n"
      << KindName(key.second) << ", pid " << key.first << " (" << CommOf(ctx, key.first)
      << "): " << h.count() << " times\n"
      << FormatHistogram(AsSyscallHistogram(h));
  }
}

void AppendPairs(const SchedTable& t, std::ostringstream& o) {
  std::vector<std::pair<SchedTable::PairKey, SchedTable::Pair>> pairs(t.pairs().begin(),
                                                                      t.pairs().end());
  std::sort(pairs.begin(), pairs.end(), [](const auto& a, const auto& b) {
    return a.second.count != b.second.count ? a.second.count > b.second.count
                                            : a.second.blocked_ns > b.second.blocked_ns;
  });
  if (pairs.size() > SchedTable::kTopPairs) pairs.resize(SchedTable::kTopPairs);
  o << "\ntop wakers -> wakees (by wakeups):\n";
  char line[256];
  for (const auto& [key, p] : pairs) {
    const int32_t wakee_tid = std::get<2>(key);
    const std::string& waker = p.waker;
    snprintf(line, sizeof(line), "  %-36s -> tid %-8d %8llu wakeups  %12s blocked before\n",
             waker.c_str(), wakee_tid, static_cast<unsigned long long>(p.count),
             FormatDuration(p.blocked_ns).c_str());
    o << line;
  }
  if (t.untracked_pair_wakeups())
    o << "  (" << t.untracked_pair_wakeups() << " wakeups of further pairs not listed)\n";
}

// "after worker threads' eventfd write: p50 13.8 us, p90 256 us": the
// run-queue delay that follows each kind of waker, by wakee process.
void AppendDelayByWaker(const SchedTable& t, const SyscallReportContext& ctx,
                        std::ostringstream& o) {
  if (t.delay_by_waker().empty()) return;
  o << "\nrun-queue delay by waker (wakeup records; ~ = interpolated, past "
    << DurationSample::kMaxExact << " per row):\n";
  const char* fmt = "%8s %-16s %-32s %7s %10s %10s %10s %10s\n";
  char line[256];
  snprintf(line, sizeof(line), fmt, "PID", "COMM", "WAKER", "COUNT", "P50", "P90", "P99", "MAX");
  o << line;
  std::vector<std::pair<SchedTable::DelayKey, DurationStats>> rows;
  for (const auto& [key, sample] : t.delay_by_waker()) rows.emplace_back(key, sample.Stats());
  std::stable_sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    if (a.first.first != b.first.first) return a.first.first < b.first.first;
    return a.second.count > b.second.count;
  });
  for (const auto& [key, st] : rows) {
    auto pct = [&](uint64_t ns) { return FormatQuantile(ns, st.exact); };
    snprintf(line, sizeof(line), fmt, std::to_string(key.first).c_str(),
             CommOf(ctx, key.first).c_str(), key.second.substr(0, 32).c_str(),
             std::to_string(st.count).c_str(), pct(st.p50_ns).c_str(), pct(st.p90_ns).c_str(),
             pct(st.p99_ns).c_str(), FormatDuration(st.max_ns).c_str());
    o << line;
  }
  if (t.untracked_delays())
    o << "  (" << t.untracked_delays()
      << " wakeups of further (process, waker) pairs not listed)\n";
}

}  // namespace

std::string SchedTable::ContextUntrackedNote() const {
  if (context_untracked_ == 0) return "";
  return "note: recorded with --no-waker-context: a waker of " +
         std::to_string(context_untracked_) +
         " wakeups is only the task that was on its CPU, which an interrupt, softirq or "
         "timer may have borrowed";
}

std::string FormatSchedSection(const SchedTable& t, const SyscallReportContext& ctx) {
  if (t.empty()) return "";
  std::ostringstream o;
  o << "\nscheduler (exact histograms; ~ = interpolated inside the bucket):\n";
  AppendDistributions(t, ctx, o);
  if (!t.pairs().empty()) AppendPairs(t, o);
  AppendDelayByWaker(t, ctx, o);
  if (const std::string note = t.ContextUntrackedNote(); !note.empty()) o << "\n" << note << "\n";
  return o.str();
}

}  // namespace probe
