#include "histogram_writer.h"

#include <vector>

#include "histogram.h"
#include "proc_scan.h"
#include "rotation_cut.h"

namespace probe {

// Writes the histograms that changed since the last pass, and drops from the
// kernel map those that are final (HistogramLedger says when). The ledger
// sees cumulative counts; only the record written is cut.
void HistogramWriter::Emit(BpfSession& bpf, HistogramMap which, HistogramLedger& ledger,
                           std::map<uint64_t, v1::Record>& cut, RecordWriter& writer,
                           AgentCounters& agent, bool seam) {
  const uint64_t now = MonotonicNs();
  bpf.RecycleHistograms(which);
  std::vector<probe_hist_key> finished;
  std::map<uint32_t, bool> may_run;  // per process, read once this pass
  auto threads_may_run = [&](uint32_t pid) {
    auto [it, fresh] = may_run.try_emplace(pid, false);
    if (fresh) it->second = ThreadsMayRun(static_cast<int>(pid));
    return it->second;
  };
  v1::Record r, period;
  bpf.ForEachHistogram(which, [&](const probe_hist_key& key, const probe_hist* per_cpu, int ncpu) {
    uint64_t count;
    if (which == HistogramMap::kSyscalls) {
      MergeHistogram(key, per_cpu, ncpu, now, r.mutable_syscall_histogram());
      count = r.syscall_histogram().count();
    } else {
      MergeSchedHistogram(key, per_cpu, ncpu, now, r.mutable_sched_histogram());
      count = r.sched_histogram().count();
    }
    const uint64_t id = HistogramLedger::Id(key.pid, key.syscall);
    const v1::Record* out = &r;
    auto before = per_file_ ? cut.find(id) : cut.end();
    if (before != cut.end()) {
      period = r;
      if (which == HistogramMap::kSyscalls)
        SubtractHistogram(before->second.syscall_histogram(), period.mutable_syscall_histogram());
      else
        SubtractHistogram(before->second.sched_histogram(), period.mutable_sched_histogram());
      out = &period;
    }
    const bool written = ledger.Changed(id, count) && writer.Append(*out);
    if (written) agent.histograms_written++;
    // A scheduler histogram is not final at the exit's pass: /proc shows the
    // last thread a zombie from exit_notify on, yet until its final switch
    // it can be preempted and switched in once more, a count that would go
    // into a slot nobody reads (seen: 402 counts for 403 switch-ins). It is
    // final at the next pass, its count unchanged. No call is made after
    // the exit record, so a syscall histogram is final at once.
    const bool exited = which == HistogramMap::kSyscalls && exited_.count(key.pid) > 0;
    const bool final =
        ledger.Visit(id, count, written, exited, [&] { return threads_may_run(key.pid); });
    if (final) {
      finished.push_back(key);
      cut.erase(id);
    } else if (seam && per_file_) {
      cut[id] = r;
    }
  });
  for (const auto& key : finished) bpf.DeleteHistogram(which, key);
  ledger.EndPass();
}

}  // namespace probe
