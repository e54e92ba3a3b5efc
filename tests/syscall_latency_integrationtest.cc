// Runs the real agent over eventfd_pingpong, which prints what it did, and
// checks the syscall records and histograms against that ground truth.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "agent_test.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::ReadRecords;
using testing::RunCommand;

constexpr int kDelayMs = 5;
constexpr int kIterations = 20;
constexpr int kChildWrites = 3;

// The workload's counts, from its "mode=..." line.
std::map<std::string, std::string> ParseCounts(const std::string& out) {
  return testing::ParseKeyValues(out, "mode=");
}

long Num(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? -1 : std::stol(it->second);
}

std::vector<v1::SyscallCall> Calls(const std::vector<v1::Record>& records) {
  std::vector<v1::SyscallCall> out;
  for (const auto& r : records)
    if (r.has_syscall()) out.push_back(r.syscall());
  return out;
}

// The workload's own clock just before and after each blocking wait, in
// order, from its "wait_clock_ns=BEFORE:AFTER,..." line.
std::vector<std::pair<uint64_t, uint64_t>> WaitClock(const std::map<std::string, std::string>& m) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  auto it = m.find("wait_clock_ns");
  if (it == m.end()) return out;
  std::istringstream items(it->second);
  std::string item;
  while (std::getline(items, item, ',')) {
    auto colon = item.find(':');
    if (colon == std::string::npos) return {};
    out.push_back({std::stoull(item.substr(0, colon)), std::stoull(item.substr(colon + 1))});
  }
  return out;
}

// The last (cumulative) histogram per (pid, syscall).
std::map<std::pair<int, int>, v1::SyscallHistogram> Histograms(
    const std::vector<v1::Record>& records) {
  std::map<std::pair<int, int>, v1::SyscallHistogram> out;
  for (const auto& r : records)
    if (r.has_syscall_histogram())
      out[{r.syscall_histogram().pid(), r.syscall_histogram().syscall()}] = r.syscall_histogram();
  return out;
}

const v1::KindCounters* SyscallCounters(const std::vector<v1::Record>& records) {
  if (records.empty() || !records.back().has_trailer()) return nullptr;
  for (const auto& c : records.back().trailer().counters())
    if (c.kind() == v1::EVENT_KIND_SYSCALL) return &c;
  return nullptr;
}

bool IsWait(v1::Syscall s) { return s >= v1::SYSCALL_SELECT && s <= v1::SYSCALL_EPOLL_PWAIT2; }

// The syscalls glibc may use for each mode; the record says which really ran.
std::set<v1::Syscall> WaitSyscalls(const std::string& mode) {
  if (mode == "select") return {v1::SYSCALL_SELECT, v1::SYSCALL_PSELECT6};
  if (mode == "poll") return {v1::SYSCALL_POLL, v1::SYSCALL_PPOLL};
  return {v1::SYSCALL_EPOLL_WAIT, v1::SYSCALL_EPOLL_PWAIT};
}

int CountOf(const std::vector<v1::SyscallCall>& calls, int pid, v1::Syscall s) {
  return static_cast<int>(std::count_if(calls.begin(), calls.end(), [&](const auto& c) {
    return c.pid() == pid && c.syscall() == s;
  }));
}

class SyscallLatencyTest : public testing::AgentTest {
 protected:
  // Runs eventfd_pingpong with workload_args under the agent; returns the
  // workload's counts.
  std::map<std::string, std::string> RecordWorkload(const std::vector<std::string>& agent_flags,
                                                    const std::vector<std::string>& workload_args) {
    std::vector<std::string> argv = {PROBE_AGENT, "-o", file_};
    argv.insert(argv.end(), agent_flags.begin(), agent_flags.end());
    argv.insert(argv.end(), {"--", PROBE_EVENTFD_PINGPONG});
    argv.insert(argv.end(), workload_args.begin(), workload_args.end());
    auto r = RunCommand(argv);
    EXPECT_EQ(r.exit_status, 0) << r.err;
    auto counts = ParseCounts(r.out);
    EXPECT_FALSE(counts.empty()) << "workload printed no counts: " << r.out << r.err;
    counts.merge(testing::ParseKeyValues(r.out, "wait_clock_ns="));
    return counts;
  }

