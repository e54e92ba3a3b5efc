// Runs the real agent with the kernel side's ring buffers sharded by CPU
// (--ring-buffers per-cpu: one ring per CPU) and with one shared ring, over
// two eventfd_pingpong instances pinned to CPU 0 and CPU 1 (taskset), so both
// CPUs produce records at the same time; checks that every ring is drained:
// the counts match the workloads', the counters balance, and the wakeup
// records of each instance come from its own CPU.
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <fstream>
#include <map>
#include <set>

#include "agent_test.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::ReadRecords;
using testing::RunCommand;

// Possible CPUs (what the agent shards over), from "0-1" or "0".
int PossibleCpus() {
  std::ifstream f("/sys/devices/system/cpu/possible");
  std::string s;
  if (!(f >> s) || s.empty()) return 0;
  size_t dash = s.find_last_of("-,");
  return std::stoi(dash == std::string::npos ? s : s.substr(dash + 1)) + 1;
}

long Num(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? -1 : std::stol(it->second);
}

uint64_t Lost(const v1::KindCounters& c) {
  return c.lost_ring_full() + c.lost_decode() + c.lost_write() + c.lost_table_full();
}

// Every kind of the trailer: produced == written + sampled_out + lost, and
// the per-CPU ring losses add up to lost_ring_full.
void ExpectBalanced(const v1::Record& trailer) {
  ASSERT_TRUE(trailer.has_trailer());
  for (const auto& c : trailer.trailer().counters()) {
    if (c.kind() == v1::EVENT_KIND_SHIM) continue;
    EXPECT_EQ(c.produced(), c.written() + c.sampled_out() + Lost(c)) << c.DebugString();
    uint64_t per_cpu = 0;
    for (const auto& l : c.cpu_losses()) per_cpu += l.lost_ring_full();
    EXPECT_EQ(per_cpu, c.lost_ring_full()) << c.DebugString();
  }
}

const v1::KindCounters* Counters(const v1::Record& trailer, v1::EventKind kind) {
  for (const auto& c : trailer.trailer().counters())
    if (c.kind() == kind) return &c;
  return nullptr;
}

bool IsWait(v1::Syscall s) { return s >= v1::SYSCALL_SELECT && s <= v1::SYSCALL_EPOLL_PWAIT2; }

