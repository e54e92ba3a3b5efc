// Runs the real probe-agent (real BPF, real kernel) over workloads with
// known behaviour and checks the records against it.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>
#include <thread>

#include "agent_test.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::ReadRecords;
using testing::RunCommand;

class ProcessLifetimeTest : public testing::AgentTest {
 protected:
  // Process records by comm (last exec'd name).
  static std::map<std::string, v1::ProcessLifetime> ByComm(const std::vector<v1::Record>& records) {
    std::map<std::string, v1::ProcessLifetime> m;
    for (const auto& r : records)
      if (r.has_process()) m[r.process().comm()] = r.process();
    return m;
  }

  // sh -c 'sleep 0.2; /bin/true': sh is the parent of sleep and true, and
  // sleep lives 200 ms from exec to exit.
  void CheckShellWorkload(const std::vector<v1::Record>& records, int sh_pid) {
    ASSERT_FALSE(records.empty());
    EXPECT_TRUE(records.front().has_header());
    EXPECT_TRUE(records.back().has_trailer());
    auto procs = ByComm(records);
    ASSERT_TRUE(procs.count("sh")) << "no sh record";
    ASSERT_TRUE(procs.count("sleep")) << "no sleep record";
    ASSERT_TRUE(procs.count("true")) << "no true record";
    const auto& sh = procs["sh"];
    if (sh_pid > 0) {
      EXPECT_EQ(sh.pid(), sh_pid);
    }
    EXPECT_EQ(procs["sleep"].ppid(), sh.pid());
    EXPECT_EQ(procs["true"].ppid(), sh.pid());
    EXPECT_NEAR(procs["sleep"].exec_to_exit_ns() / 1e6, 200.0, 5.0);
    EXPECT_EQ(procs["sleep"].argv_size(), 2);
    EXPECT_EQ(procs["true"].exe(), "/bin/true");
    EXPECT_TRUE(procs["sleep"].finished());
    EXPECT_EQ(procs["sleep"].exit_code(), 0);
    EXPECT_GT(procs["sleep"].peak_rss_bytes(), 100u * 1024);
    EXPECT_GE(sh.exec_to_exit_ns(), procs["sleep"].exec_to_exit_ns());
  }
};

TEST_F(ProcessLifetimeTest, LaunchedCommand) {
  // An untargeted process running at the same time must not appear.
  pid_t bystander = fork();
  if (bystander == 0) {
    execl("/bin/sleep", "sleep", "0.5", nullptr);
    _exit(127);
  }
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--", "sh", "-c", "sleep 0.2; /bin/true"});
  waitpid(bystander, nullptr, 0);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto records = ReadRecords(file_);
  CheckShellWorkload(records, 0);
  int process_records = 0;
  for (const auto& rec : records) {
    if (!rec.has_process()) continue;
    ++process_records;
    EXPECT_NE(rec.process().pid(), bystander);
  }
  EXPECT_EQ(process_records, 3);
  const auto& c = records.back().trailer().counters(0);
  EXPECT_EQ(c.produced(), 3u);
  EXPECT_EQ(c.written(), 3u);
  EXPECT_EQ(records.back().trailer().stop_reason(), "targets exited");
}