  // The standard run: D ms, N iterations, a forked child writing K times.
  // "MODE+compat": the agent loads its programs as for a kernel before 6.17
  // (PROBE_BPF_COMPAT=1), whose verifier refuses untyped views of kernel
  // memory; what it records must be the same.
  std::map<std::string, std::string> Record(std::string mode,
                                            const std::vector<std::string>& agent_flags = {}) {
    const std::string compat = "+compat";
    const bool older = mode.ends_with(compat);
    if (older) {
      mode.resize(mode.size() - compat.size());
      setenv("PROBE_BPF_COMPAT", "1", 1);
    }
    auto counts =
        RecordWorkload(agent_flags, {mode, std::to_string(kDelayMs), std::to_string(kIterations),
                                     "--fork", std::to_string(kChildWrites)});
    if (older) unsetenv("PROBE_BPF_COMPAT");
    return counts;
  }
};

class WaitModeTest : public SyscallLatencyTest,
                     public ::testing::WithParamInterface<const char*> {};

TEST_P(WaitModeTest, WaitsAndEventfdOperationsMatchTheWorkload) {
  const std::string param = GetParam();
  const std::string mode = param.substr(0, param.find('+'));  // the wait call
  auto counts = Record(param);
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  ASSERT_TRUE(records.back().has_trailer());
  // The workload's own pid is the launched process: the header names it.
  ASSERT_EQ(records.front().header().target_pids_size(), 1);
  const int pid = records.front().header().target_pids(0);
  const int child = static_cast<int>(Num(counts, "child_pid"));
  const int efd = static_cast<int>(Num(counts, "eventfd"));
  auto calls = Calls(records);

  // Blocking waits of thread B (the main thread): D ms each, within 10%.
  auto wait_kinds = WaitSyscalls(mode);
  int blocking = 0, zero_timeout = 0;
  std::vector<double> wait_ms;
  std::vector<std::pair<uint64_t, uint64_t>> recorded;  // entry, return
  for (const auto& c : calls) {
    if (!IsWait(c.syscall())) continue;
    EXPECT_TRUE(wait_kinds.count(c.syscall())) << mode << " recorded as " << c.syscall();
    EXPECT_EQ(c.pid(), pid);
    EXPECT_EQ(c.tid(), pid) << "waits are made by the main thread";
    EXPECT_EQ(c.nfds(), mode == "select" ? uint32_t(efd + 1) : 1u);
    if (c.has_timeout()) {
      ++zero_timeout;
      EXPECT_EQ(c.timeout_ns(), 0);
      EXPECT_TRUE(c.timed_out()) << "a zero-timeout wait with nothing ready expires";
      EXPECT_EQ(c.ret(), 0);
      continue;
    }
    ++blocking;
    EXPECT_FALSE(c.timed_out());
    EXPECT_EQ(c.ret(), 1);
    wait_ms.push_back(c.duration_ns() / 1e6);
    recorded.push_back({c.start_time_ns(), c.start_time_ns() + c.duration_ns()});
  }
  EXPECT_EQ(blocking, Num(counts, "waits"));
  // Each wait lasts about D: the median within 10% of it. (Single waits
  // vary with the machine: one that starts late, because the waiter was
  // preempted after it woke the writer, is shorter, 2 ms of 5 seen here.)
  ASSERT_FALSE(wait_ms.empty());
  std::string all;
  for (double ms : wait_ms) all += std::to_string(ms) + " ";
  std::vector<double> sorted = wait_ms;
  std::sort(sorted.begin(), sorted.end());
  EXPECT_NEAR(sorted[sorted.size() / 2], kDelayMs, kDelayMs * 0.1) << all;
  // How late a wakeup runs is this machine's timer latency, not ours; what is
  // ours is that each recorded wait is the call the workload timed: inside
  // its own clock readings around the call, and for nearly all of them
  // within 0.5 ms (10% of D) of the time the workload measured.
  auto clock = WaitClock(counts);
  ASSERT_EQ(clock.size(), recorded.size()) << "one bracket per blocking wait";
  std::sort(recorded.begin(), recorded.end());
  int close = 0;
  for (size_t i = 0; i < recorded.size(); ++i) {
    EXPECT_LE(clock[i].first, recorded[i].first) << "wait " << i << " entered before its clock";
    EXPECT_LE(recorded[i].second, clock[i].second) << "wait " << i << " returned after its clock";
    const uint64_t own = clock[i].second - clock[i].first;
    const uint64_t ours = recorded[i].second - recorded[i].first;
    if (ours <= own && own - ours <= kDelayMs * 100000ull) ++close;
  }
  EXPECT_GE(close * 10, static_cast<int>(recorded.size()) * 9) << all;
  EXPECT_EQ(zero_timeout, Num(counts, "zero_timeout_waits"));

  // eventfd reads and writes: counts, fds and the values moved. The same
  // eventfd is also used through a dup'd fd and one received over a socket.
  const int dup_fd = static_cast<int>(Num(counts, "dup_fd"));
  const int passed_fd = static_cast<int>(Num(counts, "passed_fd"));
  uint64_t read_sum = 0, written_sum = 0;
  int reads = 0, writes = 0, child_writes = 0;
  std::set<uint64_t> written_values;
  std::map<int, std::vector<std::pair<v1::Syscall, uint64_t>>> by_other_fd;
  for (const auto& c : calls) {
    if (c.syscall() != v1::SYSCALL_READ && c.syscall() != v1::SYSCALL_WRITE) continue;
    EXPECT_NE(c.fd(), static_cast<int>(Num(counts, "pipe_read"))) << "a pipe is not an eventfd";
    EXPECT_NE(c.fd(), static_cast<int>(Num(counts, "pipe_write"))) << "a pipe is not an eventfd";
    EXPECT_EQ(c.ret(), 8);
    EXPECT_TRUE(c.has_value());
    if (c.fd() == dup_fd || c.fd() == passed_fd) {
      by_other_fd[c.fd()].push_back({c.syscall(), c.value()});
      continue;
    }
    EXPECT_EQ(c.fd(), efd);
    if (c.syscall() == v1::SYSCALL_READ && c.pid() == pid) {
      ++reads;
      read_sum += c.value();
    }
    if (c.syscall() == v1::SYSCALL_WRITE && c.pid() == pid) {
      ++writes;
      EXPECT_NE(c.tid(), pid) << "writes come from thread A";
      written_sum += c.value();
      written_values.insert(c.value());
    }
    if (c.syscall() == v1::SYSCALL_WRITE && c.pid() == child) {
      ++child_writes;
      EXPECT_EQ(c.value(), 5u);
    }
  }
  using Ops = std::vector<std::pair<v1::Syscall, uint64_t>>;
  EXPECT_EQ(by_other_fd[dup_fd], (Ops{{v1::SYSCALL_WRITE, 11}}));
  EXPECT_EQ(by_other_fd[passed_fd], (Ops{{v1::SYSCALL_WRITE, 13}, {v1::SYSCALL_READ, 24}}));
  EXPECT_EQ(reads, Num(counts, "reads"));
  EXPECT_EQ(writes, Num(counts, "writes"));
  EXPECT_EQ(child_writes, Num(counts, "child_writes")) << "inherited eventfd in a forked child";
  EXPECT_EQ(written_sum, uint64_t(Num(counts, "written_sum")));
  EXPECT_EQ(read_sum, uint64_t(Num(counts, "read_sum")));
  EXPECT_EQ(written_values.size(), size_t(kIterations));
  EXPECT_EQ(*written_values.begin(), 1000u);

  // readv/writev on the eventfd, the 8 bytes through the first iovec.
  for (auto s : {v1::SYSCALL_READV, v1::SYSCALL_WRITEV}) {
    ASSERT_EQ(CountOf(calls, pid, s), 1) << s;
    for (const auto& c : calls)
      if (c.syscall() == s) {
        EXPECT_EQ(c.value(), uint64_t(Num(counts, "vec_value")));
      }
  }
  // eventfd(0, EFD_CLOEXEC) enters as eventfd2 and returns the fd.
  ASSERT_EQ(CountOf(calls, pid, v1::SYSCALL_EVENTFD2), 1);
  for (const auto& c : calls) {
    if (c.syscall() != v1::SYSCALL_EVENTFD2) continue;
    EXPECT_EQ(c.ret(), efd);
    EXPECT_EQ(c.fd(), efd);
    EXPECT_EQ(c.eventfd_flags(), unsigned(EFD_CLOEXEC));
    EXPECT_EQ(c.value(), 0u);
  }

  // Nothing filtered: the histograms count exactly the per-call records.
  auto hists = Histograms(records);
  std::map<std::pair<int, int>, uint64_t> per_key;
  for (const auto& c : calls) per_key[{c.pid(), c.syscall()}]++;
  EXPECT_EQ(hists.size(), per_key.size());
  for (const auto& [key, n] : per_key) {
    ASSERT_TRUE(hists.count(key)) << "no histogram for pid " << key.first << " " << key.second;
    const auto& h = hists[key];
    EXPECT_EQ(h.count(), n);
    uint64_t bucket_total = 0;
    for (uint64_t b : h.log2_buckets()) bucket_total += b;
    EXPECT_EQ(bucket_total, n);
    EXPECT_LE(h.min_ns(), h.max_ns());
  }
  const auto* k = SyscallCounters(records);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->produced(), calls.size());
  EXPECT_EQ(k->written(), calls.size());
  EXPECT_EQ(k->lost_ring_full() + k->lost_table_full() + k->sampled_out(), 0u);
}

