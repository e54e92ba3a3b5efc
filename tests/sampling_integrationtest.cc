// Sampling and loss accounting with the real agent and kernel: every event
// ends up written, sampled out (with the rule that dropped it) or lost (with
// its reason), exactly, however hard the workload pushes.
#include <gtest/gtest.h>

#include <cmath>
#include <map>

#include "agent_test.h"
#include "counters_check.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::ExpectBalanced;
using testing::ParseKeyValues;
using testing::ReadRecords;
using testing::RunCommand;

long Num(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? -1 : std::stol(it->second);
}

struct Recording {
  std::map<std::string, std::string> counts;
  std::vector<v1::Record> records;
  std::string err;
  const v1::Trailer& trailer() const { return records.back().trailer(); }
  size_t Count(bool (v1::Record::*has)() const) const {
    size_t n = 0;
    for (const auto& r : records) n += (r.*has)();
    return n;
  }
};

class SamplingTest : public testing::AgentTest {
 protected:
  Recording Record(const std::vector<std::string>& agent_flags, const std::vector<std::string>& cmd,
                   const std::string& prefix) {
    std::vector<std::string> argv = {PROBE_AGENT, "-o", file_};
    argv.insert(argv.end(), agent_flags.begin(), agent_flags.end());
    argv.push_back("--");
    argv.insert(argv.end(), cmd.begin(), cmd.end());
    auto r = RunCommand(argv);
    EXPECT_EQ(r.exit_status, 0) << r.err;
    Recording run{ParseKeyValues(r.out, prefix), ReadRecords(file_), r.err};
    EXPECT_FALSE(run.records.empty());
    EXPECT_TRUE(!run.records.empty() && run.records.back().has_trailer()) << r.err;
    return run;
  }
};

// 10 million events through a 64 KiB ring drained every 50 ms: most are
// lost, every one is counted, on the CPU it was lost on, and the last stats
// record says what the trailer says.
TEST_F(SamplingTest, TenMillionEventsThroughATinyRingBalanceExactly) {
  Recording run =
      Record({"--events", "syscalls", "--ring-buffer", "64K", "--drain-delay", "50ms"},
             {PROBE_SYSCALL_BURST, "--events", "10000000", "--kind", "poll0"}, "burst ");
  ASSERT_FALSE(run.counts.empty()) << run.err;
  const long polls = Num(run.counts, "polls");
  ASSERT_EQ(polls, 10000000);
  const auto* c = testing::CountersOf(run.trailer().counters(), v1::EVENT_KIND_SYSCALL);
  ASSERT_NE(c, nullptr);
  // The workload's polls and the eventfd it made them on.
  EXPECT_EQ(c->produced(), uint64_t(polls) + 1);
  ExpectBalanced(*c);
  EXPECT_GT(c->lost_ring_full(), 0u);
  EXPECT_EQ(c->lost_decode() + c->lost_write() + c->lost_table_full(), 0u)
      << "losses are the ring's, not another reason";
  EXPECT_EQ(c->written(), run.Count(&v1::Record::has_syscall));
  EXPECT_NE(run.err.find("ring buffer full"), std::string::npos) << run.err;
  EXPECT_NE(run.err.find("--ring-buffer"), std::string::npos) << "says what to change";
  // The last stats record before the trailer holds the same counters.
  const v1::Record& last_stats = run.records[run.records.size() - 2];
  ASSERT_TRUE(last_stats.has_stats());
  const auto* s = testing::CountersOf(last_stats.stats().counters(), v1::EVENT_KIND_SYSCALL);
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->SerializeAsString(), c->SerializeAsString());
}

