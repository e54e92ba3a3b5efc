#include "counter_table.h"

#include <algorithm>

namespace probe::counters {

uint64_t Get(const v1::KindCounters& c, Reason r) {
  switch (r) {
#define PROBE_GET(reason, name, ...) \
  case reason:                       \
    return c.name();
    PROBE_KIND_COUNTERS(PROBE_GET)
#undef PROBE_GET
    case kReasons:
      break;
  }
  return 0;
}

void Set(v1::KindCounters* c, Reason r, uint64_t v) {
  switch (r) {
#define PROBE_SET(reason, name, ...) \
  case reason:                       \
    c->set_##name(v);                \
    return;
    PROBE_KIND_COUNTERS(PROBE_SET)
#undef PROBE_SET
    case kReasons:
      break;
  }
}

const std::array<Reason, kReasons>& InFieldOrder() {
  static const std::array<Reason, kReasons> order = [] {
    std::array<Reason, kReasons> a;
    for (int r = 0; r < kReasons; ++r) a[r] = Reason(r);
    std::sort(a.begin(), a.end(),
              [](Reason x, Reason y) { return kCounters[x].field < kCounters[y].field; });
    return a;
  }();
  return order;
}

namespace {

uint64_t SumOf(const v1::KindCounters& c, Class cls) {
  uint64_t n = 0;
  for (const Counter& k : kCounters)
    if (k.cls == cls) n += Get(c, k.reason);
  return n;
}

}  // namespace

uint64_t Lost(const v1::KindCounters& c) { return SumOf(c, Class::kLost); }
uint64_t SampledReasons(const v1::KindCounters& c) { return SumOf(c, Class::kSampled); }

}  // namespace probe::counters
