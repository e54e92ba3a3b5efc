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

v1::ProcessLifetime Lifetime(int pid, uint64_t fork_ns) {
  v1::ProcessLifetime p;
  p.set_pid(pid);
  p.set_fork_time_ns(fork_ns);
  p.set_user_time_ns(450'000'000);
  p.set_system_time_ns(30'000'000);
  return p;
}

TEST(CpuAtStartTest, TheSameProcessGetsItsCpuTimeAtTheStart) {
  CpuAtStart c;
  c.Note(Snapshot(7, 1'000'000'000, 300'000'000, 20'000'000));
  // The kernel's fork time is exact; /proc's start time is in 10 ms ticks.
  auto p = Lifetime(7, 1'006'000'000);
  c.Annotate(&p);
  EXPECT_EQ(p.user_time_before_ns(), 300'000'000u);
  EXPECT_EQ(p.system_time_before_ns(), 20'000'000u);
  EXPECT_EQ(p.user_time_ns(), 450'000'000u) << "still since its own start";
}

TEST(CpuAtStartTest, AnotherProcessAReusedPidAndAnOldSnapshotGetNothing) {
  CpuAtStart c;
  c.Note(Snapshot(7, 1'000'000'000, 300'000'000, 20'000'000));
  v1::ProcessSnapshot old;  // a file before: no CPU time in its snapshots
  old.set_pid(9);
  old.set_start_time_ns(1'000'000'000);
  c.Note(old);
  for (auto p : {Lifetime(8, 1'000'000'000), Lifetime(7, 9'000'000'000) /* forked later */,
                 Lifetime(9, 1'000'000'000)}) {
    c.Annotate(&p);
    EXPECT_FALSE(p.has_user_time_before_ns()) << p.pid();
    EXPECT_FALSE(p.has_system_time_before_ns()) << p.pid();
  }
}

}  // namespace
}  // namespace probe