TEST_F(ProcessLifetimeTest, AttachByPid) {
  // The target waits on a pipe so the agent is attached before it forks.
  int go[2];
  ASSERT_EQ(pipe(go), 0);
  pid_t sh = fork();
  if (sh == 0) {
    close(go[1]);
    char b;
    (void)!read(go[0], &b, 1);
    execl("/bin/sh", "sh", "-c", "sleep 0.2; /bin/true", nullptr);
    _exit(127);
  }
  close(go[0]);
  pid_t agent = fork();
  if (agent == 0) {
    execl(PROBE_AGENT, PROBE_AGENT, "--pid", std::to_string(sh).c_str(), "-o", file_.c_str(),
          nullptr);
    _exit(127);
  }
  // Wait for the header: the agent is attached once it is written.
  for (int i = 0; i < 200 && ReadRecords(file_).empty(); ++i) usleep(10000);
  ASSERT_FALSE(ReadRecords(file_).empty()) << "agent did not start";
  ASSERT_EQ(write(go[1], "x", 1), 1);
  close(go[1]);
  int st;
  waitpid(sh, &st, 0);
  waitpid(agent, &st, 0);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 0);
  auto records = ReadRecords(file_);
  CheckShellWorkload(records, sh);
  // The pre-existing target is explained by a snapshot record.
  // Its /proc start time (10 ms ticks) agrees with the kernel's fork time.
  bool snap = false;
  uint64_t kernel_fork_ns = ByComm(records)["sh"].fork_time_ns();
  for (const auto& rec : records) {
    if (!rec.has_snapshot() || rec.snapshot().pid() != sh) continue;
    snap = true;
    EXPECT_NEAR(double(rec.snapshot().start_time_ns()), double(kernel_fork_ns), 20e6);
    EXPECT_EQ(rec.snapshot().threads_size(), 1);
  }
  EXPECT_TRUE(snap);
  // Its CPU time counts from the recording's start, and the report says so.
  auto rep = RunCommand({PROBE_REPORT, file_});
  ASSERT_EQ(rep.exit_status, 0) << rep.err;
  EXPECT_NE(rep.out.find("USER and SYS are the recording's share"), std::string::npos) << rep.out;
}

TEST_F(ProcessLifetimeTest, ExitStatusAndSignalAreRecorded) {
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--", "sh", "-c",
                       "sleep 5 & sleep 0.1; kill -9 $!; wait; exit 7"});
  EXPECT_EQ(r.exit_status, 7) << r.err;
  auto procs = ByComm(ReadRecords(file_));
  ASSERT_TRUE(procs.count("sh"));
  EXPECT_EQ(procs["sh"].exit_code(), 7);
  ASSERT_TRUE(procs.count("sleep"));
  EXPECT_EQ(procs["sleep"].exit_signal(), SIGKILL);
}

TEST_F(ProcessLifetimeTest, DurationStopMarksSurvivorsUnfinished) {
  pid_t target = fork();
  if (target == 0) {
    execl("/bin/sleep", "sleep", "3", nullptr);
    _exit(127);
  }
  auto r =
      RunCommand({PROBE_AGENT, "--pid", std::to_string(target), "-o", file_, "--duration", "0.5"});
  kill(target, SIGKILL);
  waitpid(target, nullptr, 0);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  EXPECT_EQ(records.back().trailer().stop_reason(), "duration");
  bool unfinished = false;
  for (const auto& rec : records)
    if (rec.has_process() && rec.process().pid() == target) unfinished = !rec.process().finished();
  EXPECT_TRUE(unfinished);
}

TEST_F(ProcessLifetimeTest, SigtermWritesTrailer) {
  pid_t agent = fork();
  if (agent == 0) {
    execl(PROBE_AGENT, PROBE_AGENT, "-o", file_.c_str(), "--", "sleep", "10", nullptr);
    _exit(127);
  }
  for (int i = 0; i < 200 && ReadRecords(file_).empty(); ++i) usleep(10000);
  // Once the command has exec'd, so that its record is "sleep".
  auto header = ReadRecords(file_);
  ASSERT_FALSE(header.empty());
  ASSERT_EQ(header[0].header().target_pids_size(), 1);
  const std::string comm = "/proc/" + std::to_string(header[0].header().target_pids(0)) + "/comm";
  for (int i = 0; i < 200; ++i) {
    std::ifstream f(comm);
    std::string name;
    if (std::getline(f, name) && name == "sleep") break;
    usleep(10000);
  }
  kill(agent, SIGTERM);
  int st;
  waitpid(agent, &st, 0);
  // Stopped as asked: 0, not the 143 of the sleep it then terminated.
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "agent status " << st;
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  ASSERT_TRUE(records.back().has_trailer());
  EXPECT_EQ(records.back().trailer().stop_reason(), "signal");
  // The command was still running: its record says unfinished, and it is
  // terminated and reaped once the file is complete.
  bool sleep_seen = false;
  for (const auto& r : records)
    if (r.has_process() && r.process().comm() == "sleep") {
      sleep_seen = true;
      EXPECT_FALSE(r.process().finished());
      EXPECT_NE(access(("/proc/" + std::to_string(r.process().pid())).c_str(), F_OK), 0);
    }
  EXPECT_TRUE(sleep_seen);
}

