#include "rate_bucket.h"

namespace probe {

bool TakeRateToken(rate_bucket* b, uint64_t max_per_s, uint64_t now_ns) {
  uint64_t last = __atomic_load_n(&b->refilled_ns, __ATOMIC_RELAXED);
  if (now_ns >= last + 1000000ull &&
      __atomic_compare_exchange_n(&b->refilled_ns, &last, now_ns, false, __ATOMIC_ACQ_REL,
                                  __ATOMIC_RELAXED)) {
    uint64_t elapsed = now_ns - last;
    if (elapsed > 1000000000ull) elapsed = 1000000000ull;
    const int64_t burst = int64_t(max_per_s / 10 + 1);
    const int64_t add = int64_t(elapsed * max_per_s / 1000000000ull);
    const int64_t was = __atomic_fetch_add(&b->tokens, add, __ATOMIC_ACQ_REL);
    if (was + add > burst) __atomic_fetch_add(&b->tokens, burst - (was + add), __ATOMIC_ACQ_REL);
  }
  if (__atomic_fetch_add(&b->tokens, -1, __ATOMIC_ACQ_REL) > 0) return true;
  __atomic_fetch_add(&b->tokens, 1, __ATOMIC_ACQ_REL);
  return false;
}

}  // namespace probe
