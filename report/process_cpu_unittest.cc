#include "process_cpu.h"

#include <gtest/gtest.h>

namespace probe {
namespace {

v1::ProcessLifetime Lifetime(uint64_t user, uint64_t sys) {
  v1::ProcessLifetime p;
  p.set_user_time_ns(user);
  p.set_system_time_ns(sys);
  return p;
}

TEST(ProcessCpuTest, SinceItsStartWithoutTheCpuTimeAtTheRecordingsStart) {
  const ProcessCpu c = CpuShown(Lifetime(450, 30));
  EXPECT_EQ(c.user_ns, 450u);
  EXPECT_EQ(c.system_ns, 30u);
  EXPECT_FALSE(c.in_recording);
}

TEST(ProcessCpuTest, TheRecordingsShareKeepsTheTotalWhenOneSideWentDown) {
  auto p = Lifetime(450'000'000, 30'000'000);
  p.set_user_time_before_ns(300'000'000);
  p.set_system_time_before_ns(20'000'000);
  ProcessCpu c = CpuShown(p);
  EXPECT_TRUE(c.in_recording);
  EXPECT_EQ(c.user_ns, 150'000'000u);
  EXPECT_EQ(c.system_ns, 10'000'000u);
  // /proc's split then and the kernel's at the exit differ: user 300 -> 290,
  // system 20 -> 40. The share is 10 in all, never 0 + 20.
  p = Lifetime(290'000'000, 40'000'000);
  p.set_user_time_before_ns(300'000'000);
  p.set_system_time_before_ns(20'000'000);
  c = CpuShown(p);
  EXPECT_EQ(c.user_ns + c.system_ns, 10'000'000u);
  EXPECT_EQ(c.user_ns, 0u);
  // Less than then in all (10 ms ticks): 0, not a wrapped number.
  p = Lifetime(295'000'000, 20'000'000);
  p.set_user_time_before_ns(300'000'000);
  p.set_system_time_before_ns(20'000'000);
  c = CpuShown(p);
  EXPECT_EQ(c.user_ns + c.system_ns, 0u);
}

}  // namespace
}  // namespace probe
