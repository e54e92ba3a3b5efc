// probe-report's command line, record filters and --interval, on records
// built in memory.
#include <gtest/gtest.h>

#include "interval_table.h"
#include "record_filter.h"
#include "report_options.h"
#include "thread_table.h"
#include "wait_table.h"

namespace probe {
namespace {

ReportOptions Parse(std::vector<std::string> args) {
  auto r = ParseReportOptions(args);
  EXPECT_TRUE(r.options) << r.error;
  return r.options ? *r.options : ReportOptions();
}

TEST(ReportOptions, ParsesOutputsFiltersAndIntervals) {
  ReportOptions o = Parse({"--chrome", "t.json", "--csv",      "dir",
                           "--html",   "r.html", "--interval", "BEFORE_SEND..AFTER_SEND",
                           "--from",   "1.5",    "--to",       "2",
                           "--pid",    "7",      "--tid",      "8",
                           "--comm",   "server", "--kind",     "syscall,marker",
                           "f"});
  EXPECT_EQ(o.file, "f");
  EXPECT_EQ(o.chrome_path, "t.json");
  EXPECT_EQ(o.csv_dir, "dir");
  EXPECT_EQ(o.html_path, "r.html");
  ASSERT_EQ(o.intervals.size(), 1u);
  EXPECT_EQ(o.intervals[0].first, "BEFORE_SEND");
  EXPECT_EQ(o.intervals[0].second, "AFTER_SEND");
  EXPECT_EQ(*o.from_ns, 1500000000u);
  EXPECT_EQ(*o.to_ns, 2000000000u);
  EXPECT_TRUE(o.pids.count(7) && o.tids.count(8) && o.comms.count("server"));
  EXPECT_EQ(o.kinds.size(), 2u);
}

TEST(ReportOptions, BadInputIsOneLineError) {
  for (auto args : std::vector<std::vector<std::string>>{{},
                                                         {"a", "b"},
                                                         {"--interval", "AB", "f"},
                                                         {"--interval", "..B", "f"},
                                                         {"--from", "x", "f"},
                                                         {"--from", "2", "--to", "1", "f"},
                                                         {"--kind", "bogus", "f"},
                                                         {"--pid", "-3", "f"},
                                                         {"--frobnicate", "f"}}) {
    auto r = ParseReportOptions(args);
    EXPECT_FALSE(r.options);
    EXPECT_FALSE(r.error.empty());
    EXPECT_EQ(r.error.find('\n'), std::string::npos);
  }
}

v1::Record Header(uint64_t start) {
  v1::Record r;
  r.mutable_header()->set_start_time_ns(start);
  return r;
}

v1::Record Call(int pid, int tid, uint64_t start, uint64_t dur) {
  v1::Record r;
  auto* c = r.mutable_syscall();
  c->set_pid(pid);
  c->set_tid(tid);
  c->set_start_time_ns(start);
  c->set_duration_ns(dur);
  return r;
}

v1::Record Marker(int pid, int tid, const std::string& name, uint64_t t) {
  v1::Record r;
  auto* m = r.mutable_marker();
  m->set_pid(pid);
  m->set_tid(tid);
  m->set_name(name);
  m->set_time_ns(t);
  return r;
}

TEST(RecordFilter, TimeWindowIsRelativeToTheStartAndKeepsOverlaps) {
  RecordFilter f(Parse({"--from", "1", "--to", "2", "f"}));
  EXPECT_TRUE(f.Keep(Header(10'000'000'000)));
  EXPECT_FALSE(f.Keep(Call(1, 1, 10'500'000'000, 100)));
  EXPECT_TRUE(f.Keep(Call(1, 1, 10'900'000'000, 200'000'000))) << "overlaps the start";
  EXPECT_TRUE(f.Keep(Call(1, 1, 11'500'000'000, 100)));
  EXPECT_FALSE(f.Keep(Call(1, 1, 12'000'000'001, 100)));
  v1::Record trailer;
  trailer.mutable_trailer();
  EXPECT_TRUE(f.Keep(trailer)) << "counters always pass";
}

TEST(RecordFilter, PidTidCommAndKind) {
  RecordFilter by_pid(Parse({"--pid", "5", "f"}));
  EXPECT_TRUE(by_pid.Keep(Call(5, 6, 1, 1)));
  EXPECT_FALSE(by_pid.Keep(Call(4, 4, 1, 1)));
  RecordFilter by_tid(Parse({"--tid", "6", "f"}));
  EXPECT_TRUE(by_tid.Keep(Call(5, 6, 1, 1)));
  EXPECT_FALSE(by_tid.Keep(Call(5, 5, 1, 1)));
  RecordFilter by_comm(Parse({"--comm", "server", "f"}));
  v1::Record p;
  p.mutable_process()->set_pid(5);
  p.mutable_process()->set_comm("server");
  by_comm.LearnName(p);
  EXPECT_TRUE(by_comm.Keep(Call(5, 6, 1, 1)));
  EXPECT_FALSE(by_comm.Keep(Call(9, 9, 1, 1)));
  RecordFilter by_kind(Parse({"--kind", "marker", "f"}));
  EXPECT_TRUE(by_kind.Keep(Marker(1, 1, "A", 1)));
  EXPECT_FALSE(by_kind.Keep(Call(1, 1, 1, 1)));
}

TEST(IntervalTable, FromEachAToTheNextBOnTheSameThread) {
  IntervalTable t(std::vector<std::pair<std::string, std::string>>{{"BEFORE_SEND", "AFTER_SEND"}});
  // Thread 1: A(0) X(5) B(10) A(20) B(50); thread 2: A(0) B(7); a B with no A.
  for (auto [tid, name, time] :
       std::vector<std::tuple<int, const char*, uint64_t>>{{1, "BEFORE_SEND", 0},
                                                           {2, "BEFORE_SEND", 0},
                                                           {1, "OTHER", 5},
                                                           {2, "AFTER_SEND", 7},
                                                           {1, "AFTER_SEND", 10},
                                                           {1, "BEFORE_SEND", 20},
                                                           {1, "AFTER_SEND", 50},
                                                           {3, "AFTER_SEND", 60}})
    t.Add(Marker(1, tid, name, time).marker());
  DurationStats s = t.all(0).Stats();
  EXPECT_EQ(s.count, 3u);
  EXPECT_EQ(s.max_ns, 30u);
  EXPECT_EQ(s.p50_ns, 10u);
  std::string text = t.Format();
  EXPECT_NE(text.find("interval BEFORE_SEND..AFTER_SEND"), std::string::npos);
  EXPECT_NE(text.find("1/1 "), std::string::npos);
  EXPECT_NE(text.find("1/2 "), std::string::npos);
}

}  // namespace
}  // namespace probe

namespace probe {
namespace {

TEST(WaitTable, SharesOfBlockingWaits) {
  WaitTable t;
  v1::SyscallCall c;
  c.set_pid(1);
  c.set_syscall(v1::SYSCALL_PSELECT6);
  c.set_duration_ns(1000);
  auto* b = c.mutable_breakdown();
  b->set_to_block_ns(100);
  b->set_blocked_ns(700);
  b->set_run_queue_ns(150);
  b->set_return_ns(50);
  t.Add(c);
  t.Add(c);
  c.clear_breakdown();
  t.Add(c);  // did not block: not in the table
  const auto& s = t.keys().at({1, v1::SYSCALL_PSELECT6});
  EXPECT_EQ(s.calls, 2u);
  EXPECT_EQ(s.blocked_ns, 1400u);
  std::string text = t.Format(SyscallReportContext());
  EXPECT_NE(text.find("70.0%"), std::string::npos) << text;
  EXPECT_NE(text.find("15.0%"), std::string::npos) << text;
}

TEST(ThreadTable, TotalsPerThread) {
  ThreadTable t;
  v1::Record r;
  r.mutable_syscall()->set_pid(1);
  r.mutable_syscall()->set_tid(2);
  r.mutable_syscall()->set_duration_ns(500);
  r.mutable_syscall()->mutable_breakdown()->set_blocked_ns(400);
  t.Add(r);
  t.Add(r);
  v1::Record w;
  w.mutable_wakeup()->set_pid(1);
  w.mutable_wakeup()->set_tid(2);
  w.mutable_wakeup()->set_run_queue_ns(30);
  t.Add(w);
  const auto& x = t.threads().at({1, 2});
  EXPECT_EQ(x.syscalls, 2u);
  EXPECT_EQ(x.syscall_ns, 1000u);
  EXPECT_EQ(x.blocked_ns, 800u);
  EXPECT_EQ(x.wakeups, 1u);
  EXPECT_EQ(x.run_queue_ns, 30u);
}

}  // namespace
}  // namespace probe
