// The record model's pieces: one dispatch, each kind's extent, the bounded
// name table and the waker's words, and one percentile computation.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "histogram.h"
#include "names.h"
#include "record_extent.h"
#include "record_visitor.h"

namespace probe {
namespace {

// Every kind reaches its own method, and a record without a kind OnUnknown.
TEST(RecordVisitor, EachKindReachesItsMethodOnce) {
  struct Seen : RecordVisitor {
    std::vector<std::string> calls;
    void OnHeader(const v1::Header&) override { calls.push_back("header"); }
    void OnSyscall(const v1::SyscallCall&) override { calls.push_back("syscall"); }
    void OnMarker(const v1::Marker&) override { calls.push_back("marker"); }
    void OnUnknown(const v1::Record&) override { calls.push_back("unknown"); }
  } seen;
  v1::Record h, c, m, none, w;
  h.mutable_header();
  c.mutable_syscall();
  m.mutable_marker();
  w.mutable_wakeup();  // not overridden: the default does nothing
  for (const auto* r : {&h, &c, &m, &none, &w}) Visit(*r, seen);
  EXPECT_EQ(seen.calls, (std::vector<std::string>{"header", "syscall", "marker", "unknown"}));
}

TEST(RecordExtent, KindPidTidAndSpanOfEachKind) {
  v1::Record c;
  c.mutable_syscall()->set_pid(5);
  c.mutable_syscall()->set_tid(6);
  c.mutable_syscall()->set_start_time_ns(100);
  c.mutable_syscall()->set_duration_ns(50);
  RecordExtent e = ExtentOf(c);
  EXPECT_STREQ(e.kind, "syscall");
  EXPECT_EQ(e.pid, 5);
  EXPECT_EQ(e.thread, RecordExtent::Thread::kOne);
  EXPECT_EQ(e.tid, 6);
  EXPECT_TRUE(e.timed);
  EXPECT_EQ(e.begin, 100u);
  EXPECT_EQ(e.end, 150u);

  v1::Record h;
  h.mutable_sched_histogram()->set_pid(5);
  e = ExtentOf(h);
  EXPECT_STREQ(e.kind, "wakeup");
  EXPECT_EQ(e.thread, RecordExtent::Thread::kAllOfPid);  // no --tid keeps it
  EXPECT_FALSE(e.timed);                                 // cumulative: any window keeps it

  v1::Record p;
  p.mutable_process()->set_pid(7);
  p.mutable_process()->set_fork_time_ns(10);
  e = ExtentOf(p);
  EXPECT_STREQ(e.kind, "process");
  EXPECT_EQ(e.thread, RecordExtent::Thread::kNone);
  EXPECT_EQ(e.end, UINT64_MAX);  // still running: to the end

  v1::Record n;
  n.mutable_thread_name()->set_tid(3);
  EXPECT_EQ(ExtentOf(n).kind, nullptr);  // every output needs it
}

TEST(NameTable, LifetimeNamesWinOverSnapshotsAndWakersGetThreadNames) {
  NameTable names;
  v1::Record p, s, t;
  p.mutable_process()->set_pid(10);
  p.mutable_process()->set_comm("after-exec");
  s.mutable_snapshot()->set_pid(10);
  s.mutable_snapshot()->set_comm("before");
  t.mutable_thread_name()->set_tid(11);
  t.mutable_thread_name()->set_comm("worker");
  for (const auto* r : {&p, &s, &t}) Visit(*r, names);
  ASSERT_NE(names.Process(10), nullptr);
  EXPECT_EQ(*names.Process(10), "after-exec");
  EXPECT_EQ(names.Process(99), nullptr);
  v1::Waker w;
  w.set_pid(10);
  w.set_tid(11);
  w.set_syscall_nr(1);
  w.set_fd(7);
  EXPECT_EQ(names.WakerComm(w), "worker");
  EXPECT_EQ(names.Waker(w, WakerStyle::kTid), "tid 11 (worker) in write(fd 7)");
  EXPECT_EQ(names.Waker(w, WakerStyle::kPidTid), "pid 10 tid 11 (worker) in write(fd 7)");
  EXPECT_EQ(names.Waker(w, WakerStyle::kPair), "worker 10/11");
  EXPECT_EQ(names.Waker(w, WakerStyle::kGroup), "worker in write");
  v1::Waker idle;
  idle.set_comm("swapper/3");
  idle.set_syscall_nr(-1);
  EXPECT_EQ(names.Waker(idle, WakerStyle::kTid), "an interrupt on idle CPU 3");
  EXPECT_EQ(names.Waker(idle, WakerStyle::kGroup), "an interrupt on an idle CPU");
}

TEST(NameTable, BoundedNewIdsAreCountedKnownOnesRenamed) {
  NameTable names;
  v1::Record t;
  for (int tid = 1; tid <= static_cast<int>(NameTable::kMaxNames) + 3; ++tid) {
    t.mutable_thread_name()->set_tid(tid);
    t.mutable_thread_name()->set_comm("t");
    Visit(t, names);
  }
  EXPECT_EQ(names.dropped(), 3u);
  EXPECT_EQ(names.Thread(static_cast<int>(NameTable::kMaxNames) + 1), nullptr);
  t.mutable_thread_name()->set_tid(1);
  t.mutable_thread_name()->set_comm("renamed");
  Visit(t, names);
  EXPECT_EQ(*names.Thread(1), "renamed");
}

// Every x86_64 syscall a waker can be in has its name: connect (42) came
// out as "syscall 42" in the CSV when the names were a hand-made short list.
TEST(NameTable, WakerSyscallNumbersAreNamedFromTheKernelsList) {
  EXPECT_EQ(X86SyscallName(1), "write");
  EXPECT_EQ(X86SyscallName(42), "connect");
  EXPECT_EQ(X86SyscallName(288), "accept4");
  EXPECT_EQ(X86SyscallName(441), "epoll_pwait2");
  EXPECT_EQ(X86SyscallName(-5), "syscall -5");
}

TEST(Quantiles, ExactFromEveryValueElseInterpolatedAndMarked) {
  v1::SyscallHistogram h;
  for (uint64_t ns : {1000u, 2000u, 3000u, 4000u}) AddToHistogram(ns, &h);
  const Quantiles exact = QuantilesOf({1000, 2000, 3000, 4000}, h);
  EXPECT_TRUE(exact.exact);
  EXPECT_EQ(exact.p50_ns, 2000u);
  EXPECT_EQ(FormatQuantile(exact.p50_ns, exact.exact), "2.0 us");
  const Quantiles estimated = QuantilesOf({}, h);
  EXPECT_FALSE(estimated.exact);
  EXPECT_EQ(estimated.p50_ns, HistogramPercentile(h, 0.5));
  EXPECT_EQ(FormatQuantile(estimated.p50_ns, false)[0], '~');
}

}  // namespace
}  // namespace probe
