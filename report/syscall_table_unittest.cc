#include "syscall_table.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <initializer_list>
#include <string>
#include <vector>

namespace probe {
namespace {

v1::SyscallHistogram MakeHistogram(std::initializer_list<std::pair<int, uint64_t>> buckets,
                                   uint64_t min_ns, uint64_t max_ns) {
  v1::SyscallHistogram h;
  h.set_pid(100);
  h.set_syscall(v1::SYSCALL_PSELECT6);
  h.set_min_ns(min_ns);
  h.set_max_ns(max_ns);
  for (const auto& [i, n] : buckets) {
    while (h.log2_buckets_size() <= i) h.add_log2_buckets(0);
    h.set_log2_buckets(i, n);
    h.set_count(h.count() + n);
  }
  return h;
}

v1::SyscallCall MakeCall(int32_t pid, v1::Syscall s, uint64_t start, uint64_t duration) {
  v1::SyscallCall c;
  c.set_pid(pid);
  c.set_tid(pid);
  c.set_syscall(s);
  c.set_start_time_ns(start);
  c.set_duration_ns(duration);
  c.set_fd(-1);
  return c;
}

TEST(SyscallTable, PercentileInterpolatesInsideTheBucket) {
  // 4 calls in [1024, 2048), 4 in [4096, 8192); min 1100, max 6000.
  const auto h = MakeHistogram({{10, 4}, {12, 4}}, 1100, 6000);
  // Rank 2 of 8: halfway through the first bucket narrowed to [1100, 2048).
  EXPECT_EQ(HistogramPercentile(h, 0.25), 1574u);
  // Rank 4: the end of the first bucket.
  EXPECT_EQ(HistogramPercentile(h, 0.50), 2048u);
  // Rank 7.2: 80% through the second bucket narrowed to [4096, 6000].
  EXPECT_EQ(HistogramPercentile(h, 0.90), 5619u);
  EXPECT_EQ(HistogramPercentile(h, 0.99), 5962u);
}

TEST(SyscallTable, PercentileIsClampedToMinAndMax) {
  // All 20 in [4 194 304, 8 388 608) but none above 5.5 ms: plain bucket
  // interpolation would put p50 at 6.29 ms, beyond the slowest call.
  const auto h = MakeHistogram({{22, 20}}, 5'000'000, 5'500'000);
  EXPECT_EQ(HistogramPercentile(h, 0.0), 5'000'000u);
  EXPECT_EQ(HistogramPercentile(h, 0.5), 5'250'000u);
  EXPECT_EQ(HistogramPercentile(h, 1.0), 5'500'000u);
  EXPECT_EQ(HistogramPercentile(h, 7.0), 5'500'000u);
  EXPECT_EQ(HistogramPercentile(h, -1.0), 5'000'000u);
}

TEST(SyscallTable, SingleCallHistogramIsExact) {
  const auto h = MakeHistogram({{11, 1}}, 3400, 3400);
  for (double q : {0.0, 0.5, 0.9, 0.99, 1.0}) EXPECT_EQ(HistogramPercentile(h, q), 3400u) << q;
}

TEST(SyscallTable, EmptyHistogramHasNoPercentile) {
  EXPECT_EQ(HistogramPercentile(v1::SyscallHistogram(), 0.5), 0u);
}

TEST(SyscallTable, Log2BucketMatchesTheKernel) {
  EXPECT_EQ(Log2Bucket(0), 0);
  EXPECT_EQ(Log2Bucket(1), 0);
  EXPECT_EQ(Log2Bucket(2), 1);
  EXPECT_EQ(Log2Bucket(3), 1);
  EXPECT_EQ(Log2Bucket(4096), 12);
  EXPECT_EQ(Log2Bucket(8191), 12);
  EXPECT_EQ(Log2Bucket(~uint64_t{0}), kHistogramBuckets - 1);
}

TEST(SyscallTable, LastHistogramRecordWins) {
  SyscallTable t;
  auto first = MakeHistogram({{10, 5}}, 1024, 2000);
  first.set_time_ns(1);
  auto second = MakeHistogram({{10, 5}, {20, 4}}, 1024, 2'000'000);
  second.set_time_ns(2);
  t.AddHistogram(first);
  t.AddHistogram(second);
  const auto rows = t.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].histogram.count(), 9u);
  EXPECT_EQ(rows[0].histogram.max_ns(), 2'000'000u);
  EXPECT_FALSE(rows[0].from_calls);
  EXPECT_EQ(rows[0].recorded, 0u);
}

