#include "repeat_runs.h"

#include <gtest/gtest.h>

#include <cmath>

#include "repeat_runs_text.h"
#include "trace_summary.h"

namespace probe {
namespace {

TEST(RepeatRunsTest, SpreadOfOneValueHasNoDeviation) {
  Spread s = SpreadOf({7});
  EXPECT_EQ(s.n, 1u);
  EXPECT_DOUBLE_EQ(s.mean, 7);
  EXPECT_DOUBLE_EQ(s.sd, 0);
  EXPECT_DOUBLE_EQ(s.median, 7);
  EXPECT_DOUBLE_EQ(s.min, 7);
  EXPECT_DOUBLE_EQ(s.max, 7);
  EXPECT_EQ(SpreadOf({}).n, 0u);
}

TEST(RepeatRunsTest, SpreadOfTwoValuesIsTheSampleDeviation) {
  // mean 15, squares 25 + 25 over n-1 = 1: sd = sqrt(50) (hyperfine's σ),
  // not the population's 5.
  Spread s = SpreadOf({20, 10});
  EXPECT_DOUBLE_EQ(s.mean, 15);
  EXPECT_DOUBLE_EQ(s.sd, std::sqrt(50.0));
  EXPECT_DOUBLE_EQ(s.median, 15);
  EXPECT_DOUBLE_EQ(s.min, 10);
  EXPECT_DOUBLE_EQ(s.max, 20);
}

TEST(RepeatRunsTest, MedianOfOddAndEvenCounts) {
  EXPECT_DOUBLE_EQ(SpreadOf({5, 1, 100}).median, 5);
  EXPECT_DOUBLE_EQ(SpreadOf({5, 1, 100, 7}).median, 6);
  Spread s = SpreadOf({2, 4, 4, 4, 5, 5, 7, 9});
  EXPECT_DOUBLE_EQ(s.mean, 5);
  EXPECT_DOUBLE_EQ(s.sd, std::sqrt(32.0 / 7));
  EXPECT_DOUBLE_EQ(s.median, 4.5);
}

v1::Record Run(uint32_t index, uint64_t duration, bool ok, int code = 0) {
  v1::Record r;
  r.mutable_run()->set_index(index);
  r.mutable_run()->set_duration_ns(duration);
  r.mutable_run()->set_succeeded(ok);
  r.mutable_run()->set_exit_code(code);
  return r;
}

v1::Record Proc(const char* comm, uint32_t run, uint64_t exec_to_exit) {
  v1::Record r;
  auto* p = r.mutable_process();
  p->set_comm(comm);
  p->set_run_index(run);
  p->set_finished(true);
  p->set_exec_time_ns(1);
  p->set_exec_to_exit_ns(exec_to_exit);
  return r;
}

std::vector<v1::Record> ThreeRuns() {
  v1::Record h;
  h.mutable_header()->set_repeat_count(4);  // the 4th was stopped: no RepeatRun
  return {h,
          Proc("sh", 1, 3000),
          Proc("python3", 1, 1000),
          Run(1, 4000000, true),
          Proc("sh", 2, 5000),
          Proc("python3", 2, 2000),
          Proc("python3", 2, 4000),
          Run(2, 6000000, false, 1),
          Proc("sh", 3, 4000),
          Run(3, 5000000, true),
          Proc("sh", 4, 99999),  // a run that did not end
          Proc("bystander", 0, 1)};
}

TEST(RepeatRunsTest, RunsAndProcessesAcrossRuns) {
  RepeatRuns runs;
  for (const auto& r : ThreeRuns()) Visit(r, runs);
  EXPECT_TRUE(runs.repeated());
  EXPECT_EQ(runs.repeat_count(), 4u);
  ASSERT_EQ(runs.Runs().size(), 3u);
  EXPECT_EQ(RunsOf(ThreeRuns()).size(), 3u);
  EXPECT_EQ(runs.Runs()[1].index, 2u);
  EXPECT_FALSE(runs.Runs()[1].succeeded);
  EXPECT_EQ(runs.failed(), 1u);
  Spread t = runs.CommandTime();
  EXPECT_EQ(t.n, 3u);
  EXPECT_DOUBLE_EQ(t.mean, 5e6);
  EXPECT_DOUBLE_EQ(t.median, 5e6);
  EXPECT_DOUBLE_EQ(t.sd, 1e6);
  auto procs = runs.Processes();
  ASSERT_EQ(procs.size(), 2u) << "by name; the bystander (run 0) is no run's";
  EXPECT_EQ(procs[0].name, "python3");
  EXPECT_EQ(procs[0].per_run.n, 3u) << "run 3 had none: it counts as 0";
  EXPECT_DOUBLE_EQ(procs[0].per_run.mean, 1);
  EXPECT_DOUBLE_EQ(procs[0].per_run.median, 1);
  EXPECT_DOUBLE_EQ(procs[0].per_run.max, 2);
  EXPECT_EQ(procs[0].exec_to_exit_ns.n, 3u);
  EXPECT_DOUBLE_EQ(procs[0].exec_to_exit_ns.median, 2000);
  EXPECT_EQ(procs[0].counts, (std::vector<double>{1, 2, 0})) << "in run order";
  EXPECT_EQ(procs[0].exec_to_exit_values_ns.size(), 3u);
  EXPECT_EQ(procs[1].name, "sh");
  EXPECT_EQ(procs[1].exec_to_exit_ns.n, 3u) << "run 4's sh did not end with its run";
  EXPECT_DOUBLE_EQ(procs[1].exec_to_exit_ns.max, 5000);
}

TEST(RepeatRunsTest, TextSection) {
  TraceSummary s;
  for (const auto& r : ThreeRuns()) AddRecord(r, &s);
  std::string text = FormatRepeatSection(s.repeats);
  EXPECT_NE(text.find("repeated runs: 3 ended of 4 asked (--repeat), 1 failed: run 2 (exit 1)"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("mean +- sd   5.00 ms +- 1.00 ms   (n 3)"), std::string::npos) << text;
  EXPECT_NE(text.find("median       5.00 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("min ... max  4.00 ms ... 6.00 ms"), std::string::npos) << text;
  EXPECT_NE(text.find("runs: 1: 4.00 ms, 2: 6.00 ms (exit 1), 3: 5.00 ms\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("python3              1.00 +- 1.00"), std::string::npos) << text;
  TraceSummary single;
  AddRecord(Proc("sh", 0, 1), &single);
  EXPECT_EQ(FormatRepeatSection(single.repeats), "") << "not a repeated file: no section";
}

}  // namespace
}  // namespace probe

namespace probe {
namespace {

v1::Record Launched(int pid, int ppid, uint64_t exec, uint64_t exit, bool finished, int code) {
  v1::Record r;
  auto* p = r.mutable_process();
  p->set_pid(pid);
  p->set_ppid(ppid);
  p->set_comm("sh");
  p->set_exec_time_ns(exec);
  p->set_first_exec_time_ns(exec);
  p->set_exit_time_ns(exit);
  p->set_exec_to_exit_ns(exit - exec);
  p->set_finished(finished);
  p->set_exit_code(code);
  return r;
}

v1::Record HeaderOf(std::vector<std::string> argv, int target) {
  v1::Record r;
  for (auto& a : argv) r.mutable_header()->add_command_line(a);
  r.mutable_header()->add_target_pids(target);
  return r;
}

// A file of one launch (no --repeat) is one run, so recordings compare
// whichever way each was made.
TEST(RepeatRunsTest, SingleLaunchIsOneRun) {
  RepeatRuns runs;
  for (const auto& r :
       {HeaderOf({"probe-agent", "-o", "f", "--", "sh", "-c", "x"}, 100),
        Launched(101, 100, 1500, 9000, true, 0), Launched(100, 1, 1000, 8000, true, 3)})
    Visit(r, runs);
  EXPECT_FALSE(runs.repeated()) << "no repeated-runs section for it";
  auto all = runs.Runs();
  ASSERT_EQ(all.size(), 1u);
  EXPECT_TRUE(all[0].single_launch);
  EXPECT_EQ(all[0].pid, 100);
  EXPECT_EQ(all[0].duration_ns, 8000u) << "first exec 1000 -> the child's exit 9000";
  EXPECT_EQ(all[0].processes, 2u);
  EXPECT_FALSE(all[0].succeeded);
  EXPECT_EQ(all[0].exit_code, 3);
  ASSERT_EQ(runs.Processes().size(), 1u);
  EXPECT_DOUBLE_EQ(runs.Processes()[0].per_run.mean, 2);

  RepeatRuns attached;  // --pid 100: no launched command, no run
  for (const auto& r :
       {HeaderOf({"probe-agent", "--pid", "100"}, 100), Launched(100, 1, 1000, 8000, true, 0)})
    Visit(r, attached);
  EXPECT_TRUE(attached.Runs().empty());

  RepeatRuns stopped;  // the agent stopped the command: it did not end by itself
  for (const auto& r :
       {HeaderOf({"probe-agent", "--", "sleep", "9"}, 100), Launched(100, 1, 1000, 0, false, 0)})
    Visit(r, stopped);
  EXPECT_TRUE(stopped.Runs().empty());
}

}  // namespace
}  // namespace probe
