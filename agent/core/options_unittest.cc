#include "options.h"

#include <gtest/gtest.h>

#include "ring_layout.h"

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

TEST(OptionsTest, EventsAndMinLatency) {
  auto r = ParseOptions({"--pid", "1"});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(EventNames(*r.options), (std::vector<std::string>{"process", "syscalls", "wakeups"}));
  EXPECT_EQ(r.options->min_latency_ns, 0u);
  r = ParseOptions({"--pid", "1", "-e", "syscalls", "--min-latency", "2ms"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(EventNames(*r.options), (std::vector<std::string>{"syscalls"}));
  EXPECT_EQ(r.options->min_latency_ns, 2000000u);
  r = ParseOptions({"--pid", "1", "--events", "process,bogus"});
  EXPECT_FALSE(r.options);
  EXPECT_EQ(r.error, "unknown event kind 'bogus' in --events (known: process, syscall, wakeup)");
  r = ParseOptions({"--pid", "1", "--events", "process,wakeups"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(EventNames(*r.options), (std::vector<std::string>{"process", "wakeups"}));
  r = ParseOptions({"--pid", "1", "--min-latency", "5ms,"});
  EXPECT_FALSE(r.options);
  EXPECT_NE(r.error.find("expected a duration"), std::string::npos);
}

TEST(OptionsTest, RingBuffers) {
  auto r = ParseOptions({"--all"});
  ASSERT_TRUE(r.options);
  EXPECT_EQ(r.options->ring_buffers, 0u) << "auto";
  for (auto [arg, want] : std::vector<std::pair<const char*, uint32_t>>{
           {"auto", 0}, {"1", 1}, {"7", 7}, {"64", 64}, {"per-cpu", kMaxRingBuffers}}) {
    r = ParseOptions({"--all", "--ring-buffers", arg});
    ASSERT_TRUE(r.options) << arg << ": " << r.error;
    EXPECT_EQ(r.options->ring_buffers, want) << arg;
  }
  for (const char* bad : {"0", "65", "-1", "two", "per_cpu", ""}) {
    r = ParseOptions({"--all", "--ring-buffers", bad});
    EXPECT_FALSE(r.options) << bad;
    EXPECT_EQ(r.error,
              "invalid --ring-buffers '" + std::string(bad) + "': expected 1..64, auto or per-cpu");
  }
  EXPECT_FALSE(ParseOptions({"--all", "--ring-buffers"}).options);
}

TEST(RingLayoutTest, AutoIsOneRingPerFourCpusAndCountsStayWithinTheCpus) {
  struct Case {
    uint32_t requested, ncpu, rings, cpus_per_ring;
  };
  for (const Case& c : std::vector<Case>{
           {0, 1, 1, 1},  // auto on 1 CPU
           {0, 2, 1, 2},  // auto here: one ring for both CPUs
           {0, 4, 1, 4},
           {0, 5, 2, 3},  // 5 CPUs: 2 rings, at most 4 per ring
           {0, 64, 16, 4},
           {0, 256, 64, 4},
           {0, 512, 64, 8},   // past 256 CPUs the ring count stops at 64
           {64, 2, 2, 1},     // per-cpu here
           {64, 96, 48, 2},   // per-cpu past 64 CPUs: pairs
           {1, 128, 1, 128},  // one shared ring
           {4, 10, 4, 3},     // at most 4 rings for 10 CPUs: 3+3+3+1
           {6, 10, 5, 2},     // at most 6: 2 per ring, so 5 rings
           {8, 2, 2, 1},      // never more rings than CPUs
           {1000, 8, 8, 1},
           {0, 0, 1, 1},  // no CPU count: one ring
       }) {
    RingLayout l = ChooseRingLayout(c.requested, c.ncpu);
    EXPECT_EQ(l.rings, c.rings) << c.requested << " for " << c.ncpu;
    EXPECT_EQ(l.cpus_per_ring, c.cpus_per_ring) << c.requested << " for " << c.ncpu;
    // Every CPU maps to a ring that exists, and no ring is left without one.
    if (c.ncpu > 0) {
      EXPECT_EQ((c.ncpu - 1) / l.cpus_per_ring, l.rings - 1);
    }
  }
}

// --rotate takes a duration (60s, 2m, 1h, 500ms) or a size (64K, 256M,
// 1G), never a bare number; --keep needs --rotate and a file to rotate.
TEST(OptionsTest, RotateAndKeep) {
  struct Good {
    const char* value;
    uint64_t ns, bytes;
  };
  for (const Good& g : std::vector<Good>{{"60s", 60000000000ull, 0},
                                         {"2m", 120000000000ull, 0},
                                         {"1h", 3600000000000ull, 0},
                                         {"500ms", 500000000ull, 0},
                                         {"64K", 0, 64ull << 10},
                                         {"256M", 0, 256ull << 20},
                                         {"1G", 0, 1ull << 30}}) {
    auto r = Parse({"--all", "--rotate", g.value});
    ASSERT_TRUE(r.options) << g.value << ": " << r.error;
    EXPECT_EQ(r.options->rotate_ns, g.ns) << g.value;
    EXPECT_EQ(r.options->rotate_bytes, g.bytes) << g.value;
    EXPECT_EQ(r.options->keep_files, 0u);
  }
  auto r = Parse({"--all", "--rotate=1s", "--keep=3"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->keep_files, 3u);
  for (const char* bad : {"", "10", "0s", "50ms", "1X", "32K", "-1s", "1.5M", "s", "M"}) {
    auto e = Parse({"--all", "--rotate", bad});
    ASSERT_FALSE(e.options) << bad;
    EXPECT_NE(e.error.find("invalid --rotate '" + std::string(bad) + "'"), std::string::npos)
        << e.error;
    EXPECT_EQ(e.error.find('\n'), std::string::npos) << "one line";
  }
  struct Case {
    std::vector<std::string> args;
    const char* needle;
  };
  for (const Case& c : std::vector<Case>{
           {{"--all", "--keep", "2"}, "--keep needs --rotate"},
           {{"--all", "--rotate", "1s", "--keep", "0"}, "invalid --keep '0'"},
           {{"--all", "--rotate", "1s", "--keep", "x"}, "invalid --keep 'x'"},
           {{"--all", "--rotate", "1s", "-o", "-"}, "--rotate needs a file"},
       }) {
    auto e = Parse(c.args);
    ASSERT_FALSE(e.options) << c.needle;
    EXPECT_NE(e.error.find(c.needle), std::string::npos) << e.error;
  }
}

}  // namespace
}  // namespace probe

namespace probe {
namespace {

// Issue 20: --repeat N [--repeat-delay DUR] -- CMD.
TEST(OptionsTest, Repeat) {
  auto r = ParseOptions({"--repeat", "5", "--repeat-delay=250ms", "--", "true"});
  ASSERT_TRUE(r.options) << r.error;
  EXPECT_EQ(r.options->repeat, 5u);
  EXPECT_EQ(r.options->repeat_delay_ns, 250000000u);
  auto once = ParseOptions({"--", "true"});
  ASSERT_TRUE(once.options);
  EXPECT_EQ(once.options->repeat, 0u);  // not repeated: the file says so (repeat_count 0)
  struct Case {
    std::vector<std::string> args;
    const char* needle;
  };
  for (const Case& c : std::vector<Case>{
           {{"--repeat", "0", "--", "true"}, "invalid --repeat '0'"},
           {{"--repeat", "-2", "--", "true"}, "invalid --repeat '-2'"},
           {{"--repeat", "3x", "--", "true"}, "invalid --repeat '3x'"},
           {{"--repeat", "1000001", "--", "true"}, "from 1 to 1000000"},
           {{"--repeat"}, "invalid --repeat ''"},
           {{"--repeat", "3", "--pid", "1"}, "--repeat needs a command"},
           {{"--repeat", "3", "--all"}, "--repeat needs a command"},
           {{"--repeat-delay", "1s", "--", "true"}, "--repeat-delay needs --repeat"},
           {{"--repeat", "2", "--repeat-delay", "soon", "--", "true"}, "invalid --repeat-delay"},
       }) {
    auto p = ParseOptions(c.args);
    EXPECT_FALSE(p.options) << c.needle;
    EXPECT_NE(p.error.find(c.needle), std::string::npos) << p.error;
    EXPECT_EQ(p.error.find('\n'), std::string::npos) << "one line";
  }
}

}  // namespace
}  // namespace probe
