// probe-report --compare: the statistics against values computed by hand
// (and matching scipy.stats.mannwhitneyu), the split of a repeated file into
// runs from hand-built records, and the comparison of two sides.
#include "compare.h"

#include <gtest/gtest.h>

#include <cmath>

#include "compare_output.h"
#include "compare_runs.h"
#include "compare_stats.h"
#include "trace_summary.h"

namespace probe {
namespace {

TEST(CompareStats, ExactMwuSeparatedSamples) {
  // U = 0; P = 2 / C(10, 5) = 2 / 252 (scipy: 0.007936507936507936).
  MwuResult r = MannWhitneyU({1, 2, 3, 4, 5}, {6, 7, 8, 9, 10});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 0);
  EXPECT_NEAR(r.p, 2.0 / 252.0, 1e-12);
}

TEST(CompareStats, ExactMwuScipyDocExample) {
  // scipy.stats.mannwhitneyu([19, 22, 16, 29, 24], [20, 11, 17, 12]):
  // statistic 17.0, pvalue 0.1111111111111111 (14 of 126 arrangements).
  MwuResult r = MannWhitneyU({19, 22, 16, 29, 24}, {20, 11, 17, 12});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 17);
  EXPECT_NEAR(r.p, 0.1111111111111111, 1e-12);
}

TEST(CompareStats, NormalApproximationWithTies) {
  // U = 1.5; tie groups 2, 4 (the 3s), 2, 3: sum(t^3 - t) = 6 + 60 + 6 + 24;
  // var = 42 / 12 * (14 - 96 / 156), z = (21 - 1.5 - 0.5) / sqrt(var):
  // p = 0.0055035271473033495 (scipy, method="asymptotic").
  MwuResult r = MannWhitneyU({1, 2, 2, 3, 3, 3}, {3, 4, 4, 5, 5, 5, 6});
  EXPECT_FALSE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 1.5);
  EXPECT_NEAR(r.p, 0.0055035271473033495, 1e-12);
  // Ten 1s against ten 2s (counts per run): p = 1.5937911688066275e-05.
  r = MannWhitneyU(std::vector<double>(10, 1), std::vector<double>(10, 2));
  EXPECT_NEAR(r.p, 1.5937911688066275e-05, 1e-15);
  // Every value tied: no evidence at all.
  EXPECT_EQ(MannWhitneyU({3, 3, 3}, {3, 3}).p, 1.0);
  EXPECT_EQ(MannWhitneyU({}, {1, 2}).p, 1.0);
}

TEST(CompareStats, BucketsEqualTheTiedValues) {
  // Buckets are tie groups: the same p as the values 0,0,1,2,2,2 vs 1,1,2,3.
  MwuResult b = MannWhitneyUBuckets({2, 1, 3}, {0, 2, 1, 1});
  MwuResult v = MannWhitneyU({0, 0, 1, 2, 2, 2}, {1, 1, 2, 3});
  EXPECT_DOUBLE_EQ(b.u, v.u);
  EXPECT_NEAR(b.p, v.p, 1e-12);
  // A shift by one bucket of a million calls a side is certain.
  EXPECT_LT(MannWhitneyUBuckets({0, 1000000}, {0, 0, 1000000}).p, 1e-12);
  EXPECT_EQ(MannWhitneyUBuckets({0, 5}, {0, 7}).p, 1.0);
}

TEST(CompareStats, HolmAdjustment) {
  // statsmodels multipletests([0.01, 0.04, 0.03, 0.005], method="holm"):
  // 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, max(0.04 x 1, 0.06).
  const std::vector<double> adj = HolmAdjust({0.01, 0.04, 0.03, 0.005});
  ASSERT_EQ(adj.size(), 4u);
  EXPECT_NEAR(adj[0], 0.03, 1e-12);
  EXPECT_NEAR(adj[1], 0.06, 1e-12);
  EXPECT_NEAR(adj[2], 0.06, 1e-12);
  EXPECT_NEAR(adj[3], 0.02, 1e-12);
  EXPECT_EQ(HolmAdjust({0.5, 0.9})[1], 1.0);
}

TEST(CompareStats, ExactDistributionIsSymmetricAndSumsToOne) {
  // U = m n / 2 is the middle: two-sided p 1.
  EXPECT_DOUBLE_EQ(ExactMwuP(4, 4, 8), 1.0);
  // 10 against 10, complete separation: 2 / C(20, 10).
  EXPECT_NEAR(ExactMwuP(10, 10, 0), 2.0 / 184756.0, 1e-15);
  EXPECT_NEAR(ExactMwuP(10, 10, 100), 2.0 / 184756.0, 1e-15);
}