TEST_F(ProcessLifetimeTest, UnfinishedLaunchedChildKeepsExecTime) {
  pid_t agent = fork();
  if (agent == 0) {
    execl(PROBE_AGENT, PROBE_AGENT, "-o", file_.c_str(), "--duration", "0.4", "--", "sleep", "3",
          nullptr);
    _exit(127);
  }
  int st;
  waitpid(agent, &st, 0);
  bool found = false;
  for (const auto& rec : ReadRecords(file_)) {
    if (!rec.has_process() || rec.process().comm() != "sleep") continue;
    found = true;
    EXPECT_FALSE(rec.process().finished());
    EXPECT_GT(rec.process().exec_time_ns(), 0u);
    EXPECT_LT(rec.process().fork_to_exec_ns(), 50'000'000u);
  }
  EXPECT_TRUE(found);
  // The report gives it no exec-to-exit: "-" (it said "0 ns"), and "running".
  auto rep = RunCommand({PROBE_REPORT, file_});
  ASSERT_EQ(rep.exit_status, 0) << rep.err;
  std::string line;  // sleep's row of the processes table, its first table
  std::istringstream rows(rep.out);
  bool in_table = false;
  for (std::string l; line.empty() && std::getline(rows, l);) {
    if (l.rfind("processes (", 0) == 0) in_table = true;
    if (in_table && l.find(" sleep ") != std::string::npos) line = l;
  }
  ASSERT_FALSE(line.empty()) << rep.out;
  EXPECT_NE(line.find(" - "), std::string::npos) << line;
  EXPECT_NE(line.find("running"), std::string::npos) << line;
}

TEST_F(ProcessLifetimeTest, SigkillLosesAtMostTheLastSecond) {
  // A child that exits 0.3 s in, then the agent is killed 1.6 s later: the
  // child's record was flushed within a second and must be in the file.
  pid_t agent = fork();
  if (agent == 0) {
    execl(PROBE_AGENT, PROBE_AGENT, "-o", file_.c_str(), "--", "sh", "-c", "sleep 0.3; sleep 10",
          nullptr);
    _exit(127);
  }
  usleep(1900 * 1000);
  kill(agent, SIGKILL);
  waitpid(agent, nullptr, 0);
  (void)!system("pkill -f 'sleep 10' 2>/dev/null");
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  EXPECT_TRUE(records.front().has_header());
  EXPECT_FALSE(records.back().has_trailer());
  bool short_sleep = false, stats = false;
  for (const auto& rec : records) {
    if (rec.has_process() && rec.process().argv_size() == 2 && rec.process().argv(1) == "0.3")
      short_sleep = true;
    if (rec.has_stats()) stats = true;
  }
  EXPECT_TRUE(short_sleep);
  EXPECT_TRUE(stats);
  auto rep = RunCommand({PROBE_REPORT, file_});
  EXPECT_EQ(rep.exit_status, 0);
  EXPECT_NE(rep.err.find("no trailer"), std::string::npos) << rep.err;
}

TEST_F(ProcessLifetimeTest, NoChildrenTracesOnlyTheNamedProcess) {
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--no-children", "--", "sh", "-c",
                       "/bin/true; /bin/true; exit 3"});
  EXPECT_EQ(r.exit_status, 3) << r.err;
  std::vector<std::string> comms;
  for (const auto& rec : ReadRecords(file_))
    if (rec.has_process()) comms.push_back(rec.process().comm());
  EXPECT_EQ(comms, std::vector<std::string>{"sh"});
}

TEST_F(ProcessLifetimeTest, AllSeesUnrelatedProcesses) {
  pid_t agent = fork();
  if (agent == 0) {
    execl(PROBE_AGENT, PROBE_AGENT, "--all", "-o", file_.c_str(), "--duration", "1", nullptr);
    _exit(127);
  }
  for (int i = 0; i < 200 && ReadRecords(file_).empty(); ++i) usleep(10000);
  auto r = RunCommand({"/bin/sleep", "0.1"});
  ASSERT_EQ(r.exit_status, 0);
  int st;
  waitpid(agent, &st, 0);
  EXPECT_EQ(WEXITSTATUS(st), 0);
  bool seen = false;
  for (const auto& rec : ReadRecords(file_))
    if (rec.has_process() && rec.process().comm() == "sleep" && rec.process().argv_size() == 2 &&
        rec.process().argv(1) == "0.1") {
      seen = true;
      EXPECT_NEAR(rec.process().exec_to_exit_ns() / 1e6, 100.0, 5.0);
    }
  EXPECT_TRUE(seen);
}