class RingShardsTest : public testing::AgentTest {
 protected:
  void SetUp() override {
    AgentTest::SetUp();
    if (IsSkipped()) return;
    if (sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs 2 online CPUs";
    if (access("/usr/bin/taskset", X_OK) != 0) GTEST_SKIP() << "needs taskset (util-linux)";
  }

  // Two eventfd_pingpong runs at once, "select" pinned to CPU 0 and "poll"
  // to CPU 1, under the agent with agent_flags; returns the agent's output
  // (both workloads' count lines).
  std::string RecordPinnedPair(const std::vector<std::string>& agent_flags,
                               const std::string& delay_ms, const std::string& iterations) {
    const std::string w = std::string(PROBE_EVENTFD_PINGPONG) + " ";
    const std::string script = "taskset -c 0 " + w + "select " + delay_ms + " " + iterations +
                               " & taskset -c 1 " + w + "poll " + delay_ms + " " + iterations +
                               "; wait";
    std::vector<std::string> argv = {PROBE_AGENT, "-o", file_};
    argv.insert(argv.end(), agent_flags.begin(), agent_flags.end());
    argv.insert(argv.end(), {"--", "/bin/sh", "-c", script});
    auto r = RunCommand(argv);
    EXPECT_EQ(r.exit_status, 0) << r.err;
    return r.out;
  }

  // Records a pinned pair with the given --ring-buffers and checks it all.
  void CheckEverythingArrives(const std::string& ring_buffers, uint32_t expected_rings) {
    const std::string out = RecordPinnedPair({"--ring-buffers", ring_buffers}, "2", "30");
    auto records = ReadRecords(file_);
    ASSERT_GE(records.size(), 2u);
    ASSERT_TRUE(records.front().has_header());
    EXPECT_EQ(records.front().header().ring_buffers(), expected_rings);

    // Which pid is which instance: its argv says. Its exec of the workload
    // comes after taskset pinned it (the same process, before the exec,
    // could still run anywhere).
    std::map<std::string, int> pid_of;  // mode -> pid
    std::map<int, uint64_t> pinned_since;
    for (const auto& r : records)
      if (r.has_process() && r.process().argv_size() >= 2 &&
          r.process().argv(0) == PROBE_EVENTFD_PINGPONG) {
        pid_of[r.process().argv(1)] = r.process().pid();
        pinned_since[r.process().pid()] = r.process().exec_time_ns();
      }
    ASSERT_EQ(pid_of.size(), 2u) << "both workloads' lifetimes recorded";

    std::map<int, std::map<v1::Syscall, long>> calls;  // pid -> syscall -> records
    std::map<int, std::set<uint32_t>> wakeup_cpus;     // pid -> CPUs of its wakeups
    std::map<v1::EventKind, uint64_t> in_file;
    for (const auto& r : records) {
      if (r.has_syscall()) {
        calls[r.syscall().pid()][r.syscall().syscall()]++;
        in_file[v1::EVENT_KIND_SYSCALL]++;
      }
      if (r.has_wakeup()) {
        const auto& w = r.wakeup();
        auto since = pinned_since.find(w.pid());
        if (since != pinned_since.end() && since->second && w.on_cpu_time_ns() > since->second)
          wakeup_cpus[w.pid()].insert(w.cpu());
        in_file[v1::EVENT_KIND_WAKEUP]++;
      }
      if (r.has_process()) in_file[v1::EVENT_KIND_PROCESS]++;
    }

    for (const auto& [mode, cpu] : std::map<std::string, uint32_t>{{"select", 0}, {"poll", 1}}) {
      SCOPED_TRACE(mode);
      auto counts = testing::ParseKeyValues(out, "mode=" + mode + " ");
      ASSERT_FALSE(counts.empty()) << "no counts from the " << mode << " run: " << out;
      const int pid = pid_of[mode];
      auto& c = calls[pid];
      long waits = 0;
      for (const auto& [s, n] : c)
        if (IsWait(s)) waits += n;
      EXPECT_EQ(waits, Num(counts, "waits") + Num(counts, "zero_timeout_waits"));
      EXPECT_EQ(c[v1::SYSCALL_READ], Num(counts, "reads") + Num(counts, "other_fd_reads"));
      EXPECT_EQ(c[v1::SYSCALL_WRITE], Num(counts, "writes") + Num(counts, "other_fd_writes"));
      EXPECT_EQ(c[v1::SYSCALL_READV], Num(counts, "readv"));
      EXPECT_EQ(c[v1::SYSCALL_WRITEV], Num(counts, "writev"));
      EXPECT_EQ(c[v1::SYSCALL_EVENTFD2], 1);
      // Pinned: every wakeup of the workload is on its CPU, so with one ring
      // per CPU each instance's wakeups came through a different ring.
      EXPECT_EQ(wakeup_cpus[pid], std::set<uint32_t>{cpu});
    }

    const v1::Record& trailer = records.back();
    ExpectBalanced(trailer);
    for (auto kind : {v1::EVENT_KIND_PROCESS, v1::EVENT_KIND_SYSCALL, v1::EVENT_KIND_WAKEUP}) {
      const auto* k = Counters(trailer, kind);
      ASSERT_NE(k, nullptr) << kind;
      EXPECT_EQ(Lost(*k), 0u) << "1 MiB per ring holds this run: " << k->DebugString();
      EXPECT_EQ(k->written(), in_file[kind]) << k->DebugString();
      EXPECT_EQ(k->produced(), k->written()) << k->DebugString();
    }
  }
};

TEST_F(RingShardsTest, OneRingPerCpuDeliversEveryCpusRecords) {
  CheckEverythingArrives("per-cpu", static_cast<uint32_t>(std::min(PossibleCpus(), 64)));
}

TEST_F(RingShardsTest, OneSharedRingDeliversEveryCpusRecords) { CheckEverythingArrives("1", 1); }

TEST_F(RingShardsTest, AutoIsOneRingPerFourCpus) {
  RecordPinnedPair({}, "1", "5");
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  const uint32_t expected = static_cast<uint32_t>(std::clamp((PossibleCpus() + 3) / 4, 1, 64));
  EXPECT_EQ(records.front().header().ring_buffers(), expected);
  ExpectBalanced(records.back());
}

// Each CPU's ring fills on its own: a slow consumer and 4 KiB rings lose
// records on both CPUs, every loss counted on the CPU whose ring was full.
TEST_F(RingShardsTest, FullRingsLoseOnEachCpuAndTheCountersStillBalance) {
  RecordPinnedPair({"--ring-buffers", "per-cpu", "--ring-buffer", "4K", "--drain-delay", "100ms"},
                   "0", "2000");
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.front().header().ring_buffers(),
            static_cast<uint32_t>(std::min(PossibleCpus(), 64)));
  const v1::Record& trailer = records.back();
  ExpectBalanced(trailer);
  const auto* k = Counters(trailer, v1::EVENT_KIND_SYSCALL);
  ASSERT_NE(k, nullptr);
  EXPECT_GT(k->written(), 0u);
  std::set<uint32_t> cpus_with_losses;
  for (const auto& l : k->cpu_losses())
    if (l.lost_ring_full() > 0) cpus_with_losses.insert(l.cpu());
  EXPECT_TRUE(cpus_with_losses.count(0) && cpus_with_losses.count(1)) << k->DebugString();
}

