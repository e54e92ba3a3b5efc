// Privilege drop (issue "Hardening"): once its programs are attached, the
// real agent gives up what it no longer needs, and is read from the outside
// through /proc/PID/status while it runs. Draining, counters and shutdown
// must still work afterwards.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "agent_test.h"
#include "counters_check.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::ExpectBalanced;
using testing::ParseKeyValues;
using testing::ReadRecords;
using testing::ReadToEof;
using testing::Slurp;

constexpr uint64_t Cap(int c) { return uint64_t(1) << c; }
constexpr uint64_t kShimScanCaps =
    Cap(CAP_DAC_READ_SEARCH) | Cap(CAP_SYS_PTRACE) | Cap(CAP_CHECKPOINT_RESTORE);
constexpr int kNobody = 65534;

// The "Name:\tvalue" lines of /proc/PID/status.
std::map<std::string, std::string> ProcStatus(pid_t pid) {
  std::map<std::string, std::string> m;
  std::istringstream in(Slurp("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(in, line)) {
    size_t colon = line.find(':');
    if (colon == std::string::npos) continue;
    size_t v = line.find_first_not_of(" \t", colon + 1);
    std::string value = v == std::string::npos ? "" : line.substr(v);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.pop_back();
    m[line.substr(0, colon)] = value;
  }
  return m;
}

uint64_t Hex(const std::string& s) {
  return s.empty() ? ~uint64_t(0) : std::stoull(s, nullptr, 16);
}

class PrivilegeTest : public testing::AgentTest {
 protected:
  void TearDown() override {
    if (agent_ > 0) {
      kill(agent_, SIGKILL);
      waitpid(agent_, nullptr, 0);
    }
    testing::AgentTest::TearDown();
  }

  // Starts the agent with env ("NAME=value", or "NAME=" to unset) on top of
  // this process's environment; stderr goes to agent.err.
  void StartAgent(const std::vector<std::string>& args, const std::vector<std::string>& env) {
    agent_ = fork();
    if (agent_ == 0) {
      for (const auto& e : env) {
        size_t eq = e.find('=');
        if (eq + 1 == e.size())
          unsetenv(e.substr(0, eq).c_str());
        else
          setenv(e.substr(0, eq).c_str(), e.substr(eq + 1).c_str(), 1);
      }
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      int err = open((dir_ + "/agent.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(err, 2);
      std::vector<std::string> argv = {PROBE_AGENT};
      argv.insert(argv.end(), args.begin(), args.end());
      std::vector<char*> p;
      for (auto& a : argv) p.push_back(a.data());
      p.push_back(nullptr);
      execv(PROBE_AGENT, p.data());
      _exit(127);
    }
  }

  // /proc/AGENT/status once the agent has dropped (NoNewPrivs set) or, for
  // a run that keeps everything, once its header is in the file.
  std::map<std::string, std::string> StatusAfterAttach(bool expect_drop = true) {
    std::map<std::string, std::string> s;
    for (int i = 0; i < 1000; ++i) {
      s = ProcStatus(agent_);
      if (s.empty()) break;  // the agent is gone
      if (expect_drop ? s["NoNewPrivs"] == "1" : !ReadRecords(file_).empty()) break;
      usleep(10000);
    }
    return s;
  }

  // Waits for the agent; returns its exit status (128+N if killed by N).
  int WaitAgent(int timeout_s = 20) {
    int st = 0;
    pid_t w = 0;
    for (int i = 0; i < timeout_s * 100 && (w = waitpid(agent_, &st, WNOHANG)) == 0; ++i)
      usleep(10000);
    if (w == 0) {
      kill(agent_, SIGKILL);
      waitpid(agent_, &st, 0);
      ADD_FAILURE() << "agent still running after " << timeout_s << " s";
    }
    agent_ = -1;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  }

  std::string AgentErr() { return Slurp(dir_ + "/agent.err"); }

  pid_t agent_ = -1;
};

// syscall_burst held before its first traced call until "go" on its stdin.
struct HeldBurst {
  pid_t pid = -1;
  int in = -1, out = -1;
  void Start(const std::string& events) {
    int i[2], o[2];
    ASSERT_EQ(pipe(i), 0);
    ASSERT_EQ(pipe(o), 0);
    pid = fork();
    if (pid == 0) {
      dup2(i[0], 0);
      dup2(o[1], 1);
      close(i[1]);
      close(o[0]);
      execl(PROBE_SYSCALL_BURST, PROBE_SYSCALL_BURST, "--events", events.c_str(), "--kind", "poll0",
            "--wait", nullptr);
      _exit(127);
    }
    close(i[0]);
    close(o[1]);
    in = i[1];
    out = o[0];
  }
  void Go() {
    ASSERT_EQ(write(in, "go\n", 3), 3);
    close(in);
    in = -1;
  }
  // Its summary line, after it has exited (0 unless it was killed).
  std::map<std::string, std::string> Finish(bool killed = false) {
    std::string text = ReadToEof(out);
    close(out);
    if (in >= 0) close(in);
    int st = 0;
    waitpid(pid, &st, 0);
    if (!killed) EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "workload status " << st;
    return ParseKeyValues(text, "burst ");
  }
};

uint64_t CountCalls(const std::vector<v1::Record>& records, pid_t pid, v1::Syscall which) {
  uint64_t n = 0;
  for (const auto& r : records)
    n += r.has_syscall() && r.syscall().pid() == pid &&
         (which == v1::SYSCALL_UNSPECIFIED || r.syscall().syscall() == which);
  return n;
}

const v1::Trailer* TrailerOf(const std::vector<v1::Record>& records) {
  return !records.empty() && records.back().has_trailer() ? &records.back().trailer() : nullptr;
}

// Started through sudo: the agent becomes the invoking user, keeps only
// what reading hand-loaded shims needs, cannot regain anything, and its
// fds and memory stay out of that user's reach. Every call the workload
// makes afterwards is still recorded, and the counters balance.
TEST_F(PrivilegeTest, UnderSudoDropsToInvokingUserAndKeepsRecording) {
  HeldBurst burst;
  burst.Start("20000");
  // 20000 records of 64 bytes outgrow the default 1 MiB ring if the dropped
  // agent is not scheduled for ~20 ms on a busy machine; this test is about
  // keeping every record after the drop, not about drain speed, so the ring
  // holds the whole burst.
  StartAgent({"--pid", std::to_string(burst.pid), "-o", file_, "--ring-buffer", "8M"},
             {"SUDO_UID=" + std::to_string(kNobody), "SUDO_GID=" + std::to_string(kNobody)});
  auto s = StatusAfterAttach();
  const std::string ids = "65534\t65534\t65534\t65534";
  EXPECT_EQ(s["Uid"], ids) << AgentErr();
  EXPECT_EQ(s["Gid"], ids);
  EXPECT_EQ(s["Groups"], "65534");
  EXPECT_EQ(Hex(s["CapEff"]), kShimScanCaps);
  EXPECT_EQ(Hex(s["CapPrm"]), kShimScanCaps);
  EXPECT_EQ(Hex(s["CapBnd"]), kShimScanCaps);
  EXPECT_EQ(Hex(s["CapInh"]), 0u);
  EXPECT_EQ(Hex(s["CapAmb"]), 0u);
  EXPECT_EQ(s["NoNewPrivs"], "1");
  // Changing uid made it non-dumpable: its /proc entries (and so its BPF
  // fds and memory) stay root's, out of the invoking user's reach.
  struct stat fdir {};
  ASSERT_EQ(stat(("/proc/" + std::to_string(agent_) + "/fd").c_str(), &fdir), 0);
  EXPECT_EQ(fdir.st_uid, 0u);

  burst.Go();
  auto counts = burst.Finish();
  EXPECT_EQ(WaitAgent(), 0) << AgentErr();
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  ASSERT_TRUE(records.front().has_header());
  EXPECT_EQ(records.front().header().privileges(),
            "uid 65534 gid 65534, capabilities: dac_read_search,sys_ptrace,checkpoint_restore, "
            "no_new_privs");
  EXPECT_EQ(CountCalls(records, burst.pid, v1::SYSCALL_POLL), 20000u);
  EXPECT_EQ(counts["polls"], "20000");
  const v1::Trailer* t = TrailerOf(records);
  ASSERT_NE(t, nullptr) << AgentErr();
  EXPECT_EQ(t->stop_reason(), "targets exited");
  for (const auto& c : t->counters()) {
    SCOPED_TRACE(v1::EventKind_Name(c.kind()));
    ExpectBalanced(c);
    EXPECT_EQ(testing::KernelLost(c), 0u);
  }
  struct stat st {};
  ASSERT_EQ(stat(file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, uid_t(kNobody));
  auto report = testing::RunCommand({PROBE_REPORT, "--no-progress", file_});
  EXPECT_NE(report.out.find("agent after attach: uid 65534 gid 65534, capabilities: "
                            "dac_read_search,sys_ptrace,checkpoint_restore, no_new_privs"),
            std::string::npos)
      << report.out;
}

// After the drop the invoking user can stop its own agent (it now runs as
// that user), and the stop is as clean as ever: trailer, balanced counters,
// exit 0.
TEST_F(PrivilegeTest, InvokingUserCanStopTheDroppedAgentCleanly) {
  HeldBurst burst;
  burst.Start("100000000");
  StartAgent({"--pid", std::to_string(burst.pid), "-o", file_},
             {"SUDO_UID=" + std::to_string(kNobody), "SUDO_GID=" + std::to_string(kNobody)});
  ASSERT_EQ(StatusAfterAttach()["NoNewPrivs"], "1") << AgentErr();
  burst.Go();
  usleep(500 * 1000);
  pid_t user = fork();
  if (user == 0) {
    if (setgid(kNobody) != 0 || setuid(kNobody) != 0) _exit(2);
    _exit(kill(agent_, SIGTERM) == 0 ? 0 : 1);
  }
  int ust = 0;
  waitpid(user, &ust, 0);
  EXPECT_TRUE(WIFEXITED(ust) && WEXITSTATUS(ust) == 0) << "uid 65534 could not signal its agent";
  EXPECT_EQ(WaitAgent(), 0) << AgentErr();
  kill(burst.pid, SIGKILL);
  burst.Finish(/*killed=*/true);
  auto records = ReadRecords(file_);
  const v1::Trailer* t = TrailerOf(records);
  ASSERT_NE(t, nullptr) << AgentErr();
  EXPECT_EQ(t->stop_reason(), "signal");
  uint64_t calls = CountCalls(records, burst.pid, v1::SYSCALL_UNSPECIFIED);
  EXPECT_GT(calls, 1000u);
  for (const auto& c : t->counters()) {
    SCOPED_TRACE(v1::EventKind_Name(c.kind()));
    ExpectBalanced(c);
    if (c.kind() == v1::EVENT_KIND_SYSCALL) EXPECT_EQ(c.written(), calls);
  }
}

// Root without sudo: no one to become, so the uid stays 0, but with no
// capability left (--all reads no target's memory) root is only a uid.
TEST_F(PrivilegeTest, RootWithoutSudoKeepsUidZeroButNoCapability) {
  StartAgent({"--all", "-d", "1", "-o", file_}, {"SUDO_UID=", "SUDO_GID="});
  auto s = StatusAfterAttach();
  EXPECT_EQ(s["Uid"], "0\t0\t0\t0") << AgentErr();
  EXPECT_EQ(Hex(s["CapEff"]), 0u);
  EXPECT_EQ(Hex(s["CapPrm"]), 0u);
  EXPECT_EQ(Hex(s["CapBnd"]), 0u);
  EXPECT_EQ(s["NoNewPrivs"], "1");
  EXPECT_EQ(WaitAgent(), 0) << AgentErr();
  auto records = ReadRecords(file_);
  const v1::Trailer* t = TrailerOf(records);
  ASSERT_NE(t, nullptr) << AgentErr();
  EXPECT_EQ(t->stop_reason(), "duration");
  EXPECT_EQ(records.front().header().privileges(), "same uid, capabilities: none, no_new_privs");
  for (const auto& c : t->counters()) ExpectBalanced(c);
}

// A launched command runs as root: the agent keeps CAP_KILL to stop it,
// and does stop it at --duration although it is no longer root itself.
// The agent exits 0 (it stopped the command as asked); a command that
// ends by itself passes its own status on.
TEST_F(PrivilegeTest, LaunchedCommandIsStillStoppedAfterTheDrop) {
  StartAgent({"-d", "1.5", "-o", file_, "--", "sleep", "30"},
             {"SUDO_UID=" + std::to_string(kNobody), "SUDO_GID=" + std::to_string(kNobody)});
  auto s = StatusAfterAttach();
  EXPECT_EQ(Hex(s["CapEff"]), Cap(CAP_KILL) | kShimScanCaps) << AgentErr();
  EXPECT_EQ(s["Uid"], "65534\t65534\t65534\t65534");
  EXPECT_EQ(WaitAgent(), 0) << AgentErr();
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  int sleep_pid = records.front().header().target_pids_size() > 0
                      ? records.front().header().target_pids(0)
                      : -1;
  ASSERT_GT(sleep_pid, 0);
  // Killed and reaped by the agent, not left running as root.
  EXPECT_NE(access(("/proc/" + std::to_string(sleep_pid)).c_str(), F_OK), 0);
  const v1::Trailer* t = TrailerOf(records);
  ASSERT_NE(t, nullptr);
  EXPECT_EQ(t->stop_reason(), "duration");

  StartAgent({"-o", dir_ + "/exit3.ptrace", "--", "sh", "-c", "exit 3"},
             {"SUDO_UID=" + std::to_string(kNobody), "SUDO_GID=" + std::to_string(kNobody)});
  EXPECT_EQ(WaitAgent(), 3) << AgentErr();
}

// A root process that loaded the shim by hand is still found and read by
// an agent that dropped to an unprivileged user: the two capabilities kept
// for it are enough, and needed.
TEST_F(PrivilegeTest, HandPreloadedRootTargetIsStillReadAfterTheDrop) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t target = fork();
  if (target == 0) {
    dup2(out[1], 1);
    setenv("LD_PRELOAD", PROBE_PRELOAD_LIB, 1);
    execl(PROBE_SHIM_SELECT, PROBE_SHIM_SELECT, "20", "100", nullptr);
    _exit(127);
  }
  close(out[1]);
  StartAgent({"--events", "process,syscalls", "--pid", std::to_string(target), "-o", file_},
             {"SUDO_UID=" + std::to_string(kNobody), "SUDO_GID=" + std::to_string(kNobody)});
  EXPECT_EQ(WaitAgent(), 0) << AgentErr();
  std::string text = ReadToEof(out[0]);
  close(out[0]);
  waitpid(target, nullptr, 0);
  auto counts = ParseKeyValues(text, "shim_select ");
  ASSERT_FALSE(counts["selects"].empty()) << text;
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  EXPECT_NE(records.front().header().privileges().find("uid 65534"), std::string::npos);
  uint64_t selects = 0;
  for (const auto& r : records)
    selects += r.has_shim_call() && r.shim_call().pid() == target &&
               r.shim_call().function() == v1::SHIM_SELECT;
  EXPECT_EQ(selects, std::stoull(counts["selects"])) << AgentErr();
}

// --keep-privileges: nothing is dropped and the header says so by saying
// nothing.
TEST_F(PrivilegeTest, KeepPrivilegesKeepsEverything) {
  StartAgent({"--keep-privileges", "--all", "-d", "0.5", "-o", file_},
             {"SUDO_UID=" + std::to_string(kNobody), "SUDO_GID=" + std::to_string(kNobody)});
  auto s = StatusAfterAttach(false);
  EXPECT_EQ(s["Uid"], "0\t0\t0\t0") << AgentErr();
  EXPECT_EQ(Hex(s["CapEff"]), Hex(ProcStatus(getpid())["CapEff"])) << "what the test has";
  EXPECT_EQ(s["NoNewPrivs"], "0");
  EXPECT_EQ(WaitAgent(), 0) << AgentErr();
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.front().header().privileges(), "");
}

}  // namespace
}  // namespace probe
