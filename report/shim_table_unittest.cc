#include "shim_table.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "text_report.h"
#include "trace_summary.h"

namespace probe {
namespace {

constexpr int32_t kPid = 100;
constexpr int32_t kTid = 101;

v1::Marker MakeMarker(v1::MarkerType type, const std::string& name, uint64_t time,
                      int32_t tid = kTid) {
  v1::Marker m;
  m.set_pid(kPid);
  m.set_tid(tid);
  m.set_type(type);
  m.set_name(name);
  m.set_time_ns(time);
  return m;
}

v1::Marker Begin(const std::string& name, uint64_t time, int32_t tid = kTid) {
  return MakeMarker(v1::MARKER_BEGIN, name, time, tid);
}

v1::Marker End(const std::string& name, uint64_t time, int32_t tid = kTid) {
  return MakeMarker(v1::MARKER_END, name, time, tid);
}

v1::Marker Mark(const std::string& name, uint64_t time, int32_t tid = kTid) {
  return MakeMarker(v1::MARKER_INSTANT, name, time, tid);
}

v1::ShimCall MakeShim(v1::ShimFunction f, uint64_t entry, uint64_t duration, int32_t tid = kTid) {
  v1::ShimCall c;
  c.set_pid(kPid);
  c.set_tid(tid);
  c.set_function(f);
  c.set_entry_ns(entry);
  c.set_duration_ns(duration);
  return c;
}

v1::SyscallCall MakeKernel(v1::Syscall s, uint64_t start, uint64_t duration, int32_t tid = kTid) {
  v1::SyscallCall c;
  c.set_pid(kPid);
  c.set_tid(tid);
  c.set_syscall(s);
  c.set_start_time_ns(start);
  c.set_duration_ns(duration);
  return c;
}

DurationStats SpanStats(const ShimTable& t, const std::string& name) {
  return t.spans().all().at(name).Stats();
}

const CallStats& Calls(const ShimTable& t, v1::ShimFunction f) { return t.calls().at({kPid, f}); }

TEST(ShimDurations, ExactNearestRankThenHistogramEstimate) {
  DurationSample d;
  for (uint64_t ns : {300, 100, 200}) d.Add(ns);
  DurationStats s = d.Stats();
  EXPECT_TRUE(s.exact);
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.p50_ns, 200u);
  EXPECT_EQ(s.p99_ns, 300u);
  EXPECT_EQ(s.max_ns, 300u);