TEST(SyscallTable, HistogramRecordReplacesOneBuiltFromCalls) {
  SyscallTable t;
  t.AddCall(MakeCall(100, v1::SYSCALL_PSELECT6, 10, 3000));
  t.AddCall(MakeCall(100, v1::SYSCALL_PSELECT6, 20, 5000));
  t.AddHistogram(MakeHistogram({{10, 7}, {11, 1}, {12, 1}}, 1500, 5000));
  const auto rows = t.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_FALSE(rows[0].from_calls);
  EXPECT_EQ(rows[0].histogram.count(), 9u);
  EXPECT_EQ(rows[0].recorded, 2u);
}

TEST(SyscallTable, WithoutHistogramRecordsBuildsOneFromCalls) {
  SyscallTable t;
  auto timed_out = MakeCall(7, v1::SYSCALL_POLL, 100, 5'000'000);
  timed_out.set_timed_out(true);
  auto failed = MakeCall(7, v1::SYSCALL_POLL, 200, 3);
  failed.set_ret(-4);
  t.AddCall(timed_out);
  t.AddCall(failed);
  t.AddCall(MakeCall(7, v1::SYSCALL_POLL, 300, 4096));
  const auto rows = t.Rows();
  ASSERT_EQ(rows.size(), 1u);
  const auto& h = rows[0].histogram;
  EXPECT_TRUE(rows[0].from_calls);
  EXPECT_EQ(rows[0].recorded, 3u);
  EXPECT_EQ(h.pid(), 7);
  EXPECT_EQ(h.syscall(), v1::SYSCALL_POLL);
  EXPECT_EQ(h.count(), 3u);
  EXPECT_EQ(h.sum_ns(), 5'004'099u);
  EXPECT_EQ(h.min_ns(), 3u);
  EXPECT_EQ(h.max_ns(), 5'000'000u);
  EXPECT_EQ(h.timeouts(), 1u);
  EXPECT_EQ(h.errors(), 1u);
  ASSERT_EQ(h.log2_buckets_size(), 23);  // 5 ms is in bucket 22
  EXPECT_EQ(h.log2_buckets(1), 1u);
  EXPECT_EQ(h.log2_buckets(12), 1u);
  EXPECT_EQ(h.log2_buckets(22), 1u);
}

TEST(SyscallTable, RowsByPidThenTotalTime) {
  SyscallTable t;
  auto h = [](int32_t pid, v1::Syscall s, uint64_t sum) {
    auto r = MakeHistogram({{10, 1}}, 1024, 1024);
    r.set_pid(pid);
    r.set_syscall(s);
    r.set_sum_ns(sum);
    return r;
  };
  t.AddHistogram(h(20, v1::SYSCALL_READ, 5));
  t.AddHistogram(h(10, v1::SYSCALL_READ, 1));
  t.AddHistogram(h(10, v1::SYSCALL_POLL, 9));
  const auto rows = t.Rows();
  ASSERT_EQ(rows.size(), 3u);
  EXPECT_EQ(rows[0].key, (SyscallKey{10, v1::SYSCALL_POLL}));
  EXPECT_EQ(rows[1].key, (SyscallKey{10, v1::SYSCALL_READ}));
  EXPECT_EQ(rows[2].key, (SyscallKey{20, v1::SYSCALL_READ}));
}

TEST(SyscallTable, TopCallsKeepsTheSlowestInOrder) {
  TopCalls top(3);
  const std::vector<uint64_t> durations = {50, 10, 90, 30, 70, 20, 80, 60, 40, 100};
  for (size_t i = 0; i < durations.size(); ++i) {
    top.Add(MakeCall(1, v1::SYSCALL_READ, i, durations[i]));
    EXPECT_LE(top.size(), 3u);
  }
  std::vector<uint64_t> got;
  for (const auto& c : top.Sorted()) got.push_back(c.duration_ns());
  EXPECT_EQ(got, (std::vector<uint64_t>{100, 90, 80}));
}

