#include "cpu_at_start.h"

#include <gtest/gtest.h>

namespace probe {
namespace {

v1::ProcessSnapshot Snapshot(int pid, uint64_t start_ns, uint64_t user, uint64_t sys) {
  v1::ProcessSnapshot s;
  s.set_pid(pid);
  s.set_start_time_ns(start_ns);
  s.set_user_time_ns(user);
  s.set_system_time_ns(sys);
  return s;
}

v1::ProcessLifetime Lifetime(int pid, uint64_t fork_ns, uint64_t user, uint64_t sys) {
  v1::ProcessLifetime p;
  p.set_pid(pid);
  p.set_fork_time_ns(fork_ns);
  p.set_user_time_ns(user);
  p.set_system_time_ns(sys);
  return p;
}

TEST(CpuAtStartTest, TakesTheCpuTimeAtTheStartOffTheSameProcess) {
  CpuAtStart c;
  c.Note(Snapshot(7, 1'000'000'000, 300'000'000, 20'000'000), 5'000'000'000);
  // The kernel's fork time is exact; /proc's start time is in 10 ms ticks.
  auto p = Lifetime(7, 1'006'000'000, 450'000'000, 30'000'000);
  c.Subtract(&p);
  EXPECT_EQ(p.user_time_ns(), 150'000'000u);
  EXPECT_EQ(p.system_time_ns(), 10'000'000u);
  EXPECT_EQ(p.cpu_time_since_ns(), 5'000'000'000u);
  // Never below 0 (the kernel's split by ticks can differ from /proc's).
  auto q = Lifetime(7, 1'000'000'000, 290'000'000, 30'000'000);
  c.Subtract(&q);
  EXPECT_EQ(q.user_time_ns(), 0u);
}

TEST(CpuAtStartTest, LeavesAnotherProcessAndAReusedPidAlone) {
  CpuAtStart c;
  c.Note(Snapshot(7, 1'000'000'000, 300'000'000, 20'000'000), 5'000'000'000);
  auto other = Lifetime(8, 1'000'000'000, 450'000'000, 30'000'000);
  c.Subtract(&other);
  EXPECT_EQ(other.user_time_ns(), 450'000'000u);
  EXPECT_EQ(other.cpu_time_since_ns(), 0u);
  auto reused = Lifetime(7, 9'000'000'000, 450'000'000, 30'000'000);  // forked later
  c.Subtract(&reused);
  EXPECT_EQ(reused.user_time_ns(), 450'000'000u);
  EXPECT_EQ(reused.cpu_time_since_ns(), 0u);
}

TEST(CpuAtStartTest, ASnapshotWithoutCpuTimeTakesNothingOff) {
  CpuAtStart c;
  v1::ProcessSnapshot old;  // a file before: no CPU time in its snapshots
  old.set_pid(7);
  old.set_start_time_ns(1'000'000'000);
  c.Note(old, 5'000'000'000);
  auto p = Lifetime(7, 1'000'000'000, 450'000'000, 30'000'000);
  c.Subtract(&p);
  EXPECT_EQ(p.user_time_ns(), 450'000'000u);
  EXPECT_EQ(p.cpu_time_since_ns(), 0u);
}

}  // namespace
}  // namespace probe
