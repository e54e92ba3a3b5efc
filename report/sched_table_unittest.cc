#include "sched_table.h"

#include <gtest/gtest.h>

namespace probe {
namespace {

v1::Wakeup MakeWakeup(int waker_tid, int wakee_tid, uint64_t off_ns, bool preempted = false) {
  v1::Wakeup w;
  w.set_pid(1);
  w.set_tid(wakee_tid);
  w.set_state(preempted ? v1::OFF_CPU_PREEMPTED : v1::OFF_CPU_SLEEPING);
  w.set_off_cpu_ns(off_ns);
  if (!preempted) {
    w.mutable_waker()->set_pid(1);
    w.mutable_waker()->set_tid(waker_tid);
    w.mutable_waker()->set_comm("server");
  }
  return w;
}

TEST(SchedTable, PairsCountWakeupsAndBlockedTimeButNotPreemptions) {
  SchedTable t;
  t.AddWakeup(MakeWakeup(2, 3, 5'000'000));
  t.AddWakeup(MakeWakeup(2, 3, 4'000'000));
  t.AddWakeup(MakeWakeup(0, 3, 0, /*preempted=*/true));
  ASSERT_EQ(t.pairs().size(), 1u);
  const auto& p = t.pairs().begin()->second;
  EXPECT_EQ(p.count, 2u);
  EXPECT_EQ(p.blocked_ns, 9'000'000u);
  EXPECT_EQ(p.waker, "server 1/2");
  SyscallReportContext ctx;
  std::string text = FormatSchedSection(t, ctx);
  EXPECT_NE(text.find("server 1/2"), std::string::npos) << text;
  EXPECT_NE(text.find("-> tid 3"), std::string::npos) << text;
}

// A wakeup from an interrupt, softirq or timer names that context: the task
// it interrupted (still in pid/tid/comm) is a bystander and is never named.
TEST(SchedTable, PairsNameTheInterruptNotTheTaskItInterrupted) {
  SchedTable t;
  v1::Wakeup irq = MakeWakeup(7, 3, 1'000'000);
  irq.mutable_waker()->set_context(v1::WAKER_CONTEXT_HARDIRQ);
  irq.mutable_waker()->set_irq(24);
  irq.mutable_waker()->set_irq_name("virtio0-input.0");
  v1::Wakeup timer = MakeWakeup(8, 3, 2'000'000);
  timer.mutable_waker()->set_context(v1::WAKER_CONTEXT_OWN_TIMEOUT);
  t.AddWakeup(irq);
  t.AddWakeup(timer);
  ASSERT_EQ(t.pairs().size(), 2u);
  SyscallReportContext ctx;
  std::string text = FormatSchedSection(t, ctx);
  EXPECT_NE(text.find("irq 24 (virtio0-input.0)"), std::string::npos) << text;
  EXPECT_NE(text.find("its own timeout"), std::string::npos) << text;
  EXPECT_EQ(text.find("server"), std::string::npos) << text;
}

TEST(SchedTable, PairsAreBoundedAndTheRestCounted) {
  SchedTable t;
  for (int i = 0; i < static_cast<int>(SchedTable::kMaxPairs) + 5; ++i)
    t.AddWakeup(MakeWakeup(100 + i, 3, 1));
  EXPECT_EQ(t.pairs().size(), SchedTable::kMaxPairs);
  EXPECT_EQ(t.untracked_pair_wakeups(), 5u);
}

TEST(SchedTable, LastHistogramWinsAndConvertsForPercentiles) {
  SchedTable t;
  v1::SchedHistogram h;
  h.set_pid(1);
  h.set_kind(v1::SCHED_HISTOGRAM_RUN_QUEUE);
  h.set_count(1);
  h.set_min_ns(1000);
  h.set_max_ns(1000);
  h.add_log2_buckets(0);
  t.AddHistogram(h);
  h.set_count(2);
  h.set_max_ns(3000);
  t.AddHistogram(h);
  ASSERT_EQ(t.histograms().size(), 1u);
  auto s = AsSyscallHistogram(t.histograms().begin()->second);
  EXPECT_EQ(s.count(), 2u);
  EXPECT_EQ(s.max_ns(), 3000u);
}

}  // namespace
}  // namespace probe

namespace probe {
namespace {

TEST(SchedTable, IdleTaskWakerIsNamedAsAnInterrupt) {
  EXPECT_EQ(KernelWakerName("swapper/1"), "an interrupt on idle CPU 1");
  EXPECT_EQ(KernelWakerName("kworker/0:1"), "kernel thread kworker/0:1");
}

}  // namespace
}  // namespace probe