TEST_P(WaitModeTest, EachBlockedWaitSaysWhoWokeItAndWhereTheTimeWent) {
  const std::string param = GetParam();
  const std::string mode = param.substr(0, param.find('+'));  // the wait call
  auto counts = Record(param);
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  const int pid = records.front().header().target_pids(0);
  const int efd = static_cast<int>(Num(counts, "eventfd"));
  auto calls = Calls(records);
  int writer_tid = 0;
  for (const auto& c : calls)
    if (c.syscall() == v1::SYSCALL_WRITE && c.pid() == pid && c.fd() == efd) writer_tid = c.tid();
  ASSERT_NE(writer_tid, 0);
  int breakdowns = 0;
  std::vector<double> blocked_ms;
  for (const auto& c : calls) {
    if (!IsWait(c.syscall()) || c.has_timeout()) continue;
    ASSERT_TRUE(c.has_breakdown()) << "a 5 ms wait blocks";
    const auto& b = c.breakdown();
    ++breakdowns;
    EXPECT_TRUE(b.woken());
    EXPECT_EQ(b.waker().pid(), pid);
    EXPECT_EQ(b.waker().tid(), writer_tid) << "thread A's write woke it";
    EXPECT_EQ(b.waker().syscall_nr(), 1) << "write";
    EXPECT_EQ(b.waker().fd(), efd);
    EXPECT_EQ(b.to_block_ns() + b.blocked_ns() + b.run_queue_ns() + b.return_ns(), c.duration_ns())
        << "the parts add up when it blocked once";
    EXPECT_EQ(b.total_blocked_ns(), 0u) << "blocked once: absent, the same as blocked_ns";
    blocked_ms.push_back(b.blocked_ns() / 1e6);
  }
  EXPECT_EQ(breakdowns, Num(counts, "waits"));
  std::sort(blocked_ms.begin(), blocked_ms.end());
  ASSERT_FALSE(blocked_ms.empty());
  EXPECT_NEAR(blocked_ms[blocked_ms.size() / 2], kDelayMs, kDelayMs * 0.1);
  // The zero-timeout wait never blocked: no breakdown.
  for (const auto& c : calls)
    if (IsWait(c.syscall()) && c.has_timeout()) {
      EXPECT_FALSE(c.has_breakdown());
    }
}

