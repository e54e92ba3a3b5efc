#include "tsc_clock.h"

#include <algorithm>

namespace probe {

void TscClock::Add(probe_clock_point p) {
  // A point must advance both clocks, else it cannot bound a segment.
  if (!points_.empty() && (p.tsc <= points_.back().tsc || p.ns < points_.back().ns)) return;
  points_.push_back(p);
  if (points_.size() > kMaxPoints) points_.pop_front();
}

uint64_t TscClock::ToNs(uint64_t tsc) const {
  if (points_.size() < 2) return 0;
  // First point after tsc; the segment is [it-1, it], clamped to the ends.
  auto it = std::upper_bound(points_.begin(), points_.end(), tsc,
                             [](uint64_t t, const probe_clock_point& p) { return t < p.tsc; });
  if (it == points_.begin()) ++it;
  if (it == points_.end()) --it;
  return probe_clock_convert(*(it - 1), *it, tsc);
}

}  // namespace probe
