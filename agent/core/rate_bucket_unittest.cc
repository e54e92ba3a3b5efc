// The agent's half of --max-rate: the kernel's rule, checked on simulated time.
#include "rate_bucket.h"

#include <gtest/gtest.h>

namespace probe {
namespace {

TEST(RateBucket, HoldsTheCapOverFiveSecondsAndUsesIt) {
  rate_bucket b{};
  const uint64_t rate = 20000;
  uint64_t kept = 0;
  const uint64_t start = 1'000'000'000'000ull;  // a monotonic time well after boot
  for (uint64_t t = start; t < start + 5'000'000'000ull; t += 1000) kept += TakeRateToken(&b, rate, t);
  EXPECT_LE(kept, rate * 5 + rate / 10 + 1) << "five seconds of tokens plus the burst";
  EXPECT_GE(kept, rate * 5 * 9 / 10);
}

TEST(RateBucket, BurstIsATenthOfASecond) {
  rate_bucket b{};
  uint64_t kept = 0;
  for (int i = 0; i < 100000; ++i) kept += TakeRateToken(&b, 20000, 5'000'000'000ull);
  EXPECT_EQ(kept, 2001u) << "all at one instant: only the burst";
}

TEST(RateBucket, SharedWithAnotherTaker) {
  // Kernel and agent take from one bucket: together they stay under the cap.
  rate_bucket b{};
  uint64_t kept = 0;
  for (uint64_t t = 1'000'000'000ull; t < 3'000'000'000ull; t += 500) {
    kept += TakeRateToken(&b, 1000, t);      // "kernel"
    kept += TakeRateToken(&b, 1000, t + 1);  // "agent"
  }
  EXPECT_LE(kept, 1000u * 2 + 101);
}

}  // namespace
}  // namespace probe