INSTANTIATE_TEST_SUITE_P(Modes, WaitModeTest, ::testing::Values("select", "poll", "epoll"));
INSTANTIATE_TEST_SUITE_P(OlderKernelLoads, WaitModeTest, ::testing::Values("select+compat"));

TEST_F(SyscallLatencyTest, MinLatencyThinsRecordsButHistogramsStayExact) {
  auto counts = Record("select", {"--min-latency", "1ms"});
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  const int pid = records.front().header().target_pids(0);
  EXPECT_EQ(records.front().header().min_latency_ns(), 1000000u);
  auto calls = Calls(records);
  for (const auto& c : calls) EXPECT_GE(c.duration_ns(), 1000000u);
  // Only the blocking waits last that long.
  EXPECT_EQ(static_cast<long>(calls.size()), Num(counts, "waits"));

  auto hists = Histograms(records);
  auto count_of = [&](int p, v1::Syscall s) {
    auto it = hists.find({p, s});
    return it == hists.end() ? -1l : static_cast<long>(it->second.count());
  };
  EXPECT_EQ(count_of(pid, v1::SYSCALL_READ), Num(counts, "reads") + Num(counts, "other_fd_reads"));
  EXPECT_EQ(count_of(pid, v1::SYSCALL_WRITE),
            Num(counts, "writes") + Num(counts, "other_fd_writes"));
  EXPECT_EQ(count_of(static_cast<int>(Num(counts, "child_pid")), v1::SYSCALL_WRITE),
            Num(counts, "child_writes"));
  long waits = 0, timeouts = 0;
  for (const auto& [key, h] : hists) {
    if (!IsWait(static_cast<v1::Syscall>(key.second))) continue;
    waits += static_cast<long>(h.count());
    timeouts += static_cast<long>(h.timeouts());
  }
  EXPECT_EQ(waits, Num(counts, "waits") + Num(counts, "zero_timeout_waits"));
  EXPECT_EQ(timeouts, Num(counts, "zero_timeout_waits"));

  const auto* k = SyscallCounters(records);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->written(), calls.size());
  EXPECT_GT(k->sampled_out(), 0u);
  EXPECT_EQ(k->produced(), k->written() + k->sampled_out());
}

