// Base fixture of the integration tests that run the real agent: skips, with
// the reason, only where BPF cannot load, and gives each test a fresh
// directory and output path.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdlib>
#include <string>

#include "run_command.h"

namespace probe::testing {

class AgentTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0)
      GTEST_SKIP() << "needs root to load BPF (running as uid " << geteuid() << ")";
    if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) GTEST_SKIP() << "kernel has no BTF";
    dir_ = MakeTempDir();
    file_ = dir_ + "/run.ptrace";
  }
  void TearDown() override {
    if (!dir_.empty()) (void)!system(("rm -rf " + dir_).c_str());
  }

  std::string dir_, file_;
};

}  // namespace probe::testing