TEST(SyscallTable, TopCallsBreaksTiesByStartTime) {
  TopCalls top(2);
  top.Add(MakeCall(1, v1::SYSCALL_READ, 30, 5));
  top.Add(MakeCall(1, v1::SYSCALL_READ, 10, 5));
  top.Add(MakeCall(1, v1::SYSCALL_READ, 20, 5));
  const auto got = top.Sorted();
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0].start_time_ns(), 10u);
  EXPECT_EQ(got[1].start_time_ns(), 20u);
}

TEST(SyscallTable, TableKeepsOnlyTheSlowestCalls) {
  // 50 kept (the HTML page draws them), of which the text lists the first 10.
  SyscallTable t;
  for (uint64_t i = 1; i <= 1000; ++i) t.AddCall(MakeCall(1, v1::SYSCALL_READ, i, i));
  EXPECT_EQ(t.recorded(), 1000u);
  const auto slowest = t.slowest().Sorted();
  ASSERT_EQ(slowest.size(), SyscallTable::kKeptSlowest);
  EXPECT_EQ(slowest.front().duration_ns(), 1000u);
  EXPECT_EQ(slowest.back().duration_ns(), 951u);
  SyscallReportContext ctx;
  const std::string text = FormatSyscallSection(t, ctx);
  EXPECT_NE(text.find("slowest calls that did not time out (10 of 1000 recorded)"),
            std::string::npos)
      << text;
}

TEST(SyscallTable, HistogramRowLooksLikeBcc) {
  EXPECT_EQ(FormatHistogramRow(12, 5, 5, DurationUnit::kNs),
            "      4096 -> 8191       : 5        |****************************************|");
  EXPECT_EQ(FormatHistogramRow(0, 1, 4, DurationUnit::kNs),
            "         0 -> 1          : 1        |**********                              |");
  EXPECT_EQ(FormatHistogramRow(22, 20, 20, DurationUnit::kUs),
            "      4194 -> 8389       : 20       |****************************************|");
  EXPECT_EQ(FormatHistogramRow(11, 0, 20, DurationUnit::kUs),
            "      2.05 -> 4.10       : 0        |                                        |");
}

