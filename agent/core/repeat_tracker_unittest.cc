#include "repeat_tracker.h"

#include <gtest/gtest.h>
#include <sys/wait.h>

namespace probe {
namespace {

v1::ProcessLifetime Process(int pid, uint64_t first_exec, uint64_t exec, uint64_t exit) {
  v1::ProcessLifetime p;
  p.set_pid(pid);
  p.set_first_exec_time_ns(first_exec);
  p.set_exec_time_ns(exec);
  p.set_exit_time_ns(exit);
  return p;
}

constexpr int kExit0 = 0;       // W_EXITCODE(0, 0)
constexpr int kExit1 = 1 << 8;  // W_EXITCODE(1, 0)
constexpr int kKilled9 = SIGKILL;

TEST(RepeatTrackerTest, RunFromFirstExecToLastExit) {
  RepeatTracker t(2);
  EXPECT_FALSE(t.active());
  v1::ProcessLifetime before = Process(7, 0, 1, 2);
  t.Tag(&before);
  EXPECT_EQ(before.run_index(), 0u) << "outside a run: left alone";
  t.Begin(100, 1000);
  // A child exits first, then the launched command (sh -c 'exec ...' execs
  // twice: its first exec counts).
  v1::ProcessLifetime child = Process(101, 1500, 1500, 3000);
  v1::ProcessLifetime cmd = Process(100, 1100, 1400, 2800);
  t.Tag(&child);
  t.Tag(&cmd);
  EXPECT_EQ(child.run_index(), 1u);
  EXPECT_EQ(cmd.run_index(), 1u);
  EXPECT_FALSE(t.command_exited());
  t.CommandExited(kExit0);
  v1::Record r = t.End(9999);
  ASSERT_TRUE(r.has_run());
  EXPECT_EQ(r.run().index(), 1u);
  EXPECT_EQ(r.run().pid(), 100);
  EXPECT_EQ(r.run().start_time_ns(), 1000u);
  EXPECT_EQ(r.run().exec_time_ns(), 1100u);
  EXPECT_EQ(r.run().end_time_ns(), 3000u) << "the last descendant's exit, not the agent's look";
  EXPECT_EQ(r.run().duration_ns(), 1900u);
  EXPECT_TRUE(r.run().succeeded());
  EXPECT_EQ(r.run().processes(), 2u);
  EXPECT_FALSE(t.done());
  t.Begin(200, 5000);
  v1::ProcessLifetime second = Process(200, 0, 5100, 5600);  // an older writer: no first exec
  t.Tag(&second);
  EXPECT_EQ(second.run_index(), 2u);
  t.CommandExited(kExit0);
  v1::Record r2 = t.End(7000);
  EXPECT_EQ(r2.run().exec_time_ns(), 5100u);
  EXPECT_EQ(r2.run().duration_ns(), 500u);
  EXPECT_TRUE(t.done());
  EXPECT_EQ(t.ExitStatus(), 0);
  EXPECT_EQ(t.FailureLine(), "");
}

TEST(RepeatTrackerTest, WithoutProcessRecordsTheAgentsTimesCount) {
  RepeatTracker t(1);
  t.Begin(100, 1000);
  t.CommandExited(kExit0);
  v1::Record r = t.End(4000);
  EXPECT_EQ(r.run().exec_time_ns(), 0u);
  EXPECT_EQ(r.run().end_time_ns(), 4000u);
  EXPECT_EQ(r.run().duration_ns(), 3000u);
  EXPECT_EQ(r.run().processes(), 0u);
}

TEST(RepeatTrackerTest, FailedRunsNamedAndFirstStatusReturned) {
  RepeatTracker t(5);
  const int statuses[] = {kExit0, kExit1, kExit0, kKilled9, kExit0};
  for (int s : statuses) {
    t.Begin(1, 1);
    t.CommandExited(s);
    t.End(2);
  }
  EXPECT_EQ(t.ExitStatus(), 1) << "the first failed run's status, as the single launch gives";
  EXPECT_EQ(t.FailureLine(), "runs 2, 4 of 5 failed (2: exit 1, 4: signal 9)");
  RepeatTracker one(3);
  for (int s : {kExit0, kExit0, kKilled9}) {
    one.Begin(1, 1);
    one.CommandExited(s);
    v1::Record r = one.End(2);
    EXPECT_EQ(r.run().exit_signal(), s == kKilled9 ? 9 : 0);
    EXPECT_EQ(r.run().succeeded(), s == kExit0);
  }
  EXPECT_EQ(one.ExitStatus(), 128 + 9);
  EXPECT_EQ(one.FailureLine(), "run 3 of 3 failed (signal 9)");
  RepeatTracker lost(1);
  lost.Begin(1, 1);
  lost.CommandExited(-1);  // the helper died: the status is unknown
  EXPECT_FALSE(lost.End(2).run().succeeded());
  EXPECT_EQ(lost.ExitStatus(), 1);
  EXPECT_EQ(lost.FailureLine(), "run 1 of 1 failed (status unknown)");
}

TEST(RepeatTrackerTest, FailureLineStaysOneShortLine) {
  RepeatTracker t(1000);
  for (int i = 0; i < 1000; ++i) {
    t.Begin(1, 1);
    t.CommandExited(kExit1);
    t.End(2);
  }
  const std::string line = t.FailureLine();
  EXPECT_LT(line.size(), 200u) << line;
  EXPECT_NE(line.find("and 990 more of 1000 failed"), std::string::npos) << line;
}

}  // namespace
}  // namespace probe