TEST_F(SyscallLatencyTest, EventfdCreatedBeforeAttachIsRecognised) {
  const std::string start = dir_ + "/go";
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t w = fork();
  if (w == 0) {
    dup2(out[1], STDOUT_FILENO);
    close(out[0]);
    execl(PROBE_EVENTFD_PINGPONG, PROBE_EVENTFD_PINGPONG, "epoll", "2", "10", "--start-file",
          start.c_str(), nullptr);
    _exit(127);
  }
  close(out[1]);
  FILE* wout = fdopen(out[0], "r");
  char line[256] = {};
  ASSERT_NE(fgets(line, sizeof(line), wout), nullptr);
  ASSERT_EQ(std::string(line).rfind("ready", 0), 0u) << line;

  pid_t agent = fork();
  if (agent == 0) {
    execl(PROBE_AGENT, PROBE_AGENT, "--pid", std::to_string(w).c_str(), "-o", file_.c_str(),
          nullptr);
    _exit(127);
  }
  for (int i = 0; i < 200 && ReadRecords(file_).empty(); ++i) usleep(10000);
  ASSERT_FALSE(ReadRecords(file_).empty()) << "agent did not start";
  std::ofstream(start).put('x');
  std::string rest;
  while (fgets(line, sizeof(line), wout)) rest += line;
  fclose(wout);
  int st;
  waitpid(w, &st, 0);
  waitpid(agent, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);

  auto counts = ParseCounts(rest);
  auto calls = Calls(ReadRecords(file_));
  EXPECT_EQ(CountOf(calls, w, v1::SYSCALL_EVENTFD2), 0) << "created before the agent attached";
  EXPECT_EQ(CountOf(calls, w, v1::SYSCALL_READ),
            Num(counts, "reads") + Num(counts, "other_fd_reads"));
  EXPECT_EQ(CountOf(calls, w, v1::SYSCALL_WRITE),
            Num(counts, "writes") + Num(counts, "other_fd_writes"));
  EXPECT_EQ(CountOf(calls, w, v1::SYSCALL_EPOLL_WAIT) + CountOf(calls, w, v1::SYSCALL_EPOLL_PWAIT),
            Num(counts, "waits") + 1);
}

