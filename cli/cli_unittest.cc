#include <gtest/gtest.h>

#include "cli_args.h"
#include "duration.h"
#include "kinds.h"

namespace probe {
namespace {

const ArgSpec kSpec{"afh", "pode", {"--pid", "--output"}, {"--all", "--force"}};

std::vector<std::string> Expand(const std::vector<std::string>& in, std::string* error = nullptr) {
  std::vector<std::string> out;
  std::string e;
  if (!ExpandArgs(in, kSpec, &out, &e)) out = {"ERROR: " + e};
  if (error) *error = e;
  return out;
}

using V = std::vector<std::string>;

TEST(CliArgsTest, LongOptionsWithEquals) {
  EXPECT_EQ(Expand({"--pid=1234", "--output=a=b.ptrace"}),
            (V{"--pid", "1234", "--output", "a=b.ptrace"}));
  EXPECT_EQ(Expand({"--output="}), (V{"--output", ""}));      // the parser refuses the empty name
  EXPECT_EQ(Expand({"--unknown=3"}), (V{"--unknown", "3"}));  // the parser names it
  std::string e;
  Expand({"--all=1"}, &e);
  EXPECT_EQ(e, "option --all takes no value (got '--all=1')");
}

TEST(CliArgsTest, BundledShortFlags) {
  EXPECT_EQ(Expand({"-af"}), (V{"-a", "-f"}));
  EXPECT_EQ(Expand({"-fo", "x"}), (V{"-f", "-o", "x"}));
  EXPECT_EQ(Expand({"-fox"}), (V{"-f", "-o", "x"}));
  EXPECT_EQ(Expand({"-p1234"}), (V{"-p", "1234"}));
  std::string e;
  Expand({"-fz"}, &e);
  EXPECT_EQ(e, "unknown option '-z' in '-fz' (see --help)");
}

TEST(CliArgsTest, ValuesAndCommandsPassVerbatim) {
  // The value of an option is never expanded, whatever it looks like.
  EXPECT_EQ(Expand({"-o", "-af"}), (V{"-o", "-af"}));
  EXPECT_EQ(Expand({"--output", "--pid=3"}), (V{"--output", "--pid=3"}));
  EXPECT_EQ(Expand({"-o", "-"}), (V{"-o", "-"}));
  EXPECT_EQ(Expand({"-"}), (V{"-"}));
  // Nothing after "--" is ours.
  EXPECT_EQ(Expand({"-a", "--", "ls", "-la", "--color=auto"}),
            (V{"-a", "--", "ls", "-la", "--color=auto"}));
}

TEST(CliArgsTest, OneDurationRule) {
  uint64_t ns = 1;
  EXPECT_TRUE(ParseDuration("0", &ns));
  EXPECT_EQ(ns, 0u);
  EXPECT_TRUE(ParseDuration("5", &ns));  // a bare number is seconds
  EXPECT_EQ(ns, 5000000000u);
  EXPECT_TRUE(ParseDuration("1.5", &ns));
  EXPECT_EQ(ns, 1500000000u);
  EXPECT_TRUE(ParseDuration("2m", &ns));
  EXPECT_EQ(ns, 120000000000u);
  EXPECT_TRUE(ParseDuration("250ns", &ns));
  EXPECT_EQ(ns, 250u);
  EXPECT_TRUE(ParseDuration("40us", &ns));
  EXPECT_EQ(ns, 40000u);
  EXPECT_TRUE(ParseDuration("1.5ms", &ns));
  EXPECT_EQ(ns, 1500000u);
  EXPECT_TRUE(ParseDuration("2s", &ns));
  EXPECT_EQ(ns, 2000000000u);
  for (const char* bad :
       {"", "ms", "-1ms", "5 ms", "1h", "1e30s", "nan", "inf", "+3s", " 3s", "3mm"})
    EXPECT_FALSE(ParseDuration(bad, &ns)) << bad;
}

TEST(CliArgsTest, KindSpellings) {
  EXPECT_EQ(CanonicalKind("syscall"), "syscall");
  EXPECT_EQ(CanonicalKind("syscalls"), "syscall");
  EXPECT_EQ(CanonicalKind("wakeups"), "wakeup");
  EXPECT_EQ(CanonicalKind("processes"), "process");
  EXPECT_EQ(CanonicalKind("markers"), "marker");
  EXPECT_EQ(CanonicalKind("shims"), "shim");
  EXPECT_EQ(CanonicalKind("processs"), "");
  EXPECT_EQ(CanonicalKind("bogus"), "");
}

}  // namespace
}  // namespace probe
