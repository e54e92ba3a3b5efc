// Checks on the agent's counters shared by the integration tests: every event
// ends up written, sampled out (by one named rule) or lost (by one named
// reason), exactly.
#pragma once
#include <gtest/gtest.h>

#include "probe.pb.h"

namespace probe::testing {

inline const v1::KindCounters* CountersOf(
    const google::protobuf::RepeatedPtrField<v1::KindCounters>& all, v1::EventKind kind) {
  for (const auto& c : all)
    if (c.kind() == kind) return &c;
  return nullptr;
}

inline uint64_t KernelLost(const v1::KindCounters& c) {
  return c.lost_ring_full() + c.lost_decode() + c.lost_write() + c.lost_table_full();
}

// produced == written + sampled_out + lost; the sampling reasons and the
// per-CPU ring losses add up.
inline void ExpectBalanced(const v1::KindCounters& c) {
  EXPECT_EQ(c.produced(), c.written() + c.sampled_out() + KernelLost(c)) << c.DebugString();
  EXPECT_EQ(c.sampled_out(),
            c.sampled_min_latency() + c.sampled_one_in_n() + c.sampled_first_k() + c.sampled_rate())
      << c.DebugString();
  uint64_t per_cpu = 0;
  for (const auto& l : c.cpu_losses()) per_cpu += l.lost_ring_full();
  EXPECT_EQ(per_cpu, c.lost_ring_full()) << "per-CPU losses add up";
}

}  // namespace probe::testing
