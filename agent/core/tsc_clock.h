// Converts shim TSC timestamps to CLOCK_MONOTONIC ns: the consumer takes a
// (tsc, ns) point at every drain, and a timestamp is placed on the line
// through the two points around it, so a rate change (NTP slewing) costs at
// most the change within one drain interval. Pure apart from Sample().
#pragma once
#include <cstdint>
#include <deque>

extern "C" {
#include "probe_clock.h"
}

namespace probe {

class TscClock {
 public:
  // Keeps this many points (at one per 10 ms drain: ~40 s of history;
  // older timestamps are extended from the oldest segment).
  static constexpr size_t kMaxPoints = 4096;

  void Add(probe_clock_point p);
  void Sample() { Add(probe_clock_sample()); }
  // 0 until two points exist.
  uint64_t ToNs(uint64_t tsc) const;
  size_t points() const { return points_.size(); }

 private:
  std::deque<probe_clock_point> points_;
};

}  // namespace probe
