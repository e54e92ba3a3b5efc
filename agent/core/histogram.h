// Turns the kernel's per-CPU syscall histograms into records: pure, so it is
// tested without a kernel.
#pragma once
#include <cstdint>

#include "probe.pb.h"

struct probe_hist_key;
struct probe_hist;

namespace probe {

// Sums ncpu per-CPU copies into one record. min is taken over the CPUs that
// saw calls; trailing empty buckets are left out.
void MergeHistogram(const probe_hist_key& key, const probe_hist* per_cpu, int ncpu,
                    uint64_t time_ns, v1::SyscallHistogram* out);

// True when every CPU's copy counts each call once in count and once in a
// bucket. A copy read while that CPU's programs run can be torn: the kernel
// copies count before the buckets, so a reader stalled in between (a VM's
// vCPU descheduled) sees the buckets of later calls without their count.
bool HistogramCopiesWhole(const probe_hist* per_cpu, int ncpu);

// The same for a scheduler histogram (key.syscall holds the kind).
void MergeSchedHistogram(const probe_hist_key& key, const probe_hist* per_cpu, int ncpu,
                         uint64_t time_ns, v1::SchedHistogram* out);

}  // namespace probe
