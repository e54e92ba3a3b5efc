#include "histogram.h"

#include <linux/types.h>

extern "C" {
#include "probe_events.h"
}

static_assert(sizeof(probe_hist) == 8 * (6 + PROBE_HIST_BUCKETS));

namespace probe {

void MergeHistogram(const probe_hist_key& key, const probe_hist* per_cpu, int ncpu,
                    uint64_t time_ns, v1::SyscallHistogram* out) {
  out->Clear();
  out->set_pid(static_cast<int32_t>(key.pid));
  out->set_syscall(v1::Syscall_IsValid(static_cast<int>(key.syscall))
                       ? static_cast<v1::Syscall>(key.syscall)
                       : v1::SYSCALL_UNSPECIFIED);
  out->set_time_ns(time_ns);
  uint64_t buckets[PROBE_HIST_BUCKETS] = {};
  bool have_min = false;
  for (int cpu = 0; cpu < ncpu; ++cpu) {
    const probe_hist& h = per_cpu[cpu];
    if (h.count == 0) continue;
    out->set_count(out->count() + h.count);
    out->set_sum_ns(out->sum_ns() + h.sum_ns);
    out->set_timeouts(out->timeouts() + h.timeouts);
    out->set_errors(out->errors() + h.errors);
    if (!have_min || h.min_ns < out->min_ns()) out->set_min_ns(h.min_ns);
    have_min = true;
    if (h.max_ns > out->max_ns()) out->set_max_ns(h.max_ns);
    for (int i = 0; i < PROBE_HIST_BUCKETS; ++i) buckets[i] += h.buckets[i];
  }
  int last = PROBE_HIST_BUCKETS - 1;
  while (last >= 0 && buckets[last] == 0) --last;
  for (int i = 0; i <= last; ++i) out->add_log2_buckets(buckets[i]);
}

bool HistogramCopiesWhole(const probe_hist* per_cpu, int ncpu) {
  for (int cpu = 0; cpu < ncpu; ++cpu) {
    uint64_t in_buckets = 0;
    for (uint64_t b : per_cpu[cpu].buckets) in_buckets += b;
    if (in_buckets != per_cpu[cpu].count) return false;
  }
  return true;
}

void MergeSchedHistogram(const probe_hist_key& key, const probe_hist* per_cpu, int ncpu,
                         uint64_t time_ns, v1::SchedHistogram* out) {
  v1::SyscallHistogram merged;
  MergeHistogram(key, per_cpu, ncpu, time_ns, &merged);
  out->Clear();
  out->set_pid(merged.pid());
  out->set_kind(v1::SchedHistogramKind_IsValid(static_cast<int>(key.syscall))
                    ? static_cast<v1::SchedHistogramKind>(key.syscall)
                    : v1::SCHED_HISTOGRAM_UNSPECIFIED);
  out->set_time_ns(time_ns);
  out->set_count(merged.count());
  out->set_sum_ns(merged.sum_ns());
  out->set_min_ns(merged.min_ns());
  out->set_max_ns(merged.max_ns());
  *out->mutable_log2_buckets() = merged.log2_buckets();
}

}  // namespace probe
