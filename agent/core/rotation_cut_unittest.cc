#include "rotation_cut.h"

#include <gtest/gtest.h>

namespace probe {
namespace {

v1::KindCounters Syscalls(uint64_t produced, uint64_t written, uint64_t sampled, uint64_t lost) {
  v1::KindCounters c;
  c.set_kind(v1::EVENT_KIND_SYSCALL);
  c.set_produced(produced);
  c.set_written(written);
  c.set_sampled_out(sampled);
  c.set_sampled_one_in_n(sampled);
  c.set_lost_ring_full(lost);
  if (lost) {
    auto* l = c.add_cpu_losses();
    l->set_cpu(1);
    l->set_lost_ring_full(lost);
  }
  return c;
}

// Events in the ring at a seam (produced, not yet written) are produced in
// the next file: each file balances, and the files add up to the run.
TEST(CounterCutTest, SeamsBalanceEachFileAndAddUpToTheRun) {
  CounterCut cut;
  KindCountersList run, first, second, last;
  *run.Add() = Syscalls(100, 80, 5, 5);  // 10 still in the ring
  cut.Seam(run, &first);
  ASSERT_EQ(first.size(), 1);
  EXPECT_EQ(first[0].produced(), 90u);
  EXPECT_EQ(first[0].written(), 80u);
  *run.Mutable(0) = Syscalls(300, 270, 10, 15);  // 5 still in the ring
  cut.Seam(run, &second);
  EXPECT_EQ(second[0].produced(), 205u);
  EXPECT_EQ(second[0].written(), 190u);
  EXPECT_EQ(second[0].sampled_one_in_n(), 5u);
  ASSERT_EQ(second[0].cpu_losses_size(), 1);
  EXPECT_EQ(second[0].cpu_losses(0).lost_ring_full(), 10u);
  *run.Mutable(0) = Syscalls(400, 375, 10, 15);  // the stop: everything drained
  cut.Period(run, &last);
  EXPECT_EQ(last[0].produced(), 105u);
  EXPECT_EQ(last[0].written(), 105u);
  EXPECT_EQ(last[0].cpu_losses_size(), 0) << "no loss in this period";
  EXPECT_EQ(first[0].produced() + second[0].produced() + last[0].produced(), 400u);
}

v1::SyscallHistogram Hist(uint64_t count, uint64_t min, uint64_t max,
                          std::vector<uint64_t> buckets) {
  v1::SyscallHistogram h;
  h.set_count(count);
  h.set_sum_ns(count * 10);
  h.set_min_ns(min);
  h.set_max_ns(max);
  for (uint64_t b : buckets) h.add_log2_buckets(b);
  return h;
}

TEST(HistogramCutTest, CountsAreThePeriodsAndExtremesBoundedByIt) {
  // Before the seam: 3 calls in [4, 8) and [8, 16), min 5 max 12.
  const v1::SyscallHistogram cut = Hist(3, 5, 12, {0, 0, 2, 1});
  // Since: 2 calls in [8, 16) and 1 in [32, 64): a new max, no new min.
  v1::SyscallHistogram h = Hist(6, 5, 40, {0, 0, 2, 3, 0, 1});
  SubtractHistogram(cut, &h);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.sum_ns(), 30u);
  EXPECT_EQ(std::vector<uint64_t>(h.log2_buckets().begin(), h.log2_buckets().end()),
            (std::vector<uint64_t>{0, 0, 0, 2, 0, 1}));
  EXPECT_EQ(h.max_ns(), 40u) << "a new max is the period's";
  EXPECT_EQ(h.min_ns(), 8u) << "no new min: the bottom of the lowest bucket";
  // Since: one call in [4, 8), none longer: the top of its bucket, capped by
  // the run's max; trailing empty buckets dropped.
  v1::SyscallHistogram g = Hist(4, 5, 12, {0, 0, 3, 1});
  SubtractHistogram(cut, &g);
  EXPECT_EQ(g.log2_buckets_size(), 3);
  EXPECT_EQ(g.min_ns(), 5u) << "not below the run's min";
  EXPECT_EQ(g.max_ns(), 7u);
  // A key new since the seam has no cut: all of it is the period's.
  v1::SyscallHistogram fresh = Hist(2, 3, 9, {0, 1, 0, 1});
  SubtractHistogram(v1::SyscallHistogram(), &fresh);
  EXPECT_EQ(fresh.min_ns(), 3u);
  EXPECT_EQ(fresh.max_ns(), 9u);
}

}  // namespace
}  // namespace probe
