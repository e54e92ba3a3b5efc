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

#include <atomic>
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
using testing::ReadToEof;
using testing::Slurp;

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
// targets exited, every counter balanced (with nothing lost when lossless),
// and no entry left in the kernel's per-process tables.
void ExpectCleanEnd(const std::vector<v1::Record>& records, bool lossless = true) {
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
    if (lossless) {
      EXPECT_EQ(testing::KernelLost(c), 0u);
    }
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
  void ShortProcesses(int procs);
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

// kProcs children forked as fast as the parent can (thousands a second),
// 10 polls each, under --pid of the parent: each child has its lifetime
// record and exactly its calls, in records and in its own histogram.
void TaskChurnTest::ShortProcesses(int kProcs) {
  constexpr int kCalls = 10;
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

TEST_F(TaskChurnTest, ThousandsOfShortProcessesPerSecond) { ShortProcesses(5000); }

// Sustained: 20000 children in about 2 s, more than there are syscall
// histogram slots (16384, one per child here). Every exit must free its slot
// before they run out, not at the next --histogram-interval (5 s), and a
// reused slot must start from zero: each child's histogram counts exactly its
// 10 calls. (20000 stays clear of pid_max, 32768, so every child's pid is
// its own.)
TEST_F(TaskChurnTest, SustainedChurnFreesHistogramEntriesAsProcessesExit) { ShortProcesses(20000); }

// Targets that end at every point of the agent's start-up (some before it
// looks, some while it loads and attaches, some after), each reaped at once
// so its pid is really free; half of them parents forking a child every
// millisecond. The agent never crashes or hangs: it says in one line that
// the process is gone, exit 1, no file; or it records the run, exit 0, with
// a clean end and records of the target and its children only.
TEST_F(TaskChurnTest, TargetExitsDuringAttach) {
  const int kDelaysMs[] = {0,   0,   1,   2,   5,   10,  20,  40,  60, 80,  100, 120,
                           140, 160, 180, 200, 230, 260, 300, 400, 3,  150, 600, 1000};
  int no_process = 0, gone_at_attach = 0, recorded = 0;
  for (size_t i = 0; i < std::size(kDelaysMs); ++i) {
    const int d = kDelaysMs[i];
    const bool forks = i % 2 == 1;
    SCOPED_TRACE("iteration " + std::to_string(i) + ", target lives " + std::to_string(d) + " ms" +
                 (forks ? ", forking" : ""));
    const std::string file = dir_ + "/run" + std::to_string(i) + ".ptrace";
    Workload w = forks ? StartWorkload({"procs", std::to_string(d), "3", "--rate", "1000"})
                       : StartWorkload({"poll-for", std::to_string(d)});
    ASSERT_GT(w.pid, 0);
    close(w.in);
    std::string out;
    int wst = 0;
    std::thread reaper([&] {
      out = ReadToEof(w.out);
      waitpid(w.pid, &wst, 0);
    });
    pid_t agent = StartAgent({"--pid", std::to_string(w.pid), "-o", file}, err_file());
    int st = WaitAgent(agent, 10);
    reaper.join();
    close(w.out);
    const std::string err = Slurp(err_file());
    ASSERT_NE(st, -1) << "agent hung: " << err;
    ASSERT_TRUE(WIFEXITED(st)) << "agent status " << st << ": " << err;
    EXPECT_TRUE(WIFEXITED(wst) && WEXITSTATUS(wst) == 0) << out;
    const std::string pid = std::to_string(w.pid);
    if (WEXITSTATUS(st) == 1) {
      if (err == "probe-agent: no process with pid " + pid + "\n") {
        ++no_process;
      } else {
        EXPECT_EQ(err, "probe-agent: process " + pid + " exited before tracing started\n");
        ++gone_at_attach;
      }
      EXPECT_FALSE(Exists(file)) << "no file from a run that recorded nothing";
      continue;
    }
    ASSERT_EQ(WEXITSTATUS(st), 0) << err;
    ++recorded;
    auto records = ReadRecords(file);
    // poll-for makes millions of calls a second: the default ring may fill.
    ExpectCleanEnd(records, /*lossless=*/false);
    std::set<int> mine{w.pid};
    auto at = out.find("children ");
    if (at != std::string::npos) {
      std::istringstream in(out.substr(at + 9));
      int p;
      while (in >> p) mine.insert(p);
    }
    for (const auto& r : records) {
      if (r.has_syscall()) {
        EXPECT_TRUE(mine.count(r.syscall().pid())) << "traced a stranger: " << r.DebugString();
      }
      if (r.has_process()) {
        EXPECT_TRUE(mine.count(r.process().pid())) << "traced a stranger: " << r.DebugString();
      }
    }
  }
  std::cerr << "exits during attach: " << no_process << " gone before the agent looked, "
            << gone_at_attach << " gone by attach, " << recorded << " recorded\n";
  EXPECT_GT(recorded, 0) << "the long-lived targets are recorded";
  EXPECT_GT(no_process + gone_at_attach, 0) << "the short-lived ones are not";
}

// A thread id given as --pid: targets are processes, and an entry for a
// thread would never match nor leave the map (the agent waited forever).
TEST_F(TaskChurnTest, ThreadIdIsRefused) {
  std::atomic<pid_t> tid{0};
  std::atomic<bool> done{false};
  std::thread t([&] {
    tid = gettid();
    while (!done) usleep(1000);
  });
  while (tid == 0) usleep(1000);
  pid_t agent = StartAgent({"--pid", std::to_string(tid.load()), "-o", file_}, err_file());
  int st = WaitAgent(agent, 10);
  done = true;
  t.join();
  const std::string err = Slurp(err_file());
  ASSERT_NE(st, -1) << "agent hung: " << err;
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1) << st;
  EXPECT_EQ(err, "probe-agent: pid " + std::to_string(tid.load()) + " is a thread of process " +
                     std::to_string(getpid()) + ", not a process: give --pid " +
                     std::to_string(getpid()) + "\n");
  EXPECT_FALSE(Exists(file_));
}

// True once the agent has made its output file: it has looked at its
// --pid targets then, and has not yet attached (no header).
bool AgentPastPidCheck(const std::string& file) { return Exists(file); }

// The pid of a process made to take the number pid: ns_last_pid set to
// pid - 1, then a fork. Another process on the machine can take it first:
// then the pid it got, which is not pid. The pid cursor is put back right
// after, or every fork on the machine would reuse the pids of processes
// that just exited (tests running alongside count on distinct pids).
pid_t ForkOnto(pid_t pid, const std::vector<std::string>& args) {
  const char* kLastPid = "/proc/sys/kernel/ns_last_pid";
  long cursor = 0;
  std::ifstream(kLastPid) >> cursor;
  std::ofstream(kLastPid) << pid - 1 << std::flush;
  pid_t c = fork();
  if (c > 0 && cursor > c) std::ofstream(kLastPid) << cursor << std::flush;
  if (c == 0) {
    int devnull = open("/dev/null", O_RDWR);
    dup2(devnull, 0);
    dup2(devnull, 1);
    std::vector<char*> argv{const_cast<char*>(PROBE_TASK_CHURN)};
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    execv(PROBE_TASK_CHURN, argv.data());
    _exit(127);
  }
  return c;
}

class PidReuseTest : public TaskChurnTest {
 protected:
  // --pid T (and --pid V, 4 threads making 20000 calls, when with_survivor): T is
  // killed and reaped after the agent looked at it but before it attached, and its pid
  // goes to U, an unrelated process making traced calls for 1.5 s. U must
  // not be traced. Returns false when the timing could not be arranged.
  bool Run(bool with_survivor) {
    Workload t = StartWorkload({"poll-for", "1", "--wait"});
    Workload v;
    if (with_survivor) v = StartWorkload({"threads", "4", "5000", "--wait"});
    ReadLine(t.out);
    if (with_survivor) ReadLine(v.out);
    std::vector<std::string> args = {"--pid", std::to_string(t.pid), "-o",
                                     file_,   "--ring-buffer",       "32M"};
    if (with_survivor) args.insert(args.end(), {"--pid", std::to_string(v.pid)});
    unlink(file_.c_str());
    pid_t agent = StartAgent(args, err_file());
    for (int i = 0; i < 5000 && !AgentPastPidCheck(file_); ++i) usleep(200);
    bool early = AgentPastPidCheck(file_) && ReadRecords(file_).empty();
    kill(t.pid, SIGKILL);
    waitpid(t.pid, nullptr, 0);
    close(t.in);
    close(t.out);
    pid_t u = early ? ForkOnto(t.pid, {"poll-for", "1500"}) : -1;
    bool arranged = early && u == t.pid && ReadRecords(file_).empty();
    if (!arranged) {
      std::cerr << "pid reuse not arranged (early " << early << ", u " << u << " for " << t.pid
                << "): again\n";
      kill(agent, SIGKILL);
      waitpid(agent, nullptr, 0);
      if (u > 0) {
        kill(u, SIGKILL);
        waitpid(u, nullptr, 0);
      }
      if (with_survivor) {
        kill(v.pid, SIGKILL);
        waitpid(v.pid, nullptr, 0);
        close(v.in);
        close(v.out);
      }
      return false;
    }
    std::string v_out;
    if (with_survivor) {
      EXPECT_TRUE(WaitForHeader(file_));
      EXPECT_EQ(write(v.in, "go\n", 3), 3);
      close(v.in);
      v_out = ReadToEof(v.out);
      close(v.out);
      waitpid(v.pid, nullptr, 0);
    }
    int st = WaitAgent(agent, 10);
    int ust = 0;
    waitpid(u, &ust, 0);
    EXPECT_TRUE(WIFEXITED(ust) && WEXITSTATUS(ust) == 0) << "U status " << ust;
    const std::string err = Slurp(err_file());
    const std::string gone = "process " + std::to_string(t.pid) + " exited before tracing started";
    EXPECT_NE(st, -1) << err;
    std::vector<v1::Record> records =
        Exists(file_) ? ReadRecords(file_) : std::vector<v1::Record>();
    size_t strangers = 0;
    for (const auto& r : records)
      strangers += (r.has_syscall() && r.syscall().pid() == u) ||
                   (r.has_process() && r.process().pid() == u);
    EXPECT_EQ(strangers, 0u) << "records of the process that took the pid";
    if (!with_survivor) {
      EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 1) << "status " << st << ": " << err;
      EXPECT_EQ(err, "probe-agent: " + gone + "\n");
      EXPECT_FALSE(Exists(file_)) << "no file from a run that recorded nothing";
      return true;
    }
    EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "status " << st << ": " << err;
    EXPECT_EQ(Lines(err.substr(0, err.find("probe-agent: " + file_))), 1u) << err;
    EXPECT_NE(err.find("probe-agent: warning: " + gone + "\n"), std::string::npos) << err;
    ExpectCleanEnd(records);
    if (records.empty()) return true;  // ExpectCleanEnd said so
    const auto& h = records.front().header();
    EXPECT_EQ(h.target_pids_size(), 1) << h.DebugString();
    if (h.target_pids_size() == 1) {
      EXPECT_EQ(h.target_pids(0), v.pid);
    }
    auto counts = ParseKeyValues(v_out, "churn ");
    uint64_t v_calls = 0;
    for (const auto& r : records) v_calls += r.has_syscall() && r.syscall().pid() == v.pid;
    EXPECT_EQ(std::to_string(v_calls), counts["total"]) << "the survivor is traced in full";
    const v1::KindCounters* sys =
        CountersOf(records.back().trailer().counters(), v1::EVENT_KIND_SYSCALL);
    if (sys) {
      EXPECT_EQ(std::to_string(sys->produced()), counts["total"]) << "and nothing else";
    }
    return true;
  }
};

TEST_F(PidReuseTest, ReusedPidOfTheOnlyTargetIsNotTraced) {
  bool arranged = false;
  for (int i = 0; i < 5 && !arranged; ++i) arranged = Run(false);
  EXPECT_TRUE(arranged) << "no attempt got the pid reused in time";
}

TEST_F(PidReuseTest, ReusedPidIsNotTracedAndTheOtherTargetIs) {
  bool arranged = false;
  for (int i = 0; i < 5 && !arranged; ++i) arranged = Run(true);
  EXPECT_TRUE(arranged) << "no attempt got the pid reused in time";
}

}  // namespace
}  // namespace probe
