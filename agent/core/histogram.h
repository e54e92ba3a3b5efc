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

// The same for a scheduler histogram (key.syscall holds the kind).
void MergeSchedHistogram(const probe_hist_key& key, const probe_hist* per_cpu, int ncpu,
                         uint64_t time_ns, v1::SchedHistogram* out);

}  // namespace probe