TEST_F(SyscallLatencyTest, UntargetedProcessesProduceNothing) {
  pid_t bystander = fork();
  if (bystander == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, STDOUT_FILENO);
    execl(PROBE_EVENTFD_PINGPONG, PROBE_EVENTFD_PINGPONG, "poll", "1", "50", nullptr);
    _exit(127);
  }
  Record("poll");
  waitpid(bystander, nullptr, 0);
  auto records = ReadRecords(file_);
  for (const auto& c : Calls(records)) EXPECT_NE(c.pid(), bystander);
  for (const auto& [key, h] : Histograms(records)) EXPECT_NE(key.first, bystander);
}

TEST_F(SyscallLatencyTest, AllTracesOthersButNotTheAgent) {
  pid_t agent = fork();
  if (agent == 0) {
    execl(PROBE_AGENT, PROBE_AGENT, "--all", "-d", "1.5", "-o", file_.c_str(), nullptr);
    _exit(127);
  }
  for (int i = 0; i < 200 && ReadRecords(file_).empty(); ++i) usleep(10000);
  auto r = RunCommand({PROBE_EVENTFD_PINGPONG, "epoll", "2", "20"});
  ASSERT_EQ(r.exit_status, 0);
  int st;
  waitpid(agent, &st, 0);
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  const int agent_pid = records.front().header().agent_pid();
  EXPECT_EQ(agent_pid, agent);
  int waits = 0;
  for (const auto& c : Calls(records)) {
    EXPECT_NE(c.pid(), agent_pid) << "the agent's own epoll_wait is not traced";
    if (c.syscall() == v1::SYSCALL_EPOLL_WAIT || c.syscall() == v1::SYSCALL_EPOLL_PWAIT)
      waits += c.nfds() == 1;
  }
  EXPECT_GE(waits, 21) << "the unrelated workload's waits are";
}

TEST_F(SyscallLatencyTest, EventsChoosesTheFamilies) {
  Record("select", {"--events", "process"});
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.front().header().events_size(), 1);
  EXPECT_TRUE(Calls(records).empty());
  EXPECT_TRUE(Histograms(records).empty());
  int processes = 0;
  for (const auto& r : records) processes += r.has_process();
  EXPECT_EQ(processes, 2);  // the workload and its forked child

  unlink(file_.c_str());
  Record("select", {"--events", "syscalls"});
  records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  ASSERT_EQ(records.front().header().events_size(), 1);
  EXPECT_EQ(records.front().header().events(0), "syscalls");
  EXPECT_FALSE(Calls(records).empty());
  for (const auto& r : records) EXPECT_FALSE(r.has_process());
  ASSERT_TRUE(records.back().has_trailer());
  EXPECT_EQ(records.back().trailer().stop_reason(), "targets exited");
}

