// Hardening (issue "Hardening"): the real agent attached with --pid to
// thousands of threads, to a parent of thousands of short processes a
// second, to targets that exit while it attaches and to a pid reused by an
// unrelated process. Counts are checked against the workload's own (every
// traced call of task_churn is a zero-timeout poll), and the kernel's
// per-process tables must be empty once every target is gone.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "agent_test.h"
#include "counters_check.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::CountersOf;
using testing::ExpectBalanced;
using testing::ParseKeyValues;
using testing::ReadRecords;

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string ReadToEof(int fd) {
  std::string s;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    s.append(buf, size_t(n));
  }
  return s;
}

// One line from fd (the workload's "ready pid=P").
std::string ReadLine(int fd) {
  std::string s;
  char c;
  while (read(fd, &c, 1) == 1 && c != '\n') s += c;
  return s;
}

bool Exists(const std::string& path) { return access(path.c_str(), F_OK) == 0; }

size_t Lines(const std::string& s) {
  size_t n = 0;
  for (char c : s) n += c == '\n';
  return n;
}

// task_churn with its stdin and stdout on pipes.
struct Workload {
  pid_t pid = -1;
  int in = -1, out = -1;
};

Workload StartWorkload(const std::vector<std::string>& args) {
  int in[2], out[2];
  Workload w;
  if (pipe2(in, O_CLOEXEC) != 0 || pipe2(out, O_CLOEXEC) != 0) return w;
  w.pid = fork();
  if (w.pid == 0) {
    dup2(in[0], 0);
    dup2(out[1], 1);
    std::vector<char*> argv{const_cast<char*>(PROBE_TASK_CHURN)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(PROBE_TASK_CHURN, argv.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  w.in = in[1];
  w.out = out[0];
  return w;
}

pid_t StartAgent(const std::vector<std::string>& args, const std::string& err_file) {
  pid_t agent = fork();
  if (agent == 0) {
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 1);
    int e = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(e, 2);
    std::vector<char*> argv{const_cast<char*>(PROBE_AGENT)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(PROBE_AGENT, argv.data());
    _exit(127);
  }
  return agent;
}

// The agent's wait status, or -1 (and the agent killed) when it is still
// running after timeout_s.
int WaitAgent(pid_t agent, double timeout_s) {
  int st = 0;
  auto end = std::chrono::steady_clock::now() + std::chrono::duration<double>(timeout_s);
  while (std::chrono::steady_clock::now() < end) {
    if (waitpid(agent, &st, WNOHANG) == agent) return st;
    usleep(2000);
  }
  kill(agent, SIGKILL);
  waitpid(agent, &st, 0);
  return -1;
}

bool WaitForHeader(const std::string& file) {
  for (int i = 0; i < 1000; ++i) {
    if (!ReadRecords(file).empty()) return true;
    usleep(10000);
  }
  return false;
}

// The last (cumulative) syscall histogram per (pid, syscall).
std::map<std::pair<int, int>, uint64_t> HistogramCounts(const std::vector<v1::Record>& records) {
  std::map<std::pair<int, int>, uint64_t> out;
  for (const auto& r : records)
    if (r.has_syscall_histogram())
      out[{r.syscall_histogram().pid(), r.syscall_histogram().syscall()}] =
          r.syscall_histogram().count();
  return out;
}

// What every run that ended on its own must show: a trailer saying the
// targets exited, every counter balanced with nothing lost, and no entry
// left in the kernel's per-process tables.
void ExpectCleanEnd(const std::vector<v1::Record>& records) {
  ASSERT_FALSE(records.empty());
  ASSERT_TRUE(records.back().has_trailer());
  const v1::Trailer& t = records.back().trailer();
  EXPECT_EQ(t.stop_reason(), "targets exited");
  ASSERT_TRUE(t.has_kernel_tables());
  EXPECT_EQ(t.kernel_tables().targets(), 0u) << "target map entries leaked";
  EXPECT_EQ(t.kernel_tables().processes(), 0u) << "process table entries leaked";
  uint64_t syscalls = 0, processes = 0;
  for (const auto& r : records) {
    syscalls += r.has_syscall();
    processes += r.has_process();
  }
  for (const auto& c : t.counters()) {
    SCOPED_TRACE(v1::EventKind_Name(c.kind()));
    ExpectBalanced(c);
    EXPECT_EQ(testing::KernelLost(c), 0u);
    EXPECT_EQ(c.lost_histogram_full(), 0u);
    if (c.kind() == v1::EVENT_KIND_SYSCALL) {
      EXPECT_EQ(c.written(), syscalls);
    }
    if (c.kind() == v1::EVENT_KIND_PROCESS) {
      EXPECT_EQ(c.written(), processes);
    }
  }
}

class TaskChurnTest : public testing::AgentTest {
 protected:
  // Runs task_churn args (which must include --wait) with the agent
  // attached by --pid before it starts; returns its output.
  std::string RecordAttached(const std::vector<std::string>& args, double timeout_s) {
    Workload w = StartWorkload(args);
    EXPECT_GT(w.pid, 0);
    if (w.pid <= 0) return "";
    std::string ready = ReadLine(w.out);
    auto kv = ParseKeyValues(ready + "\n", "ready ");
    EXPECT_EQ(kv["pid"], std::to_string(w.pid)) << ready;
    // Losses would make the exact counts below unreachable: a ring that
    // holds the whole burst.
    pid_t agent = StartAgent({"--pid", std::to_string(w.pid), "-o", file_, "--ring-buffer", "32M"},
                             err_file());
    bool started = WaitForHeader(file_);
    EXPECT_EQ(write(w.in, "go\n", 3), 3);
    close(w.in);
    std::string out = ReadToEof(w.out);
    close(w.out);
    int wst = 0;
    waitpid(w.pid, &wst, 0);
    EXPECT_TRUE(WIFEXITED(wst) && WEXITSTATUS(wst) == 0) << "workload status " << wst;
    int st = WaitAgent(agent, timeout_s);
    const std::string err = Slurp(err_file());
    EXPECT_TRUE(started) << err;
    EXPECT_NE(st, -1) << "agent still running " << timeout_s << " s after its target: " << err;
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "agent status " << st << ": " << err;
    return out;
  }
  std::string err_file() const { return dir_ + "/agent.err"; }
};

// 2000 threads alive at once, 100 polls each: every call is in the file
// (records and the process's histogram), and nothing is left in the kernel.
TEST_F(TaskChurnTest, ThousandsOfThreads) {
  constexpr int kThreads = 2000, kCalls = 100;
  std::string out =
      RecordAttached({"threads", std::to_string(kThreads), std::to_string(kCalls), "--wait"}, 20);
  auto counts = ParseKeyValues(out, "churn ");
  ASSERT_FALSE(counts.empty()) << out;
  const int pid = std::stoi(counts["pid"]);
  const uint64_t total = std::stoull(counts["total"]);
  ASSERT_EQ(total, uint64_t(kThreads) * kCalls);
  std::cerr << "threads: " << kThreads << " threads, " << total << " calls in "
            << std::stoull(counts["elapsed_ns"]) / 1e6 << " ms\n";

  auto records = ReadRecords(file_);
  ExpectCleanEnd(records);
  std::map<int, uint64_t> per_thread;
  uint64_t polls = 0;
  for (const auto& r : records) {
    if (!r.has_syscall()) continue;
    EXPECT_EQ(r.syscall().pid(), pid);
    EXPECT_EQ(r.syscall().syscall(), v1::SYSCALL_POLL);
    ++polls;
    per_thread[r.syscall().tid()]++;
  }
  EXPECT_EQ(polls, total);
  EXPECT_EQ(per_thread.size(), size_t(kThreads)) << "every thread's calls, by its own tid";
  EXPECT_EQ(per_thread.count(pid), 0u) << "the main thread makes no traced call";
  for (const auto& [tid, n] : per_thread) EXPECT_EQ(n, uint64_t(kCalls)) << "thread " << tid;
  auto hist = HistogramCounts(records);
  EXPECT_EQ((hist[{pid, v1::SYSCALL_POLL}]), total);
  EXPECT_EQ(hist.size(), 1u);
  const v1::KindCounters* sys =
      CountersOf(records.back().trailer().counters(), v1::EVENT_KIND_SYSCALL);
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->produced(), total);
  bool exited = false;
  for (const auto& r : records)
    if (r.has_process() && r.process().pid() == pid) exited = r.process().finished();
  EXPECT_TRUE(exited) << "the target's exit is recorded";
}

// 5000 children forked as fast as the parent can (thousands a second), 10
// polls each, under --pid of the parent: each child has its lifetime record
// and exactly its calls, in records and in its own histogram.
TEST_F(TaskChurnTest, ThousandsOfShortProcessesPerSecond) {
  constexpr int kProcs = 5000, kCalls = 10;
  std::string out =
      RecordAttached({"procs", std::to_string(kProcs), std::to_string(kCalls), "--wait"}, 20);
  auto counts = ParseKeyValues(out, "churn ");
  ASSERT_FALSE(counts.empty()) << out;
  const int parent = std::stoi(counts["pid"]);
  const double per_s = std::stod(counts["per_s"]);
  std::cerr << "procs: " << kProcs << " processes at " << per_s << "/s traced\n";
  EXPECT_GE(per_s, 1000) << "thousands of processes a second";
  std::set<int> children;
  {
    auto at = out.find("children ");
    ASSERT_NE(at, std::string::npos) << out;
    std::istringstream in(out.substr(at + 9));
    int p;
    while (in >> p) children.insert(p);
  }
  ASSERT_EQ(children.size(), size_t(kProcs)) << "distinct pids";

  auto records = ReadRecords(file_);
  ExpectCleanEnd(records);
  std::set<int> recorded;
  std::map<int, uint64_t> calls;
  uint64_t total = 0;
  for (const auto& r : records) {
    if (r.has_process() && r.process().pid() != parent) {
      const auto& p = r.process();
      EXPECT_EQ(p.ppid(), parent) << p.pid();
      EXPECT_TRUE(p.finished()) << p.pid();
      EXPECT_EQ(p.exit_code(), 0) << p.pid();
      EXPECT_TRUE(recorded.insert(p.pid()).second) << "one lifetime record per child: " << p.pid();
    }
    if (r.has_syscall()) {
      EXPECT_EQ(r.syscall().syscall(), v1::SYSCALL_POLL);
      calls[r.syscall().pid()]++;
      ++total;
    }
  }
  EXPECT_EQ(recorded, children);
  EXPECT_EQ(total, uint64_t(kProcs) * kCalls);
  EXPECT_EQ(calls.count(parent), 0u);
  auto hist = HistogramCounts(records);
  size_t wrong = 0, wrong_hist = 0;
  for (int c : children) {
    wrong += calls[c] != uint64_t(kCalls);
    wrong_hist += hist[{c, v1::SYSCALL_POLL}] != uint64_t(kCalls);
  }
  EXPECT_EQ(wrong, 0u) << "children whose call records do not number " << kCalls;
  EXPECT_EQ(wrong_hist, 0u) << "children whose histogram does not count " << kCalls;
  const v1::KindCounters* sys =
      CountersOf(records.back().trailer().counters(), v1::EVENT_KIND_SYSCALL);
  ASSERT_NE(sys, nullptr);
  EXPECT_EQ(sys->produced(), uint64_t(kProcs) * kCalls);
}

}  // namespace
}  // namespace probe
