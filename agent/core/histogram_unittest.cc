#include "histogram.h"

#include <gtest/gtest.h>
#include <linux/types.h>

#include <cstring>

extern "C" {
#include "probe_events.h"
}

namespace probe {
namespace {

probe_hist Empty() {
  probe_hist h;
  memset(&h, 0, sizeof(h));
  return h;
}

TEST(HistogramTest, SumsCpusAndTakesMinOverCpusWithCalls) {
  probe_hist cpu[3] = {Empty(), Empty(), Empty()};
  cpu[0].count = 2;
  cpu[0].sum_ns = 3000;
  cpu[0].min_ns = 1000;
  cpu[0].max_ns = 2000;
  cpu[0].buckets[9] = 1;   // 1000 ns
  cpu[0].buckets[10] = 1;  // 2000 ns
  cpu[0].timeouts = 1;
  // cpu[1] saw nothing: its zero min must not win.
  cpu[2].count = 1;
  cpu[2].sum_ns = 5000000;
  cpu[2].min_ns = 5000000;
  cpu[2].max_ns = 5000000;
  cpu[2].buckets[22] = 1;
  cpu[2].errors = 1;
  probe_hist_key key{42, PROBE_SYS_PSELECT6};
  v1::SyscallHistogram out;
  MergeHistogram(key, cpu, 3, 7, &out);
  EXPECT_EQ(out.pid(), 42);
  EXPECT_EQ(out.syscall(), v1::SYSCALL_PSELECT6);
  EXPECT_EQ(out.time_ns(), 7u);
  EXPECT_EQ(out.count(), 3u);
  EXPECT_EQ(out.sum_ns(), 5003000u);
  EXPECT_EQ(out.min_ns(), 1000u);
  EXPECT_EQ(out.max_ns(), 5000000u);
  EXPECT_EQ(out.timeouts(), 1u);
  EXPECT_EQ(out.errors(), 1u);
  ASSERT_EQ(out.log2_buckets_size(), 23) << "trailing empty buckets are left out";
  EXPECT_EQ(out.log2_buckets(9), 1u);
  EXPECT_EQ(out.log2_buckets(10), 1u);
  EXPECT_EQ(out.log2_buckets(22), 1u);
}

TEST(HistogramTest, UnknownSyscallIsUnspecifiedAndEmptyHasNoBuckets) {
  probe_hist cpu = Empty();
  v1::SyscallHistogram out;
  MergeHistogram(probe_hist_key{1, 999}, &cpu, 1, 0, &out);
  EXPECT_EQ(out.syscall(), v1::SYSCALL_UNSPECIFIED);
  EXPECT_EQ(out.count(), 0u);
  EXPECT_EQ(out.log2_buckets_size(), 0);
}

// A copy taken while a CPU's programs run can hold buckets of calls its
// count does not have yet (the count is copied first): such a read is torn
// and must be taken again.
TEST(HistogramTest, ACopyWhoseCountIsNotItsBucketsSumIsTorn) {
  probe_hist cpu[2] = {Empty(), Empty()};
  EXPECT_TRUE(HistogramCopiesWhole(cpu, 2)) << "empty";
  cpu[0].count = 3;
  cpu[0].buckets[4] = 2;
  cpu[0].buckets[40] = 1;
  cpu[1].count = 1;
  cpu[1].buckets[0] = 1;
  EXPECT_TRUE(HistogramCopiesWhole(cpu, 2));
  cpu[1].buckets[7] = 39;  // the CI run's tear: 39 calls in the buckets only
  EXPECT_FALSE(HistogramCopiesWhole(cpu, 2));
  EXPECT_TRUE(HistogramCopiesWhole(cpu, 1)) << "only the CPUs given are checked";
}

}  // namespace
}  // namespace probe
