#include "histogram_layout.h"

#include <gtest/gtest.h>

namespace probe {
namespace {

constexpr uint32_t kValue = 432;  // sizeof(probe_hist)

TEST(HistogramLayoutTest, SmallMachinesPreallocateEverything) {
  for (uint32_t ncpu : {1u, 2u, 4u}) {
    HistogramMapShape s = ChooseHistogramMapShape(16384, kValue, ncpu, true);
    EXPECT_EQ(s.entries, 16384u) << ncpu;
    EXPECT_TRUE(s.prealloc);
  }
}

TEST(HistogramLayoutTest, BiggerMachinesPreallocateWithinTheBudget) {
  HistogramMapShape s = ChooseHistogramMapShape(16384, kValue, 8, true);
  EXPECT_TRUE(s.prealloc);
  EXPECT_LT(s.entries, 16384u);
  EXPECT_LE(uint64_t(s.entries) * kValue * 8, kHistogramPreallocBudget);
  EXPECT_GT(uint64_t(s.entries + 1) * kValue * 8, kHistogramPreallocBudget);
}

TEST(HistogramLayoutTest, PastTheFloorTheMapAllocatesOnDemandAtFullSize) {
  HistogramMapShape s = ChooseHistogramMapShape(16384, kValue, 64, true);
  EXPECT_FALSE(s.prealloc);
  EXPECT_EQ(s.entries, 16384u);
}

TEST(HistogramLayoutTest, AMapThatMustBePreallocatedShrinksToAFloor) {
  HistogramMapShape s = ChooseHistogramMapShape(4096, kValue, 8, false);
  EXPECT_TRUE(s.prealloc);
  EXPECT_EQ(s.entries, 4096u);  // 14 MiB: within budget
  s = ChooseHistogramMapShape(4096, kValue, 64, false);
  EXPECT_TRUE(s.prealloc);
  EXPECT_EQ(s.entries, uint32_t(kHistogramPreallocBudget / (kValue * 64)));
  s = ChooseHistogramMapShape(4096, kValue, 1024, false);
  EXPECT_TRUE(s.prealloc);
  EXPECT_EQ(s.entries, kMinEntries);
}

}  // namespace
}  // namespace probe