  DurationSample many;
  for (size_t i = 0; i <= DurationSample::kMaxExact; ++i) many.Add(5000);
  s = many.Stats();
  EXPECT_FALSE(s.exact);
  EXPECT_EQ(s.count, DurationSample::kMaxExact + 1);
  // One value: the histogram's min and max pin the estimate to it.
  EXPECT_EQ(s.p50_ns, 5000u);
  EXPECT_EQ(s.max_ns, 5000u);
}

TEST(ShimSpans, KnownLengthsGiveExactPercentiles) {
  ShimTable t;
  uint64_t now = 1'000'000;
  for (uint64_t len : {1000, 2000, 3000, 4000, 5000}) {
    t.AddMarker(Begin("request", now));
    t.AddMarker(End("request", now + len));
    now += 10'000;
  }
  const DurationStats s = SpanStats(t, "request");
  EXPECT_EQ(s.count, 5u);
  EXPECT_EQ(s.p50_ns, 3000u);
  EXPECT_EQ(s.p99_ns, 5000u);
  EXPECT_EQ(s.max_ns, 5000u);
  EXPECT_TRUE(s.exact);
  ASSERT_EQ(t.spans().by_thread().size(), 1u);
  EXPECT_EQ(t.spans().by_thread().begin()->first.first, (ThreadKey{kPid, kTid}));
  EXPECT_EQ(t.unmatched_ends(), 0u);
  EXPECT_EQ(t.open_spans(), 0u);
}

TEST(ShimSpans, EndClosesTheInnermostBeginOfTheSameName) {
  ShimTable t;
  t.AddMarker(Begin("a", 0));
  t.AddMarker(Begin("a", 10));
  t.AddMarker(Begin("b", 12));
  t.AddMarker(End("a", 15));  // the inner a: 5; b stays open
  t.AddMarker(End("a", 30));  // the outer a: 30
  t.AddMarker(End("b", 40));  // 28
  const auto& a = t.spans().all().at("a");
  EXPECT_EQ(a.count(), 2u);
  EXPECT_EQ(a.Stats().max_ns, 30u);
  EXPECT_EQ(a.Stats().p50_ns, 5u);
  EXPECT_EQ(SpanStats(t, "b").max_ns, 28u);
  EXPECT_EQ(t.open_spans(), 0u);
}

TEST(ShimSpans, UnmatchedEndsAndOpenBeginsAreCounted) {
  ShimTable t;
  t.AddMarker(End("a", 5));             // nothing open
  t.AddMarker(Begin("a", 10));          // never ended on this thread
  t.AddMarker(End("a", 20, kTid + 1));  // another thread's stack
  t.AddMarker(Begin("b", 30));
  t.AddMarker(End("b", 35));
  EXPECT_EQ(t.unmatched_ends(), 2u);
  EXPECT_EQ(t.open_spans(), 1u);
  EXPECT_EQ(t.spans().all().count("a"), 0u);
  EXPECT_EQ(SpanStats(t, "b").count, 1u);
}

TEST(ShimSpans, OpenSpansAreBoundedPerThread) {
  ShimTable t;
  for (size_t i = 0; i < ShimTable::kMaxOpenSpans + 3; ++i) t.AddMarker(Begin("leak", i));
  EXPECT_EQ(t.open_spans(), ShimTable::kMaxOpenSpans + 3);
  t.AddMarker(End("leak", 10'000));  // the innermost is still there
  EXPECT_EQ(SpanStats(t, "leak").max_ns, 10'000u - (ShimTable::kMaxOpenSpans + 2));
}

TEST(ShimIntervals, ConsecutiveMarkersOnAThread) {
  ShimTable t;
  t.AddMarker(Mark("A", 100));
  t.AddMarker(Mark("A", 1000, kTid + 1));  // another thread: no A..B across threads
  t.AddMarker(Mark("B", 350));
  t.AddMarker(Begin("A", 1000));
  t.AddMarker(End("B", 1300));  // any marker type is a point
  t.AddMarker(Mark("B", 1500, kTid + 1));
  IntervalReport ab = IntervalStats(t, "A", "B");
  EXPECT_EQ(ab.all.count, 3u);
  EXPECT_EQ(ab.all.p50_ns, 300u);  // of 250, 300, 500
  EXPECT_EQ(ab.all.max_ns, 500u);
  ASSERT_EQ(ab.by_thread.size(), 2u);
  EXPECT_EQ(ab.by_thread[0].first, (ThreadKey{kPid, kTid}));
  EXPECT_EQ(ab.by_thread[0].second.count, 2u);
  EXPECT_EQ(ab.by_thread[1].second.count, 1u);
  EXPECT_EQ(IntervalStats(t, "B", "A").all.count, 1u);
  EXPECT_EQ(IntervalStats(t, "B", "A").all.max_ns, 650u);
  EXPECT_EQ(IntervalStats(t, "A", "C").all.count, 0u);
  EXPECT_TRUE(IntervalStats(t, "A", "C").by_thread.empty());
}

TEST(ShimIntervals, FromTheTraceSummary) {
  TraceSummary s;
  v1::Record r;
  *r.mutable_marker() = Mark("start", 1000);
  AddRecord(r, &s);
  *r.mutable_marker() = Mark("done", 4000);
  AddRecord(r, &s);
  EXPECT_EQ(IntervalStats(s, "start", "done").all.count, 1u);
  EXPECT_EQ(IntervalStats(s, "start", "done").all.p50_ns, 3000u);
}

TEST(ShimCalls, SelectContainingPselect6GivesTheOverheadKernelFirst) {
  ShimTable t;
  t.AddKernelCall(MakeKernel(v1::SYSCALL_PSELECT6, 1500, 9000));
  t.AddShimCall(MakeShim(v1::SHIM_SELECT, 1000, 10'000));
  const CallStats& c = Calls(t, v1::SHIM_SELECT);
  EXPECT_EQ(c.count, 1u);
  EXPECT_EQ(c.matched, 1u);
  EXPECT_EQ(c.user.Stats().p50_ns, 10'000u);
  EXPECT_EQ(c.kernel.Stats().p50_ns, 9000u);
  EXPECT_EQ(c.overhead.Stats().p50_ns, 1000u);
  EXPECT_EQ(t.pending(), 0u);
}

TEST(ShimCalls, SelectContainingPselect6GivesTheOverheadShimFirst) {
  ShimTable t;
  t.AddShimCall(MakeShim(v1::SHIM_SELECT, 1000, 10'000));
  t.AddKernelCall(MakeKernel(v1::SYSCALL_PSELECT6, 1500, 9000));
  const CallStats& c = Calls(t, v1::SHIM_SELECT);
  EXPECT_EQ(c.matched, 1u);
  EXPECT_EQ(c.kernel.Stats().p50_ns, 9000u);
  EXPECT_EQ(c.overhead.Stats().p50_ns, 1000u);
  EXPECT_EQ(t.pending(), 0u);
}

TEST(ShimCalls, KernelCallOfAnotherThreadIsNotMatched) {
  ShimTable t;
  t.AddKernelCall(MakeKernel(v1::SYSCALL_PSELECT6, 1500, 9000, kTid + 1));
  t.AddShimCall(MakeShim(v1::SHIM_SELECT, 1000, 10'000));
  const CallStats& c = Calls(t, v1::SHIM_SELECT);
  EXPECT_EQ(c.count, 1u);
  EXPECT_EQ(c.matched, 0u);
  EXPECT_EQ(c.overhead.count(), 0u);
}

TEST(ShimCalls, OnlyTheSyscallTheFunctionEntersAndOnlyInside) {
  ShimTable t;
  t.AddKernelCall(MakeKernel(v1::SYSCALL_PSELECT6, 1500, 100));  // poll is not pselect6
  t.AddKernelCall(MakeKernel(v1::SYSCALL_PPOLL, 20'500, 900));   // ends after the call
  t.AddShimCall(MakeShim(v1::SHIM_POLL, 1000, 1000));
  t.AddShimCall(MakeShim(v1::SHIM_POLL, 20'000, 1000));
  EXPECT_EQ(Calls(t, v1::SHIM_POLL).matched, 0u);
  EXPECT_TRUE(ShimCallWraps(v1::SHIM_POLL, v1::SYSCALL_PPOLL));
  EXPECT_TRUE(ShimCallWraps(v1::SHIM_EVENTFD_READ, v1::SYSCALL_READ));
  EXPECT_TRUE(ShimCallWraps(v1::SHIM_EVENTFD, v1::SYSCALL_EVENTFD2));
  EXPECT_FALSE(ShimCallWraps(v1::SHIM_PPOLL, v1::SYSCALL_POLL));
  EXPECT_FALSE(ShimCallWraps(v1::SHIM_EPOLL_PWAIT, v1::SYSCALL_EPOLL_WAIT));
}

// As the agent writes them: the kernel's records as they return, each
// thread's shim records later in one batch, threads interleaved.
TEST(ShimCalls, BatchesInAnyOrderAllMatch) {
  ShimTable t;
  const int kCalls = 500;
  auto kernel = [](int tid, int i) {
    return MakeKernel(v1::SYSCALL_READ, 1'000'000 * i + 100 + tid, 5000 + i, tid);
  };
  auto shim = [](int tid, int i) {
    return MakeShim(v1::SHIM_EVENTFD_READ, 1'000'000 * i + tid, 5000 + i + 300, tid);
  };
  for (int i = 0; i < kCalls; ++i) {
    t.AddKernelCall(kernel(1, i));
    t.AddKernelCall(kernel(2, i));
  }
  for (int i = 0; i < kCalls; ++i) t.AddShimCall(shim(2, i));
  // Thread 3: shim batch first, its kernel calls after.
  for (int i = 0; i < kCalls; ++i) t.AddShimCall(shim(3, i));
  for (int i = 0; i < kCalls; ++i) t.AddKernelCall(kernel(3, i));
  for (int i = 0; i < kCalls; ++i) t.AddShimCall(shim(1, i));
  const CallStats& c = Calls(t, v1::SHIM_EVENTFD_READ);
  EXPECT_EQ(c.count, 3u * kCalls);
  EXPECT_EQ(c.matched, 3u * kCalls);
  // Every user-space span is its kernel read plus 300 ns, wherever it lies.
  EXPECT_EQ(c.overhead.Stats().p50_ns, 300u);
  EXPECT_EQ(c.overhead.Stats().max_ns, 300u);
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_EQ(t.dropped_kernel() + t.dropped_shim(), 0u);
}

TEST(ShimCalls, CallsWithoutAPartnerRetireOnceTheOtherSideMovesOn) {
  ShimTable t;
  // Kernel reads the shim sampled out, then a shim call after them.
  for (int i = 0; i < 100; ++i) t.AddKernelCall(MakeKernel(v1::SYSCALL_READ, 1000 * i, 10));
  EXPECT_EQ(t.pending(), 100u);
  t.AddShimCall(MakeShim(v1::SHIM_EVENTFD_READ, 1'000'000, 50));
  EXPECT_EQ(t.pending(), 1u);  // only the shim call, waiting for its kernel read
  t.AddKernelCall(MakeKernel(v1::SYSCALL_WRITE, 2'000'000, 10));
  EXPECT_EQ(t.pending(), 1u);  // the write, waiting for a shim write
  EXPECT_EQ(t.dropped_kernel() + t.dropped_shim(), 0u);
  EXPECT_EQ(Calls(t, v1::SHIM_EVENTFD_READ).matched, 0u);
}

TEST(ShimCalls, PendingCallsAreBoundedPerThreadOldestDropped) {
  ShimTable t;
  const size_t n = ShimTable::kMaxPendingPerTid + 5;
  for (size_t i = 0; i < n; ++i) t.AddKernelCall(MakeKernel(v1::SYSCALL_READ, 1000 * i, 10));
  EXPECT_EQ(t.pending(), ShimTable::kMaxPendingPerTid);
  EXPECT_EQ(t.dropped_kernel(), 5u);
  // The newest are still there to be matched; the oldest are gone.
  t.AddShimCall(MakeShim(v1::SHIM_READ, 1000 * (n - 1) - 1, 100));
  t.AddShimCall(MakeShim(v1::SHIM_READ, 0, 100));
  EXPECT_EQ(Calls(t, v1::SHIM_READ).matched, 1u);
}

TEST(ShimCalls, PendingCallsAreBoundedOverall) {
  ShimTable t;
  const int threads = ShimTable::kMaxPendingTotal / 1000 + 10;
  for (int tid = 1; tid <= threads; ++tid)
    for (int i = 0; i < 1000; ++i) t.AddKernelCall(MakeKernel(v1::SYSCALL_READ, 1000 * i, 10, tid));
  EXPECT_LE(t.pending(), ShimTable::kMaxPendingTotal);
  EXPECT_EQ(t.pending() + t.dropped_kernel(), 1000u * threads);
}

TEST(ShimCounters, LastEntryPerProcessWins) {
  ShimTable t;
  v1::Stats stats;
  auto* p = stats.add_shim();
  p->set_pid(kPid);
  p->set_produced(10);
  t.AddShimProcesses(stats.shim());
  p->set_produced(20);
  p->set_lost_buffer_full(3);
  t.AddShimProcesses(stats.shim());
  ASSERT_EQ(t.processes().size(), 1u);
  EXPECT_EQ(t.processes().at(kPid).produced(), 20u);
}

TEST(ShimSection, ContainsTheExpectedRows) {
  TraceSummary s;
  v1::Record r;
  auto add = [&](auto set) {
    r.Clear();
    set(r);
    AddRecord(r, &s);
  };
  add([](v1::Record& r) { r.mutable_header()->set_format_version(1); });
  add([](v1::Record& r) {
    auto* p = r.mutable_process();
    p->set_pid(kPid);
    p->set_comm("server");
  });
  add([](v1::Record& r) { *r.mutable_marker() = Begin("request", 1000); });
  add([](v1::Record& r) { *r.mutable_shim_call() = MakeShim(v1::SHIM_SELECT, 2000, 10'000); });
  add([](v1::Record& r) { *r.mutable_marker() = End("request", 3'001'000); });
  add([](v1::Record& r) { *r.mutable_marker() = End("stray", 3'002'000); });
  add([](v1::Record& r) { *r.mutable_syscall() = MakeKernel(v1::SYSCALL_PSELECT6, 2500, 9000); });
  add([](v1::Record& r) {
    auto* p = r.mutable_trailer()->add_shim();
    p->set_pid(kPid);
    p->set_produced(12);
    p->set_written(9);
    p->set_lost_no_buffer(2);
    p->set_rejected(1);
  });
  const std::string text = FormatSummary(s);
  EXPECT_NE(text.find("user-space (shim): 1 wrapped calls, 3 markers"), std::string::npos) << text;
  EXPECT_NE(text.find("     100 server           select                 1         1    10.0 us"
                      "    10.0 us     9.0 us     9.0 us     1.0 us     1.0 us"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  request                                       all      all         1"
                      "    3.00 ms    3.00 ms    3.00 ms"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("  request..stray                                100      101         1"
                      "     1.0 us     1.0 us     1.0 us"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("END markers with no open BEGIN: 1"), std::string::npos) << text;
  EXPECT_NE(text.find("pid 100 (server): produced 12  written 9  sampled out 0  lost 2 "
                      "(buffer full 0, no buffer 2)  rejected 1"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("warning: pid 100: the shim lost 2"), std::string::npos) << text;
}

TEST(ShimSection, AbsentWithoutShimOrMarkerRecords) {
  TraceSummary s;
  v1::Record r;
  r.mutable_header()->set_format_version(1);
  AddRecord(r, &s);
  *r.mutable_syscall() = MakeKernel(v1::SYSCALL_PSELECT6, 2500, 9000);
  AddRecord(r, &s);
  const std::string text = FormatSummary(s);
  EXPECT_EQ(text.find("user-space (shim)"), std::string::npos) << text;
  EXPECT_EQ(FormatShimSection(ShimTable(), SyscallReportContext()), "");
}

TEST(ShimSection, NamesFromTheProgramCannotBreakLines) {
  ShimTable t;
  t.AddMarker(Begin("evil\nname", 0));
  t.AddMarker(End("evil\nname", 10));
  const std::string text = FormatShimSection(t, SyscallReportContext());
  EXPECT_NE(text.find("evil?name"), std::string::npos) << text;
  EXPECT_EQ(text.find("evil\nname"), std::string::npos);
}

}  // namespace
}  // namespace probe
