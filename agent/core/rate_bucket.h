// The user-space side of the --max-rate token bucket: the same rule as
// bpf/sampling.bpf.h's rate_keeps, on the same bucket (the BPF map is
// mmapped), so kernel and shim records share one cap. Pure given the
// bucket's memory and the time.
#pragma once
#include <cstdint>

extern "C" {
#include <linux/types.h>

#include "probe_events.h"
}

namespace probe {

// Takes one record's token at now_ns (CLOCK_MONOTONIC, the kernel's clock);
// false when the cap is used up.
bool TakeRateToken(rate_bucket* b, uint64_t max_per_s, uint64_t now_ns);

}  // namespace probe
