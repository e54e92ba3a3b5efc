#include "privileges.h"

#include <gtest/gtest.h>
#include <linux/capability.h>

namespace probe {
namespace {

TEST(PrivilegePlanTest, NothingNeededKeepsNothing) {
  PrivilegePlan p = PlanPrivilegeDrop({.kernel_release = "6.18.4"}, std::nullopt);
  EXPECT_FALSE(p.user);
  EXPECT_TRUE(p.keep.empty());
  EXPECT_EQ(DescribePlan(p), "same uid, capabilities: none, no_new_privs");
}

TEST(PrivilegePlanTest, EachNeedKeepsItsCapabilities) {
  PrivilegePlan p = PlanPrivilegeDrop(
      {.read_target_memory = true, .signal_child = true, .kernel_release = "6.5.0"},
      SudoUser{1000, 1001});
  ASSERT_TRUE(p.user);
  EXPECT_EQ(p.user->uid, 1000u);
  EXPECT_EQ(p.user->gid, 1001u);
  EXPECT_EQ(p.keep, (std::vector<int>{CAP_DAC_READ_SEARCH, CAP_KILL, CAP_SYS_PTRACE,
                                      CAP_CHECKPOINT_RESTORE}));
  EXPECT_EQ(DescribePlan(p),
            "uid 1000 gid 1001, capabilities: dac_read_search,kill,sys_ptrace,"
            "checkpoint_restore, no_new_privs");
}

TEST(PrivilegePlanTest, OldKernelsKeepCapBpfForMapAccess) {
  for (const char* old : {"6.4.16", "5.15.0-91-generic", "4.19.0", "garbage", ""}) {
    SCOPED_TRACE(old);
    EXPECT_EQ(PlanPrivilegeDrop({.kernel_release = old}, std::nullopt).keep,
              std::vector<int>{CAP_BPF});
  }
  for (const char* recent : {"6.5.0", "6.18.44-fc-v657", "7.0.1"}) {
    SCOPED_TRACE(recent);
    EXPECT_TRUE(PlanPrivilegeDrop({.kernel_release = recent}, std::nullopt).keep.empty());
  }
}

// --rotate snapshots the live targets in every file, after the drop: their
// exe links need CAP_SYS_PTRACE, and nothing else does.
TEST(PrivilegePlanTest, RotationKeepsPtraceForSnapshots) {
  EXPECT_EQ(
      PlanPrivilegeDrop({.kernel_release = "6.18", .snapshot_processes = true}, std::nullopt).keep,
      std::vector<int>{CAP_SYS_PTRACE});
  EXPECT_EQ(PlanPrivilegeDrop(
                {.read_target_memory = true, .kernel_release = "6.18", .snapshot_processes = true},
                std::nullopt)
                .keep,
            (std::vector<int>{CAP_DAC_READ_SEARCH, CAP_SYS_PTRACE, CAP_CHECKPOINT_RESTORE}));
}

TEST(PrivilegePlanTest, SudoToRootIsNoUserChange) {
  EXPECT_FALSE(PlanPrivilegeDrop({.kernel_release = "6.18"}, SudoUser{0, 0}).user);
}

}  // namespace
}  // namespace probe