// With 64 KiB rings, records reach the ring in 4 KiB batches (issue 19):
// a batch the full ring cannot take loses up to 72 records at once, and
// each must be counted under its own kind, calls and wakeups alike.
TEST_F(RingShardsTest, BatchesLostToFullRingsAreCountedRecordByRecord) {
  RecordPinnedPair({"--ring-buffers", "per-cpu", "--ring-buffer", "64K", "--drain-delay", "200ms"},
                   "0", "20000");
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  const v1::Record& trailer = records.back();
  ExpectBalanced(trailer);
  for (v1::EventKind kind : {v1::EVENT_KIND_SYSCALL, v1::EVENT_KIND_WAKEUP}) {
    SCOPED_TRACE(v1::EventKind_Name(kind));
    const auto* k = Counters(trailer, kind);
    ASSERT_NE(k, nullptr);
    EXPECT_GT(k->written(), 0u);
    EXPECT_GT(k->lost_ring_full(), 0u) << "the slow drain must have lost batches";
  }
}

// Three python3 processes flood 64 KiB rings with eventfd calls while the
// agent drains every 200 ms, and exit with status 7 while the rings are
// full: calls are lost (counted), but every process's lifetime is written,
// with the exit status the kernel gave it, because a sixteenth of each ring
// is kept for process exits.
TEST_F(RingShardsTest, ProcessExitsAreWrittenWhileCallsFillTheRings) {
  const std::string flood =
      "/usr/bin/python3 -c 'import os; fd = os.eventfd(0); print(\"flood pid=%d\" % os.getpid(), "
      "flush=True)\nfor _ in range(30000): os.eventfd_write(fd, 1); os.eventfd_read(fd)\n"
      "os._exit(7)'";
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--events", "process,syscalls", "--ring-buffers",
                       "per-cpu", "--ring-buffer", "64K", "--drain-delay", "200ms", "--", "/bin/sh",
                       "-c", flood + "; " + flood + "; " + flood + "; true"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::set<int> flooders;
  for (size_t at = r.out.find("flood pid="); at != std::string::npos;
       at = r.out.find("flood pid=", at + 1))
    flooders.insert(std::stoi(r.out.substr(at + 10)));
  ASSERT_EQ(flooders.size(), 3u) << r.out;
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  const v1::Record& trailer = records.back();
  ExpectBalanced(trailer);
  const auto* calls = Counters(trailer, v1::EVENT_KIND_SYSCALL);
  ASSERT_NE(calls, nullptr);
  EXPECT_GT(calls->lost_ring_full(), 0u) << "the rings must have been full";
  const auto* processes = Counters(trailer, v1::EVENT_KIND_PROCESS);
  ASSERT_NE(processes, nullptr);
  EXPECT_EQ(Lost(*processes), 0u) << processes->DebugString();
  std::map<int, int> exit_status;  // pid -> exit code, of finished lifetimes
  for (const auto& rec : records)
    if (rec.has_process() && rec.process().finished())
      exit_status[rec.process().pid()] = rec.process().exit_code();
  for (int pid : flooders) {
    SCOPED_TRACE(pid);
    ASSERT_TRUE(exit_status.count(pid)) << "its lifetime is written";
    EXPECT_EQ(exit_status[pid], 7);
  }
}

}  // namespace
}  // namespace probe