// 1 in 10 with a fixed seed: within 4 standard deviations of a tenth, the
// rest counted as 1-in-N, and the histograms still count every call.
TEST_F(SamplingTest, OneInNKeepsATenthWithinStatisticalBound) {
  Recording run =
      Record({"--events", "process,syscalls", "--sample", "syscalls=1/10", "--sample-seed", "7"},
             {PROBE_SYSCALL_BURST, "--events", "200000", "--kind", "poll0"}, "burst ");
  const auto* c = testing::CountersOf(run.trailer().counters(), v1::EVENT_KIND_SYSCALL);
  ASSERT_NE(c, nullptr);
  ExpectBalanced(*c);
  ASSERT_EQ(testing::KernelLost(*c), 0u);
  const double n = double(c->produced()), p = 0.1;
  EXPECT_NEAR(double(c->written()), n * p, 4 * std::sqrt(n * p * (1 - p)));
  EXPECT_EQ(c->sampled_one_in_n(), c->produced() - c->written());
  uint64_t histogram_calls = 0;
  for (const auto& r : run.records)
    if (r.has_syscall_histogram())
      histogram_calls = std::max(histogram_calls, r.syscall_histogram().count());
  EXPECT_EQ(histogram_calls, uint64_t(Num(run.counts, "polls"))) << "histograms stay exact";
  // The header says what was in force.
  const auto& sampling = run.records.front().header().sampling();
  ASSERT_GE(sampling.kinds_size(), 1);
  EXPECT_EQ(sampling.kinds(0).keep_one_in(), 10u);
  EXPECT_EQ(sampling.seed(), 7u);
}

// A threshold keeps only the calls at least that long.
TEST_F(SamplingTest, ThresholdKeepsOnlySlowCalls) {
  Recording run = Record({"--events", "process,syscalls", "--min-latency", "2ms"},
                         {PROBE_EVENTFD_PINGPONG, "select", "5", "10"}, "mode=");
  size_t slow = 0;
  for (const auto& r : run.records) {
    if (!r.has_syscall()) continue;
    EXPECT_GE(r.syscall().duration_ns(), 2000000u);
    ++slow;
  }
  EXPECT_GE(slow, 10u) << "the 5 ms selects";
  const auto* c = testing::CountersOf(run.trailer().counters(), v1::EVENT_KIND_SYSCALL);
  ASSERT_NE(c, nullptr);
  ExpectBalanced(*c);
  EXPECT_EQ(c->sampled_min_latency(), c->produced() - c->written());
}

// --max-rate 20k/s over a 5-second burst: never more than the cap allows
// (20k a second plus a burst of 2k), and the cap is used, not undershot.
TEST_F(SamplingTest, RateCapHoldsOverFiveSeconds) {
  Recording run =
      Record({"--events", "process,syscalls", "--max-rate", "20k/s"},
             {PROBE_SYSCALL_BURST, "--seconds", "5", "--events", "1000000000", "--kind", "poll0"},
             "burst ");
  const auto* c = testing::CountersOf(run.trailer().counters(), v1::EVENT_KIND_SYSCALL);
  ASSERT_NE(c, nullptr);
  ExpectBalanced(*c);
  const double seconds = Num(run.counts, "elapsed_ns") / 1e9;
  ASSERT_GE(seconds, 4.9);
  // The bucket is spent when a call returns, over every call the recording
  // saw: the workload's start-up and exit lie outside its own clock. So the
  // cap is checked over the span of the written records' returns: the burst
  // (2001) plus 20k a second, plus one millisecond of tokens because a
  // refill counts from the refill before the first record.
  uint64_t first_return = UINT64_MAX, last_return = 0;
  for (const auto& r : run.records) {
    if (!r.has_syscall()) continue;
    const uint64_t ret = r.syscall().start_time_ns() + r.syscall().duration_ns();
    first_return = std::min(first_return, ret);
    last_return = std::max(last_return, ret);
  }
  ASSERT_LT(first_return, last_return);
  const double span = double(last_return - first_return) / 1e9;
  EXPECT_LE(double(c->written()), 20000 * (span + 0.001) + 2001);
  EXPECT_GE(double(c->written()), 0.9 * 20000 * seconds);
  EXPECT_GT(c->sampled_rate(), 0u);
}