// A repeated file as the agent writes it: processes with run_index, one
// RepeatRun per run, histograms and calls per pid.
v1::Record Proc(int pid, int ppid, const char* exe, uint32_t run, uint64_t exec, uint64_t exit) {
  v1::Record r;
  auto* p = r.mutable_process();
  p->set_pid(pid);
  p->set_ppid(ppid);
  p->set_exe(exe);
  p->set_comm(exe);
  p->add_argv(exe);
  p->add_argv("-c");
  p->add_argv("pass");
  p->set_exec_time_ns(exec);
  p->set_fork_time_ns(exec - 10);
  p->set_exit_time_ns(exit);
  p->set_exec_to_exit_ns(exit - exec);
  p->set_exec_count(1);
  p->set_finished(true);
  p->set_run_index(run);
  return r;
}

v1::Record RepeatRecord(uint32_t index, int pid, uint64_t duration) {
  v1::Record r;
  auto* run = r.mutable_run();
  run->set_index(index);
  run->set_pid(pid);
  run->set_duration_ns(duration);
  run->set_succeeded(true);
  return r;
}

v1::Record Call(int pid, uint64_t duration, uint64_t blocked) {
  v1::Record r;
  auto* c = r.mutable_syscall();
  c->set_pid(pid);
  c->set_tid(pid);
  c->set_syscall(v1::SYSCALL_PSELECT6);
  c->set_start_time_ns(1000);
  c->set_duration_ns(duration);
  c->set_ret(1);
  auto* b = c->mutable_breakdown();
  b->set_blocked_ns(blocked);
  b->set_run_queue_ns(duration - blocked);
  b->set_woken(true);
  return r;
}

TraceSummary Summarize(const std::vector<v1::Record>& records) {
  TraceSummary s;
  v1::Record h;
  h.mutable_header()->set_format_version(1);
  h.mutable_header()->set_repeat_count(3);
  AddRecord(h, &s);
  for (const auto& r : records) AddRecord(r, &s);
  return s;
}

TEST(CompareRuns, RepeatedFileSplitsByRunIndex) {
  std::vector<v1::Record> records = {Proc(100, 1, "/usr/bin/python3", 1, 1000, 5000),
                                     RepeatRecord(1, 100, 4500),
                                     Proc(201, 200, "/usr/bin/python3", 2, 9000, 12000),
                                     Proc(200, 1, "/bin/sh", 2, 8000, 12500),
                                     RepeatRecord(2, 200, 4600),
                                     Proc(300, 1, "/usr/bin/python3", 3, 20000, 23000),
                                     RepeatRecord(3, 300, 3100),
                                     Proc(999, 1, "/usr/bin/other", 0, 1, 2),  // outside every run
                                     Call(100, 300, 200),
                                     Call(201, 500, 450),
                                     Call(201, 700, 600),
                                     Call(300, 400, 300)};
  const std::vector<RunFigures> split = SplitRuns(Summarize(records), "a.ptrace");
  ASSERT_EQ(split.size(), 3u);
  EXPECT_EQ(split[0].label, "a.ptrace run 1");
  EXPECT_EQ(split[0].command_ns, 4500u);  // the RepeatRun's, not the processes'
  EXPECT_EQ(split[1].command_ns, 4600u);
  EXPECT_EQ(split[1].processes.size(), 2u);
  ASSERT_TRUE(split[1].processes.count("sh > python3 -c _"));
  EXPECT_EQ(split[1].processes.at("sh > python3 -c _").exec_to_exit_ns, 3000u);
  ASSERT_TRUE(split[0].processes.count("python3 -c _"));
  for (const auto& run : split) EXPECT_FALSE(run.processes.count("other"));
  const NamePair key{"python3", "pselect6"};
  EXPECT_EQ(split[0].syscalls.at(key).histogram.count(), 1u);
  EXPECT_EQ(split[1].syscalls.at(key).histogram.count(), 2u);
  EXPECT_EQ(split[1].syscalls.at(key).histogram.sum_ns(), 1200u);
  EXPECT_EQ(split[1].waits.at(key).blocked_ns, 1050u);
  EXPECT_EQ(split[2].waits.at(key).blocked_ns, 300u);
}

