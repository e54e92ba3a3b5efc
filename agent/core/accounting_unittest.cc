// The run's accounting without a kernel: the kernel counter table, the
// KindCounters entries built from it, settling records as written or lost
// at each flush, and when a kernel histogram is final.
#include "accounting.h"

#include <gtest/gtest.h>

#include <set>
#include <utility>

namespace probe {
namespace {

using counters::Reason;

TEST(KernelCounterTable, EveryBpfCounterOnce) {
  std::set<int> indices;
  for (const KernelCounter& c : kKernelCounters) {
    EXPECT_LT(int(c.index), int(PROBE_CTR_MAX));
    EXPECT_TRUE(indices.insert(c.index).second) << "counter " << c.index << " twice";
    EXPECT_NE(c.kind, v1::EVENT_KIND_UNSPECIFIED) << "counter " << c.index;
    EXPECT_NE(std::string(c.meaning), "");
  }
  // bpf/probe_events.h numbers its counters 0..PROBE_CTR_WAKE_NO_SWITCH_IN.
  EXPECT_EQ(indices.size(), size_t(PROBE_CTR_WAKE_NO_SWITCH_IN) + 1);
}

// read(index) answers index*100 + cpu on each of 3 CPUs.
KernelCounters ReadFake() {
  return ReadKernelCounters([](uint32_t index) {
    return std::vector<uint64_t>{index * 100u, index * 100u + 1, index * 100u + 2};
  });
}

TEST(KernelCounters, SumsOverCpusAndKeepsTheRingSplit) {
  KernelCounters k = ReadFake();
  auto sum = [](uint32_t i) { return 3 * i * 100u + 3; };
  EXPECT_EQ(k.at(v1::EVENT_KIND_SYSCALL, counters::kProduced), sum(PROBE_CTR_SYS_PRODUCED));
  EXPECT_EQ(k.at(v1::EVENT_KIND_WAKEUP, counters::kSampledRate), sum(PROBE_CTR_WAKE_RATE));
  EXPECT_EQ(k.ring_full_cpu[v1::EVENT_KIND_SYSCALL],
            (std::vector<uint64_t>{300, 301, 302}));  // PROBE_CTR_SYS_RING_FULL = 3
  EXPECT_TRUE(k.ring_full_cpu[v1::EVENT_KIND_SHIM].empty());
  EXPECT_EQ(
      k.Total(counters::kLostRingFull),
      sum(PROBE_CTR_PROC_RING_FULL) + sum(PROBE_CTR_SYS_RING_FULL) + sum(PROBE_CTR_WAKE_RING_FULL));
  // Lost: the ring losses and the untimed calls; not the untracked threads.
  EXPECT_EQ(k.Lost(), k.Total(counters::kLostRingFull) + sum(PROBE_CTR_SYS_TABLE_FULL));
}

// What the hand-written FillCounters wrote, field by field, from the same
// kernel counters.
TEST(FillCounters, EachKindGetsItsKernelAndAgentCounts) {
  KernelCounters k = ReadFake();
  k.ring_full_cpu[v1::EVENT_KIND_PROCESS] = {0, 7, 0};
  AgentCounters a;
  a.kind[v1::EVENT_KIND_PROCESS] = {
      .written = 5, .lost_decode = 1, .lost_write = 2, .pending = 0, .agent_produced = 3};
  a.kind[v1::EVENT_KIND_SYSCALL].written = 40;
  google::protobuf::RepeatedPtrField<v1::KindCounters> out;
  FillCounters({v1::EVENT_KIND_PROCESS, v1::EVENT_KIND_SYSCALL, v1::EVENT_KIND_WAKEUP}, k, a, &out);
  ASSERT_EQ(out.size(), 3);
  auto at = [&](int i) { return k.value[out[i].kind()]; };
  const v1::KindCounters& p = out[0];
  EXPECT_EQ(p.kind(), v1::EVENT_KIND_PROCESS);
  EXPECT_EQ(p.produced(), at(0)[counters::kProduced] + 3);
  EXPECT_EQ(p.written(), 5u);
  EXPECT_EQ(p.lost_decode(), 1u);
  EXPECT_EQ(p.lost_write(), 2u);
  EXPECT_EQ(p.lost_ring_full(), at(0)[counters::kLostRingFull]);
  EXPECT_EQ(p.sampled_out(), 0u);
  ASSERT_EQ(p.cpu_losses_size(), 1);  // CPUs with losses only
  EXPECT_EQ(p.cpu_losses(0).cpu(), 1u);
  EXPECT_EQ(p.cpu_losses(0).lost_ring_full(), 7u);

  const v1::KindCounters& s = out[1];
  EXPECT_EQ(s.kind(), v1::EVENT_KIND_SYSCALL);
  EXPECT_EQ(s.written(), 40u);
  EXPECT_EQ(s.lost_table_full(), at(1)[counters::kLostTableFull]);
  EXPECT_EQ(s.lost_histogram_full(), at(1)[counters::kLostHistogramFull]);
  EXPECT_EQ(s.sampled_min_latency(), at(1)[counters::kSampledMinLatency]);
  EXPECT_EQ(s.sampled_out(), s.sampled_min_latency() + s.sampled_one_in_n() + s.sampled_first_k() +
                                 s.sampled_rate());
  EXPECT_EQ(s.cpu_losses_size(), 3);

  const v1::KindCounters& w = out[2];
  EXPECT_EQ(w.kind(), v1::EVENT_KIND_WAKEUP);
  EXPECT_EQ(w.lost_table_full(), 0u) << "untracked threads are outside the record";
  EXPECT_EQ(w.sampled_min_latency(), 0u);
  EXPECT_EQ(w.sampled_out(), w.sampled_one_in_n() + w.sampled_first_k() + w.sampled_rate());
}

TEST(FillCounters, OnlyTheKindsTraced) {
  google::protobuf::RepeatedPtrField<v1::KindCounters> out;
  FillCounters({v1::EVENT_KIND_SYSCALL}, KernelCounters(), AgentCounters(), &out);
  ASSERT_EQ(out.size(), 1);
  EXPECT_EQ(out[0].kind(), v1::EVENT_KIND_SYSCALL);
}

// Records count as written only once flushed; a failed flush loses them.
TEST(AgentCounters, SettlesPendingRecordsAtEachFlush) {
  AgentCounters a;
  a.Appended(v1::EVENT_KIND_SYSCALL, true);
  a.Appended(v1::EVENT_KIND_SYSCALL, true);
  a.Appended(v1::EVENT_KIND_WAKEUP, false);
  a.Settle(false, 100);  // still buffered
  EXPECT_EQ(a.kind[v1::EVENT_KIND_SYSCALL].written, 0u);
  EXPECT_EQ(a.kind[v1::EVENT_KIND_SYSCALL].pending, 2u);
  a.Settle(false, 0);  // flushed
  EXPECT_EQ(a.kind[v1::EVENT_KIND_SYSCALL].written, 2u);
  EXPECT_EQ(a.kind[v1::EVENT_KIND_SYSCALL].pending, 0u);
  a.Appended(v1::EVENT_KIND_SYSCALL, true);
  a.Settle(true, 0);  // the write failed: what was buffered is lost
  EXPECT_EQ(a.kind[v1::EVENT_KIND_SYSCALL].written, 2u);
  EXPECT_EQ(a.kind[v1::EVENT_KIND_SYSCALL].lost_write, 1u);
  EXPECT_EQ(a.LostWrite(), 2u);
  a.kind[v1::EVENT_KIND_PROCESS].lost_decode = 4;
  EXPECT_EQ(a.Lost(), 6u);
  a.histograms_written = 10;
  EXPECT_EQ(a.TotalWritten(), 12u);
}

TEST(KindOf, EventTypes) {
  uint16_t type = PROBE_EV_SYSCALL_WAIT;
  EXPECT_EQ(KindOfEventType(&type, sizeof(type)), v1::EVENT_KIND_SYSCALL);
  type = PROBE_EV_WAKEUP;
  EXPECT_EQ(KindOfEventType(&type, sizeof(type)), v1::EVENT_KIND_WAKEUP);
  EXPECT_EQ(KindOfEventType(&type, 1), v1::EVENT_KIND_PROCESS) << "too short to say";
}

bool Runs() { return true; }
bool Gone() { return false; }

TEST(HistogramLedger, FinalOnceTheExitIsReadAndTheLastCountWritten) {
  HistogramLedger l;
  const uint64_t id = HistogramLedger::Id(42, 3);
  EXPECT_TRUE(l.Changed(id, 5));
  EXPECT_FALSE(l.Visit(id, 5, true, false, Runs));
  l.EndPass();
  EXPECT_FALSE(l.Changed(id, 5));
  // The exit record was read, but the newest count could not be written:
  // not final, or those calls would be lost.
  EXPECT_TRUE(l.Changed(id, 6));
  EXPECT_FALSE(l.Visit(id, 6, false, true, Gone));
  l.EndPass();
  EXPECT_TRUE(l.Visit(id, 6, true, true, Gone));
  EXPECT_TRUE(l.Changed(id, 6)) << "forgotten once final";
}

// The exit record comes at sched_process_exit; the last thread then closes
// its files and gives back its memory, and can be preempted or sleep there,
// each switch-in a count of its scheduler histograms. Final only once no
// thread can run: seen on a process closing 9000 pipes beside a spinner, 19
// switch-ins after its exit record, and before this the final histogram
// was written without them.
TEST(HistogramLedger, AnExitedProcessStillRunningIsNotFinal) {
  HistogramLedger l;
  const uint64_t id = HistogramLedger::Id(5, 1);
  EXPECT_FALSE(l.Visit(id, 10, true, true, Runs));
  l.EndPass();
  // The exit's pass is over (the writer forgets exits after a pass): gone
  // twice with the count unchanged.
  EXPECT_TRUE(l.Changed(id, 12));
  EXPECT_FALSE(l.Visit(id, 12, true, false, Gone));
  l.EndPass();
  EXPECT_TRUE(l.Visit(id, 12, false, false, Gone));
}

// Exits not traced: final when the process was gone at the previous pass
// too and its count has not moved since.
TEST(HistogramLedger, WithoutExitsFinalAfterTwoQuietPassesGone) {
  HistogramLedger l;
  const uint64_t id = HistogramLedger::Id(7, 1);
  bool asked = false;
  EXPECT_FALSE(l.Visit(id, 3, true, false, [&] { return asked = true, false; }));
  EXPECT_TRUE(asked);
  l.EndPass();
  // A last call raced the read: the count moved, so written first.
  EXPECT_FALSE(l.Visit(id, 4, true, false, Gone));
  l.EndPass();
  EXPECT_TRUE(l.Visit(id, 4, false, false, Gone));
}

TEST(HistogramLedger, ALiveProcessNeverFinal) {
  HistogramLedger l;
  const uint64_t id = HistogramLedger::Id(9, 2);
  for (int pass = 0; pass < 3; ++pass) {
    EXPECT_FALSE(l.Visit(id, 1, pass == 0, false, Runs));
    l.EndPass();
  }
}

TEST(HistogramLedger, AnExitedProcessWithNoThreadLeftIsFinalAtOnce) {
  HistogramLedger l;
  EXPECT_TRUE(l.Visit(HistogramLedger::Id(1, 1), 2, true, true, Gone));
}

}  // namespace
}  // namespace probe
