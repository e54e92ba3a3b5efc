#include "options.h"

#include <gtest/gtest.h>

namespace probe {
namespace {

ParseResult Parse(std::vector<std::string> a) { return ParseOptions(a); }

TEST(OptionsTest, PidWithDefaults) {
  auto r = Parse({"--pid", "42"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->pids, std::vector<int>{42});
  EXPECT_EQ(r.options->output, "probe.ptrace");
  EXPECT_TRUE(r.options->follow_children);
}

TEST(OptionsTest, CommandAfterDashDash) {
  auto r = Parse({"-o", "x.ptrace", "--", "sh", "-c", "--pid"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->command, (std::vector<std::string>{"sh", "-c", "--pid"}));
  EXPECT_EQ(r.options->output, "x.ptrace");
}

TEST(OptionsTest, Errors) {
  struct Case {
    std::vector<std::string> args;
    const char* needle;
  };
  for (const Case& c : std::vector<Case>{
           {{}, "no target"},
           {{"--pid"}, "needs a process id"},
           {{"--pid", "abc"}, "invalid pid 'abc'"},
           {{"--pid", "-3"}, "invalid pid"},
           {{"--bogus"}, "unknown option '--bogus'"},
           {{"--all", "--pid", "1"}, "choose one"},
           {{"--"}, "must be followed"},
           {{"--all", "--duration", "0"}, "invalid duration"},
           {{"--all", "--ring-buffer", "3000"}, "power of two"},
       }) {
    auto r = Parse(c.args);
    EXPECT_FALSE(r.options);
    EXPECT_NE(r.error.find(c.needle), std::string::npos) << r.error;
    EXPECT_EQ(r.error.find('\n'), std::string::npos) << "one line: " << r.error;
  }
}

TEST(OptionsTest, SizesAndDuration) {
  auto r = Parse({"--all", "--ring-buffer", "64K", "-d", "1.5", "--no-children"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->ring_buffer_bytes, 65536u);
  EXPECT_DOUBLE_EQ(r.options->duration_s, 1.5);
  EXPECT_FALSE(r.options->follow_children);
}

}  // namespace
}  // namespace probe