TEST(CompareRuns, FileWithoutRunsIsOneRunFromFirstExecToLastExit) {
  std::vector<v1::Record> records = {Proc(10, 1, "/bin/sh", 0, 1000, 2000),
                                     Proc(11, 10, "/bin/bash", 0, 1500, 9000),
                                     Proc(12, 11, "/usr/bin/python3", 0, 2000, 8000)};
  TraceSummary s;
  v1::Record h;
  h.mutable_header()->add_target_pids(10);
  for (const char* a : {"probe-agent", "--", "sh"}) h.mutable_header()->add_command_line(a);
  AddRecord(h, &s);
  for (const auto& r : records) AddRecord(r, &s);
  const auto split = SplitRuns(s, "b.ptrace");
  ASSERT_EQ(split.size(), 1u);
  EXPECT_EQ(split[0].label, "b.ptrace");
  EXPECT_EQ(split[0].command_ns, 8000u);  // 1000 (sh's exec) -> 9000 (bash's exit)
  EXPECT_TRUE(split[0].processes.count("sh > bash > python3 -c _"));
}

// Sides of n runs whose pselect6 blocked time per run is `blocked` (with a
// little spread) and whose command time follows it.
Side MakeSide(int n, uint64_t blocked, uint64_t run_queue) {
  Side side;
  for (int i = 0; i < n; ++i) {
    RunFigures r;
    r.label = "run " + std::to_string(i);
    const uint64_t jitter = uint64_t(i) * 1000;
    r.timed = true;
    r.command_ns = 10 * (blocked + run_queue) + jitter;
    ProcessFigures& p = r.processes["pingpong _"];
    p.name = "pingpong";
    p.shape = "pingpong _";
    p.chain = {p.shape};
    p.count = 1;
    p.exec_to_exit_ns = r.command_ns;
    WaitFigures& w = r.waits[{"pingpong", "pselect6"}];
    w.calls = 10;
    w.blocked_ns = 10 * blocked + jitter;
    w.run_queue_ns = 10 * run_queue + jitter / 10;
    side.runs.push_back(r);
  }
  return side;
}

TEST(Compare, WaitRegressionLeadsAndGates) {
  const Comparison c = Compare(MakeSide(10, 4000000, 5000), MakeSide(10, 6000000, 5000));
  ASSERT_FALSE(c.figures.empty());
  const Figure* cmd = CommandFigure(c);
  ASSERT_NE(cmd, nullptr);
  EXPECT_LT(cmd->p, 0.001);
  EXPECT_NEAR(cmd->ratio(), 1.5, 0.01);
  bool blocked_flagged = false, run_queue_flagged = false;
  for (const Figure& f : c.figures) {
    if (f.measure == "blocked per run") blocked_flagged = f.SlowerBy(10);
    if (f.measure == "run queue per run") run_queue_flagged = f.SlowerBy(10);
  }
  EXPECT_TRUE(blocked_flagged);
  EXPECT_FALSE(run_queue_flagged);
  const std::string text = FormatCompareText(c, 10.0);
  EXPECT_NE(text.find("1.50x slower"), std::string::npos) << text;
  EXPECT_NE(text.find("pselect6 in pingpong: blocked per run +20.00 ms"), std::string::npos)
      << text;
  const std::string json = FormatCompareJson(c, 10.0);
  EXPECT_EQ(size_t(std::count(json.begin(), json.end(), '\n')), c.figures.size());
}

TEST(Compare, ProcessesOnOneSideAreCountedAndNamed) {
  Side base = MakeSide(6, 1000000, 0), neu = MakeSide(6, 1000000, 0);
  for (auto& r : neu.runs) {
    for (const char* name : {"sh", "bash"}) {
      ProcessFigures& p = r.processes[std::string(name) + " -c _"];
      p.name = name;
      p.shape = std::string(name) + " -c _";
      p.chain = {p.shape};
      p.count = 1;
      p.exec_to_exit_ns = 3000000;
      p.own_ns = 3000000;
    }
    r.command_ns += 6000000;
  }
  const Comparison c = Compare(base, neu);
  EXPECT_NEAR(c.process_delta, 2.0, 1e-9);
  EXPECT_NEAR(c.process_time_ns, 6e6, 1);
  const std::string text = FormatCompareText(c, std::nullopt);
  EXPECT_NE(
      text.find(
          "2 more processes per run (bash, sh) take 6.00 ms exec->exit outside their children"),
      std::string::npos)
      << text;
}

TEST(Compare, IdenticalSidesAreNotSlower) {
  const Comparison c = Compare(MakeSide(10, 4000000, 5000), MakeSide(10, 4000000, 5000));
  for (const Figure& f : c.figures) EXPECT_FALSE(f.SlowerBy(0)) << f.what << " " << f.measure;
}

}  // namespace
}  // namespace probe