TEST_F(ProcessLifetimeTest, CliErrorsAreOneLineAndLeaveNoFile) {
  struct Case {
    std::vector<std::string> args;
    int status;
    const char* needle;
  };
  for (const Case& c : std::vector<Case>{
           {{"--pid", "999999999"}, 1, "no process with pid 999999999"},
           {{"--bogus"}, 2, "unknown option"},
           {{"--all", "-o", "/nonexistent/dir/x.ptrace"},
            1,
            "cannot create /nonexistent/dir/x.ptrace"},
           {{"--", "/no/such/program"}, 127, "cannot run /no/such/program"},
       }) {
    std::vector<std::string> argv{PROBE_AGENT, "-f", "-o", file_};
    argv.insert(argv.end(), c.args.begin(), c.args.end());
    auto r = RunCommand(argv);
    EXPECT_EQ(r.exit_status, c.status) << r.err;
    EXPECT_NE(r.err.find(c.needle), std::string::npos) << r.err;
    if (c.status != 127) {
      EXPECT_EQ(access(file_.c_str(), F_OK), -1) << "file left behind for " << c.args[0];
    }
    unlink(file_.c_str());
  }
}

TEST_F(ProcessLifetimeTest, UnprivilegedUserIsToldWhatIsNeeded) {
  auto r = RunCommand({"setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
                       "--inh-caps=-all", PROBE_AGENT, "-o", "/tmp/never.ptrace", "--all"});
  EXPECT_EQ(r.exit_status, 1) << r.err;
  EXPECT_NE(r.err.find("root, or grant CAP_BPF and CAP_PERFMON"), std::string::npos) << r.err;
}

TEST_F(ProcessLifetimeTest, ReportReadsTheFile) {
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--", "sh", "-c", "sleep 0.05"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto rep = RunCommand({PROBE_REPORT, file_});
  EXPECT_EQ(rep.exit_status, 0) << rep.err;
  EXPECT_NE(rep.out.find("sleep 0.05"), std::string::npos) << rep.out;
  EXPECT_NE(rep.out.find("stopped: targets exited"), std::string::npos) << rep.out;
  auto json = RunCommand({PROBE_REPORT, "--json", file_});
  EXPECT_EQ(json.exit_status, 0);
  EXPECT_NE(json.out.find("\"process\""), std::string::npos) << json.out;
  // protoc can decode the finished file as a whole Trace.
  auto dec = RunCommand({"sh", "-c",
                         std::string("protoc --decode=probe.v1.Trace -I ") + PROBE_PROTO_DIR +
                             " probe.proto < " + file_});
  EXPECT_EQ(dec.exit_status, 0) << dec.err;
  EXPECT_NE(dec.out.find("trailer {"), std::string::npos);
}

TEST_F(ProcessLifetimeTest, ReportWarnsOnCutFile) {
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--", "sh", "-c", "/bin/true"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  // Cut inside the trailer (a cut inside the header is "not a probe record file").
  struct stat st {};
  ASSERT_EQ(stat(file_.c_str(), &st), 0);
  ASSERT_EQ(truncate(file_.c_str(), st.st_size - 5), 0);
  auto rep = RunCommand({PROBE_REPORT, file_});
  EXPECT_NE(rep.err.find("truncated"), std::string::npos) << rep.err;
  auto garbage = dir_ + "/garbage";
  (void)!system(("head -c 100 /bin/true > " + garbage).c_str());
  rep = RunCommand({PROBE_REPORT, garbage});
  EXPECT_EQ(rep.exit_status, 1);
  EXPECT_NE(rep.err.find("not a probe record file"), std::string::npos) << rep.err;
}

}  // namespace
}  // namespace probe