TEST_F(SyscallLatencyTest, HistogramsAreWrittenPeriodicallyAndCumulatively) {
  auto counts = RecordWorkload({"--histogram-interval", "200ms"}, {"select", "20", "40"});
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  const int pid = records.front().header().target_pids(0);
  std::vector<uint64_t> read_counts;
  for (const auto& rec : records) {
    if (rec.has_syscall_histogram() && rec.syscall_histogram().pid() == pid &&
        rec.syscall_histogram().syscall() == v1::SYSCALL_READ)
      read_counts.push_back(rec.syscall_histogram().count());
  }
  // 800 ms of reads, a histogram every 200 ms while they change.
  ASSERT_GE(read_counts.size(), 3u);
  EXPECT_TRUE(std::is_sorted(read_counts.begin(), read_counts.end()));
  EXPECT_EQ(static_cast<long>(read_counts.back()),
            Num(counts, "reads") + Num(counts, "other_fd_reads"));
}

TEST_F(SyscallLatencyTest, SmallRingIsDrainedOnWakeupWithoutLoss) {
  // ~30k records of 64 bytes in about a second through a 64 KiB ring: the
  // 100 ms timer alone would overflow it; the kernel's wakeup at a quarter
  // full must get them all out.
  auto counts = RecordWorkload({"--ring-buffer", "64K"}, {"select", "0", "10000"});
  auto records = ReadRecords(file_);
  const auto* k = SyscallCounters(records);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->lost_ring_full(), 0u);
  EXPECT_EQ(static_cast<long>(k->written()), 3 * Num(counts, "waits") + 4 + 3)
      << "waits, reads, writes; a zero-timeout wait, readv, writev, eventfd2; 3 on other fds";
  EXPECT_EQ(k->produced(), k->written());
}

// A call's record waits in its CPU's batch until the batch fills or the
// agent flushes it (bpf/record_batch.bpf.h). Python makes 20 eventfd round
// trips, 40 records, too few to fill a batch, then sleeps 5 s: the records
// must reach the file while it sleeps (the agent flushes every CPU every
// 50 ms and writes its file each second), and be there once, not again at
// stop.
TEST_F(SyscallLatencyTest, CallsOfATargetThatGoesQuietReachTheFileWhileItSleeps) {
  pid_t agent = fork();
  if (agent == 0) {
    execl(PROBE_AGENT, PROBE_AGENT, "-o", file_.c_str(), "--events", "process,syscalls", "--",
          "/usr/bin/python3", "-c",
          "import os, time\n"
          "fd = os.eventfd(0)\n"
          "for _ in range(20):\n"
          "    os.eventfd_write(fd, 1)\n"
          "    os.eventfd_read(fd)\n"
          "time.sleep(5)\n",
          nullptr);
    _exit(127);
  }
  auto eventfd_calls = [](const std::vector<v1::Record>& records) {
    int pid = -1;
    for (const auto& r : records)
      if (r.has_header() && r.header().target_pids_size() == 1) pid = r.header().target_pids(0);
    int n = 0;
    for (const auto& c : Calls(records))
      if (c.pid() == pid && (c.syscall() == v1::SYSCALL_READ || c.syscall() == v1::SYSCALL_WRITE))
        ++n;
    return n;
  };
  int seen = 0;
  for (int i = 0; i < 40 && seen < 40; ++i) {  // up to 4 s of the 5 s sleep
    usleep(100000);
    seen = eventfd_calls(ReadRecords(file_));
  }
  EXPECT_EQ(seen, 40) << "the calls reach the file while the target sleeps";
  int st;
  ASSERT_EQ(waitpid(agent, &st, 0), agent);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  EXPECT_EQ(eventfd_calls(ReadRecords(file_)), 40) << "each once, the final flush adds none";
}

