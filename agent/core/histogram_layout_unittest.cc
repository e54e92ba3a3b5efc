#include "histogram_layout.h"

#include <gtest/gtest.h>

namespace probe {
namespace {

constexpr uint32_t kValue = 432;  // sizeof(probe_hist)

TEST(HistogramLayoutTest, SmallMachinesGetEverySlotWanted) {
  for (uint32_t ncpu : {1u, 2u, 4u})
    EXPECT_EQ(ChooseHistogramSlots(kSyscallHistogramSlots, kValue, ncpu), kSyscallHistogramSlots)
        << ncpu;
}

TEST(HistogramLayoutTest, BiggerMachinesGetWhatFitsTheBudget) {
  const uint32_t n = ChooseHistogramSlots(kSyscallHistogramSlots, kValue, 8);
  EXPECT_LT(n, kSyscallHistogramSlots);
  EXPECT_LE(uint64_t(n) * kValue * 8, kHistogramPreallocBudget);
  EXPECT_GT(uint64_t(n + 1) * kValue * 8, kHistogramPreallocBudget);
}

TEST(HistogramLayoutTest, ManyCpusShrinkToAFloor) {
  EXPECT_EQ(ChooseHistogramSlots(kSchedHistogramSlots, kValue, 8), 4096u);  // 14 MiB
  EXPECT_EQ(ChooseHistogramSlots(kSchedHistogramSlots, kValue, 64),
            uint32_t(kHistogramPreallocBudget / (kValue * 64)));
  EXPECT_EQ(ChooseHistogramSlots(kSchedHistogramSlots, kValue, 1024), kMinEntries);
  EXPECT_EQ(ChooseHistogramSlots(100, kValue, 1024), 100u);  // never more than wanted
}

}  // namespace
}  // namespace probe