// The first 100 per (process, syscall) per second, then nothing until the
// next second.
TEST_F(SamplingTest, FirstKPerSecond) {
  Recording run =
      Record({"--events", "process,syscalls", "--first", "syscalls=100/s"},
             {PROBE_SYSCALL_BURST, "--seconds", "2.5", "--events", "1000000000", "--kind", "poll0"},
             "burst ");
  const auto* c = testing::CountersOf(run.trailer().counters(), v1::EVENT_KIND_SYSCALL);
  ASSERT_NE(c, nullptr);
  ExpectBalanced(*c);
  // poll and eventfd2, over 3 one-second windows at most.
  EXPECT_LE(c->written(), 2u * 100 * 3);
  EXPECT_GE(c->written(), 200u);
  EXPECT_GT(c->sampled_first_k(), 0u);
}

// The shim's calls are sampled too: the first 5 per function per second,
// markers untouched, every call accounted for.
TEST_F(SamplingTest, ShimFirstKPerSecond) {
  Recording run = Record({"--preload", "--events", "process", "--first", "shim=5/s"},
                         {PROBE_SHIM_SELECT, "1", "40"}, "shim_select ");
  std::map<int, int> per_function;
  size_t markers = 0;
  for (const auto& r : run.records) {
    if (r.has_shim_call()) ++per_function[r.shim_call().function()];
    markers += r.has_marker();
  }
  for (const auto& [fn, n] : per_function) EXPECT_LE(n, 5 * 2) << "function " << fn;
  EXPECT_EQ(per_function[v1::SHIM_EVENTFD_WRITE], 5) << "40 writes in well under a second";
  EXPECT_EQ(markers, 160u) << "markers are not calls: never sampled";
  const auto* c = testing::CountersOf(run.trailer().counters(), v1::EVENT_KIND_SHIM);
  ASSERT_NE(c, nullptr);
  // 121 calls (eventfd, 40 selects, 40 reads, 40 writes) + 160 markers.
  EXPECT_EQ(c->produced(), 281u);
  EXPECT_EQ(c->produced(), c->written() + c->sampled_out());
  EXPECT_EQ(c->sampled_first_k(), c->sampled_out());
}

// One cap for kernel and shim records together: they take from one bucket.
TEST_F(SamplingTest, RateCapCoversShimRecordsToo) {
  Recording run = Record({"--preload", "--events", "process,syscalls", "--max-rate", "100/s"},
                         {PROBE_SHIM_SELECT, "1", "40"}, "shim_select ");
  const auto* k = testing::CountersOf(run.trailer().counters(), v1::EVENT_KIND_SYSCALL);
  const auto* s = testing::CountersOf(run.trailer().counters(), v1::EVENT_KIND_SHIM);
  ASSERT_NE(k, nullptr);
  ASSERT_NE(s, nullptr);
  const double seconds =
      (run.records.back().trailer().time_ns() - run.records.front().header().ready_time_ns()) / 1e9;
  EXPECT_LE(double(k->written() + s->written()), 100 * seconds + 11 + 1);
  EXPECT_GT(k->sampled_rate(), 0u);
  EXPECT_GT(s->sampled_rate(), 0u) << "the shim's records met the cap too";
  EXPECT_EQ(s->produced(), s->written() + s->sampled_out());
}

// Process records survive any sampling: every child of a fork storm has its
// lifetime, under the harshest settings.
TEST_F(SamplingTest, LifecycleRecordsAreNeverSampled) {
  Recording run = Record({"--sample", "syscalls=1/1000,wakeups=1/1000", "--max-rate", "1/s",
                          "--first", "syscalls=1/s"},
                         {PROBE_EVENTFD_PINGPONG, "select", "1", "20", "--fork", "3"}, "mode=");
  const auto* c = testing::CountersOf(run.trailer().counters(), v1::EVENT_KIND_PROCESS);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->sampled_out(), 0u);
  EXPECT_EQ(c->produced(), c->written());
  EXPECT_GE(run.Count(&v1::Record::has_process), 2u) << "the workload and its child";
}

}  // namespace
}  // namespace probe