// A thread's records reach the file in the order it made them, though they
// wait in per-CPU batches: Python moves itself between the two CPUs every
// 10 eventfd round trips (sched_setaffinity), 6,000 calls in all. Each
// batch must be handed on when the thread leaves its CPU, by on_switch with
// the scheduler programs and by on_switch_flush without them; else records
// of the earlier CPU come after later ones (the report's shim matching
// relies on this order, and so does anyone reading a thread's calls).
TEST_F(SyscallLatencyTest, AThreadMovingBetweenCpusHasItsRecordsInItsOrder) {
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) GTEST_SKIP() << "needs two CPUs";
  for (const char* events : {"process,syscalls", "process,syscalls,wakeups"}) {
    SCOPED_TRACE(events);
    unlink(file_.c_str());
    auto r =
        RunCommand({PROBE_AGENT, "-o", file_, "--events", events, "--", "/usr/bin/python3", "-c",
                    "import os\n"
                    "fd = os.eventfd(0)\n"
                    "for i in range(3000):\n"
                    "    if i % 10 == 0: os.sched_setaffinity(0, {i // 10 % 2})\n"
                    "    os.eventfd_write(fd, 1)\n"
                    "    os.eventfd_read(fd)\n"});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    const auto records = ReadRecords(file_);
    ASSERT_FALSE(records.empty());
    const int pid = records.front().header().target_pids(0);
    uint64_t last = 0, calls = 0, reversals = 0;
    for (const auto& c : Calls(records)) {
      if (c.pid() != pid) continue;
      ++calls;
      if (c.start_time_ns() < last) ++reversals;
      last = c.start_time_ns();
    }
    EXPECT_EQ(calls, 6001u) << "3,000 writes and reads, one eventfd()";
    EXPECT_EQ(reversals, 0u) << "records of the thread out of its order";
  }
}

TEST_F(SyscallLatencyTest, ThreadKilledMidWaitIsRecordedAndBalanced) {
  // A process blocked in select() for 10 s is SIGKILLed after ~300 ms: the
  // call ends with the kernel's restart code and the counters still balance.
  pid_t agent = fork();
  if (agent == 0) {
    execl(PROBE_AGENT, PROBE_AGENT, "-o", file_.c_str(), "--", "/usr/bin/python3", "-c",
          "import select, os; print(os.getpid(), flush=True); select.select([], [], [], 10)",
          nullptr);
    _exit(127);
  }
  int victim = -1;
  for (int i = 0; i < 300 && victim < 0; ++i) {
    usleep(10000);
    for (const auto& r : ReadRecords(file_))
      if (r.has_header() && r.header().target_pids_size() == 1) victim = r.header().target_pids(0);
  }
  ASSERT_GT(victim, 0) << "agent did not start";
  usleep(300000);
  kill(victim, SIGKILL);
  int st;
  waitpid(agent, &st, 0);
  EXPECT_TRUE(WIFEXITED(st)) << "agent exits with the killed child's status";
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  ASSERT_TRUE(records.back().has_trailer());
  bool found = false;
  for (const auto& c : Calls(records)) {
    if (c.pid() != victim || !IsWait(c.syscall()) || c.timeout_ns() != 10'000'000'000) continue;
    found = true;
    EXPECT_LT(c.ret(), 0);
    EXPECT_TRUE(c.interrupted()) << "ret " << c.ret() << " is a kernel restart code";
    EXPECT_FALSE(c.timed_out());
    EXPECT_GT(c.duration_ns(), 200'000'000u);
    EXPECT_LT(c.duration_ns(), 5'000'000'000u);
  }
  EXPECT_TRUE(found) << "the interrupted 10 s select is recorded";
  const auto* k = SyscallCounters(records);
  ASSERT_NE(k, nullptr);
  EXPECT_EQ(k->produced(),
            k->written() + k->sampled_out() + k->lost_ring_full() + k->lost_table_full());
}

}  // namespace
}  // namespace probe