TEST(SyscallTable, HistogramSkipsEmptyEndsAndPicksTheUnit) {
  const auto h = MakeHistogram({{3, 0}, {7, 2}, {8, 0}, {9, 1}}, 150, 600);
  EXPECT_EQ(FormatHistogram(h),
            "     nsecs               : count     distribution\n"
            "       128 -> 255        : 2        |****************************************|\n"
            "       256 -> 511        : 0        |                                        |\n"
            "       512 -> 1023       : 1        |********************                    |\n");
  EXPECT_EQ(UnitFor(9'999), DurationUnit::kNs);
  EXPECT_EQ(UnitFor(10'000), DurationUnit::kUs);
  EXPECT_EQ(UnitFor(10'000'000), DurationUnit::kMs);
}

TEST(SyscallTable, SyscallNames) {
  EXPECT_EQ(SyscallName(v1::SYSCALL_PSELECT6), "pselect6");
  EXPECT_EQ(SyscallName(v1::SYSCALL_EPOLL_PWAIT2), "epoll_pwait2");
  EXPECT_EQ(SyscallName(v1::SYSCALL_READ), "read(eventfd)");
  EXPECT_EQ(SyscallName(v1::SYSCALL_WRITEV), "writev(eventfd)");
  EXPECT_EQ(SyscallName(static_cast<v1::Syscall>(99)), "syscall#99");
}

TEST(SyscallTable, CallContext) {
  auto wait = MakeCall(1, v1::SYSCALL_PSELECT6, 0, 10);
  wait.set_nfds(4);
  wait.set_has_timeout(true);
  wait.set_timed_out(true);
  EXPECT_EQ(FormatCallContext(wait), "nfds 4, timeout 0, timed out, ret 0");
  auto epoll = MakeCall(1, v1::SYSCALL_EPOLL_WAIT, 0, 10);
  epoll.set_fd(5);
  epoll.set_nfds(8);
  epoll.set_has_timeout(true);
  epoll.set_timeout_ns(2'000'000);
  epoll.set_ret(-4);
  EXPECT_EQ(FormatCallContext(epoll), "epfd 5, maxevents 8, timeout 2.00 ms, EINTR");
  auto write = MakeCall(1, v1::SYSCALL_WRITE, 0, 10);
  write.set_fd(3);
  write.set_ret(8);
  write.set_has_value(true);
  write.set_value(1000);
  EXPECT_EQ(FormatCallContext(write), "fd 3, value 1000");
  auto efd = MakeCall(1, v1::SYSCALL_EVENTFD2, 0, 10);
  efd.set_ret(3);
  efd.set_has_value(true);
  efd.set_value(7);
  efd.set_eventfd_flags(02000000 | 04000 | 1);
  EXPECT_EQ(FormatCallContext(efd),
            "initval 7, flags EFD_CLOEXEC|EFD_NONBLOCK|EFD_SEMAPHORE, fd 3");
}

}  // namespace
}  // namespace probe

namespace probe {
namespace {

v1::SyscallCall CallOf(int pid, uint64_t ns) {
  v1::SyscallCall c;
  c.set_pid(pid);
  c.set_tid(pid);
  c.set_syscall(v1::SYSCALL_PSELECT6);
  c.set_duration_ns(ns);
  return c;
}

TEST(SyscallTable, ExactPercentilesWhenEveryCallWasRecorded) {
  SyscallTable t;
  v1::SyscallHistogram h;
  h.set_pid(1);
  h.set_syscall(v1::SYSCALL_PSELECT6);
  for (uint64_t ns = 1; ns <= 100; ++ns) {
    auto c = CallOf(1, ns * 1000);
    t.AddCall(c);
    AddCallToHistogram(c, &h);
  }
  t.AddHistogram(h);
  auto rows = t.Rows();
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].exact_durations.size(), 100u);
  EXPECT_EQ(ExactPercentile(rows[0].exact_durations, 0.50), 50000u);
  EXPECT_EQ(ExactPercentile(rows[0].exact_durations, 0.90), 90000u);
  EXPECT_EQ(ExactPercentile(rows[0].exact_durations, 0.99), 99000u);
  EXPECT_EQ(ExactPercentile(rows[0].exact_durations, 0.0), 1000u);
}

TEST(SyscallTable, NoExactPercentilesWhenCallsWereFiltered) {
  SyscallTable t;
  v1::SyscallHistogram h;
  h.set_pid(1);
  h.set_syscall(v1::SYSCALL_PSELECT6);
  AddCallToHistogram(CallOf(1, 10), &h);  // below --min-latency: counted, not recorded
  auto slow = CallOf(1, 5'000'000);
  AddCallToHistogram(slow, &h);
  t.AddCall(slow);
  t.AddHistogram(h);
  auto rows = t.Rows();
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_TRUE(rows[0].exact_durations.empty());
  EXPECT_EQ(rows[0].recorded, 1u);
}

}  // namespace
}  // namespace probe

namespace probe {
namespace {

TEST(SyscallTable, BreakdownNamesTheWakerAndItsSyscall) {
  v1::WaitBreakdown b;
  b.set_woken(true);
  b.set_to_block_ns(1000);
  b.set_blocked_ns(5'000'000);
  b.set_total_blocked_ns(5'000'000);
  b.set_run_queue_ns(14'000);
  b.set_return_ns(2000);
  b.mutable_waker()->set_pid(800);
  b.mutable_waker()->set_tid(812);
  b.mutable_waker()->set_comm("server");
  b.mutable_waker()->set_syscall_nr(1);
  b.mutable_waker()->set_fd(7);
  EXPECT_EQ(FormatBreakdown(b),
            "= 5.00 ms blocked (woken by tid 812 (server) in write(fd 7)) + 14.0 us run queue + "
            "3.0 us to block and return");
  b.set_woken(false);
  EXPECT_EQ(FormatBreakdown(b),
            "= 5.00 ms blocked (not woken by a task) + 3.0 us to block and return");
  EXPECT_EQ(X86SyscallName(999), "syscall 999");
}

}  // namespace
}  // namespace probe
