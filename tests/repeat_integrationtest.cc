// probe-agent --repeat N (issue 20) against real programs: N runs into one
// file, each process tagged with its run, one RepeatRun record per run whose
// counts match what strace sees of the same command, the exit status of
// failed runs, --repeat-delay, and probe-report's statistics of the runs.
#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <sstream>

#include "agent_test.h"
#include "counters_check.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::ReadRecords;
using testing::RunCommand;
using testing::Slurp;

// The python3 of the distribution, not a PATH shim (pyenv's is a bash
// script that execs more), so the truth below is the same on every machine.
constexpr const char* kPython = "/usr/bin/python3";

struct Recording {
  v1::Header header;
  std::vector<v1::RepeatRun> runs;                                 // in file order
  std::map<uint32_t, std::vector<v1::ProcessLifetime>> processes;  // by run_index
  std::vector<v1::Record> all;
};

Recording Read(const std::string& path) {
  Recording r;
  r.all = ReadRecords(path);
  for (const auto& rec : r.all) {
    if (rec.has_header()) r.header = rec.header();
    if (rec.has_run()) r.runs.push_back(rec.run());
    if (rec.has_process()) r.processes[rec.process().run_index()].push_back(rec.process());
  }
  return r;
}

// What strace -f sees of one run of argv: processes, and successful execs.
struct StraceTruth {
  size_t processes = 0;
  size_t execs = 0;
};

StraceTruth Strace(const std::string& dir, const std::vector<std::string>& argv) {
  const std::string out = dir + "/strace.txt";
  std::vector<std::string> cmd = {"strace", "-f", "-qq", "-e", "trace=process", "-o", out};
  cmd.insert(cmd.end(), argv.begin(), argv.end());
  EXPECT_EQ(RunCommand(cmd).exit_status, 0);
  StraceTruth t;
  std::set<int> pids;
  std::istringstream lines(Slurp(out));
  for (std::string line; std::getline(lines, line);) {
    int pid = 0;
    if (sscanf(line.c_str(), "%d", &pid) == 1) pids.insert(pid);
    // execve(...) = 0, possibly as "<... execve resumed>) = 0".
    if (line.find("execve") != std::string::npos && line.size() > 4 &&
        line.compare(line.size() - 4, 4, " = 0") == 0)
      ++t.execs;
  }
  t.processes = pids.size();
  return t;
}

class RepeatTest : public testing::AgentTest {
 protected:
  // Checks what every repeated file must hold: runs 1..n in order, each
  // after its processes, its counts and times those of its processes, and
  // every event counted once.
  void CheckRuns(const Recording& rec, uint32_t n) {
    EXPECT_EQ(rec.header.repeat_count(), n);
    ASSERT_EQ(rec.runs.size(), n);
    EXPECT_EQ(rec.processes.count(0), 0u) << "every process belongs to a run";
    uint64_t previous_end = 0;
    for (uint32_t i = 0; i < n; ++i) {
      const v1::RepeatRun& run = rec.runs[i];
      SCOPED_TRACE("run " + std::to_string(i + 1));
      EXPECT_EQ(run.index(), i + 1);
      ASSERT_TRUE(rec.processes.count(run.index()));
      const auto& procs = rec.processes.at(run.index());
      EXPECT_EQ(run.processes(), procs.size());
      const v1::ProcessLifetime* launched = nullptr;
      uint64_t last_exit = 0;
      for (const auto& p : procs) {
        if (p.pid() == run.pid()) launched = &p;
        last_exit = std::max(last_exit, p.exit_time_ns());
        EXPECT_TRUE(p.finished());
        EXPECT_GE(p.fork_time_ns(), run.start_time_ns() - 10000000) << "forked in its run";
      }
      ASSERT_NE(launched, nullptr) << "the launched command's own record";
      EXPECT_EQ(run.exec_time_ns(), launched->first_exec_time_ns());
      EXPECT_GT(run.exec_time_ns(), 0u);
      EXPECT_EQ(run.end_time_ns(), last_exit);
      EXPECT_EQ(run.duration_ns(), run.end_time_ns() - run.exec_time_ns());
      EXPECT_GT(run.duration_ns(), 0u);
      EXPECT_GE(run.duration_ns(), launched->exec_to_exit_ns());
      EXPECT_GT(run.start_time_ns(), previous_end) << "runs one after another";
      EXPECT_LE(run.start_time_ns(), run.exec_time_ns());
      previous_end = run.end_time_ns();
    }
    // Nothing of run k comes after its RepeatRun record: its processes, their
    // final histograms, their shim calls (the agent flushes each run).
    std::map<int32_t, uint32_t> run_of_pid;
    for (const auto& [index, procs] : rec.processes)
      for (const auto& p : procs) run_of_pid[p.pid()] = index;
    std::map<uint32_t, size_t> run_position;
    size_t checked = 0;
    for (size_t i = 0; i < rec.all.size(); ++i)
      if (rec.all[i].has_run()) run_position[rec.all[i].run().index()] = i;
    for (size_t i = 0; i < rec.all.size(); ++i) {
      const v1::Record& x = rec.all[i];
      const int32_t pid = x.has_process()             ? x.process().pid()
                          : x.has_syscall_histogram() ? x.syscall_histogram().pid()
                          : x.has_sched_histogram()   ? x.sched_histogram().pid()
                          : x.has_shim_call()         ? x.shim_call().pid()
                                                      : 0;
      auto run = run_of_pid.find(pid);
      if (pid == 0 || run == run_of_pid.end()) continue;
      ++checked;
      EXPECT_LT(i, run_position[run->second])
          << "record " << i << " of pid " << pid << " after run " << run->second << "'s end";
    }
    EXPECT_GE(checked, size_t(n)) << "at least the processes";
    ASSERT_TRUE(rec.all.back().has_trailer());
    const auto* c =
        testing::CountersOf(rec.all.back().trailer().counters(), v1::EVENT_KIND_PROCESS);
    ASSERT_NE(c, nullptr);
    for (const auto& kind : rec.all.back().trailer().counters()) testing::ExpectBalanced(kind);
    size_t process_records = 0;
    for (const auto& [index, procs] : rec.processes) process_records += procs.size();
    EXPECT_EQ(c->written(), process_records);
    EXPECT_EQ(c->produced(), process_records) << "nothing lost or sampled at run boundaries";
  }
};

TEST_F(RepeatTest, FiveRunsOfPythonIntoOneFile) {
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--repeat", "5", "--", kPython, "-c", "pass"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  Recording rec = Read(file_);
  ASSERT_NO_FATAL_FAILURE(CheckRuns(rec, 5));
  std::set<int> pids;
  for (const auto& run : rec.runs) {
    EXPECT_TRUE(run.succeeded());
    EXPECT_EQ(run.processes(), 1u);
    pids.insert(run.pid());
    const auto& p = rec.processes.at(run.index()).front();
    EXPECT_EQ(p.comm(), "python3");
    EXPECT_EQ(p.exec_count(), 1u);
    // One process: the run is its exec -> exit.
    EXPECT_EQ(run.duration_ns(), p.exec_to_exit_ns());
    EXPECT_GT(run.duration_ns(), 1000000u) << "python3 -c pass takes milliseconds";
  }
  EXPECT_EQ(pids.size(), 5u) << "a fresh process each run";
}

TEST_F(RepeatTest, RunStartsAtTheFirstExecOfACommandThatExecsAgain) {
  // sh execs python3 in the same process: the run is from sh's exec, which
  // the process record's exec_time_ns (the last exec's) no longer holds.
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--repeat", "3", "--", "sh", "-c",
                       std::string("exec ") + kPython + " -c pass"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  Recording rec = Read(file_);
  ASSERT_NO_FATAL_FAILURE(CheckRuns(rec, 3));
  for (const auto& run : rec.runs) {
    const auto& p = rec.processes.at(run.index()).front();
    ASSERT_EQ(p.exec_count(), 2u);
    EXPECT_LT(p.first_exec_time_ns(), p.exec_time_ns());
    EXPECT_EQ(run.exec_time_ns(), p.first_exec_time_ns());
    EXPECT_EQ(run.duration_ns(), p.exit_time_ns() - p.first_exec_time_ns());
    EXPECT_GT(run.duration_ns(), p.exec_to_exit_ns());
  }
}

TEST_F(RepeatTest, WrapperChainRunsHoldWhatStraceSees) {
  const std::vector<std::string> cmd = {"sh", "-c",
                                        std::string("bash -c \"") + kPython + " -c pass\""};
  const StraceTruth truth = Strace(dir_, cmd);
  ASSERT_GE(truth.processes, 2u) << "sh forks a child that execs bash, then python3";
  std::vector<std::string> argv = {PROBE_AGENT, "-o", file_, "--repeat", "5", "--"};
  argv.insert(argv.end(), cmd.begin(), cmd.end());
  auto r = RunCommand(argv);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  Recording rec = Read(file_);
  ASSERT_NO_FATAL_FAILURE(CheckRuns(rec, 5));
  for (const auto& run : rec.runs) {
    SCOPED_TRACE("run " + std::to_string(run.index()));
    EXPECT_EQ(run.processes(), truth.processes);
    size_t execs = 0;
    for (const auto& p : rec.processes.at(run.index())) {
      execs += p.exec_count();
      if (p.pid() != run.pid()) {
        EXPECT_EQ(p.ppid(), run.pid()) << "sh's child";
      }
    }
    EXPECT_EQ(execs, truth.execs);
  }
}

TEST_F(RepeatTest, ThirdRunFailsAndIsNamed) {
  // A counter file makes run 3 (and only it) exit 1.
  const std::string counter = dir_ + "/count";
  const std::string script = "n=$(cat " + counter +
                             " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " + counter +
                             "; [ $n -ne 3 ]";
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--repeat", "5", "--", "sh", "-c", script});
  EXPECT_EQ(r.exit_status, 1) << "the first failed run's status, as a single launch gives it";
  EXPECT_NE(r.err.find("probe-agent: run 3 of 5 failed (exit 1)\n"), std::string::npos) << r.err;
  Recording rec = Read(file_);
  ASSERT_NO_FATAL_FAILURE(CheckRuns(rec, 5));
  for (const auto& run : rec.runs) {
    EXPECT_EQ(run.succeeded(), run.index() != 3) << run.index();
    EXPECT_EQ(run.exit_code(), run.index() == 3 ? 1 : 0);
  }
}

TEST_F(RepeatTest, KilledRunGivesTheSignalStatus) {
  const std::string counter = dir_ + "/count";
  const std::string script = "n=$(cat " + counter +
                             " 2>/dev/null || echo 0); n=$((n+1)); echo $n > " + counter +
                             "; [ $n -ne 2 ] || kill -KILL $$";
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--repeat", "3", "--", "sh", "-c", script});
  EXPECT_EQ(r.exit_status, 128 + 9) << r.err;
  EXPECT_NE(r.err.find("probe-agent: run 2 of 3 failed (signal 9)\n"), std::string::npos) << r.err;
  Recording rec = Read(file_);
  ASSERT_NO_FATAL_FAILURE(CheckRuns(rec, 3));
  EXPECT_EQ(rec.runs[1].exit_signal(), 9);
  EXPECT_FALSE(rec.runs[1].succeeded());
}

TEST_F(RepeatTest, RepeatDelayIsTheGapBetweenRuns) {
  auto gaps = [&](const std::vector<std::string>& extra) {
    std::vector<std::string> argv = {PROBE_AGENT, "-f", "-o", file_, "--repeat", "3"};
    argv.insert(argv.end(), extra.begin(), extra.end());
    argv.insert(argv.end(), {"--", "/bin/true"});
    auto r = RunCommand(argv);
    EXPECT_EQ(r.exit_status, 0) << r.err;
    Recording rec = Read(file_);
    std::vector<double> ms;
    CheckRuns(rec, 3);
    if (HasFatalFailure()) return ms;
    for (size_t i = 1; i < rec.runs.size(); ++i)
      ms.push_back((rec.runs[i].start_time_ns() - rec.runs[i - 1].end_time_ns()) / 1e6);
    return ms;
  };
  for (double gap : gaps({"--repeat-delay", "300ms"})) {
    EXPECT_GE(gap, 300.0);
    EXPECT_LT(gap, 1300.0);
  }
  // --duration ends a long delay: no run starts past it.
  const auto t0 = std::chrono::steady_clock::now();
  auto cut = RunCommand({PROBE_AGENT, "-f", "-o", file_, "--repeat", "100", "--repeat-delay", "20s",
                         "--duration", "1s", "--", "/bin/true"});
  const double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_EQ(cut.exit_status, 0) << cut.err;
  EXPECT_LT(took, 5.0) << "the 20 s delay outlived --duration 1s";
  Recording one = Read(file_);
  EXPECT_EQ(one.runs.size(), 1u);
  ASSERT_TRUE(!one.all.empty() && one.all.back().has_trailer());
  EXPECT_EQ(one.all.back().trailer().stop_reason(), "duration");
  // Without the delay the next run follows within the agent's polling.
  for (double gap : gaps({})) EXPECT_LT(gap, 250.0);
}

TEST_F(RepeatTest, RunsAreLaunchedWithTheSamePrivilegesAfterTheDrop) {
  // Under sudo the agent drops to the invoking user after attach; every run
  // must still be launched as run 1 was (as root, with root's capabilities).
  const std::string out = dir_ + "/ids";
  auto r =
      RunCommand({"env", "SUDO_UID=65534", "SUDO_GID=65534", PROBE_AGENT, "-o", file_, "--repeat",
                  "3", "--", "sh", "-c", "{ id -u; grep CapEff /proc/self/status; } >> " + out});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::istringstream lines(Slurp(out));
  std::vector<std::string> got;
  for (std::string line; std::getline(lines, line);) got.push_back(line);
  ASSERT_EQ(got.size(), 6u) << Slurp(out);
  for (size_t i = 0; i < 6; i += 2) {
    EXPECT_EQ(got[i], "0") << "run " << i / 2 + 1;
    EXPECT_EQ(got[i + 1], got[1]) << "run " << i / 2 + 1;
  }
  ASSERT_NO_FATAL_FAILURE(CheckRuns(Read(file_), 3));
}

// Fields of the CSV line of a file whose first field is key.
std::vector<std::string> CsvRow(const std::string& text, const std::string& key) {
  std::istringstream lines(text);
  for (std::string line; std::getline(lines, line);) {
    std::vector<std::string> f;
    std::stringstream ss(line);
    for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
    if (!f.empty() && (f[0] == key || (f.size() > 1 && f[0] + "," + f[1] == key))) return f;
  }
  return {};
}

TEST_F(RepeatTest, ReportGivesTheRunsStatistics) {
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--repeat", "5", "--", "sh", "-c",
                       std::string(kPython) + " -c pass"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  Recording rec = Read(file_);
  ASSERT_NO_FATAL_FAILURE(CheckRuns(rec, 5));
  // The statistics computed here from the RepeatRun records alone.
  std::vector<double> d;
  for (const auto& run : rec.runs) d.push_back(double(run.duration_ns()));
  std::sort(d.begin(), d.end());
  double mean = 0;
  for (double x : d) mean += x / 5;
  double sq = 0;
  for (double x : d) sq += (x - mean) * (x - mean);
  const double sd = std::sqrt(sq / 4), median = d[2];

  const std::string csv = dir_ + "/csv";
  auto rep = RunCommand({PROBE_REPORT, "--no-progress", "--csv", csv, file_});
  ASSERT_EQ(rep.exit_status, 0) << rep.err;
  auto row = CsvRow(Slurp(csv + "/repeat_summary.csv"), "command_time_ns");
  ASSERT_EQ(row.size(), 8u) << Slurp(csv + "/repeat_summary.csv");
  EXPECT_EQ(row[2], "5");
  EXPECT_NEAR(std::stod(row[3]), mean, 1e-6 * mean);
  EXPECT_NEAR(std::stod(row[4]), sd, 1e-6 * mean);
  EXPECT_EQ(std::stod(row[5]), median);
  EXPECT_EQ(std::stod(row[6]), d.front());
  EXPECT_EQ(std::stod(row[7]), d.back());
  // Per name: one sh and one python3 per run (sh forks python3 here).
  for (const char* comm : {"sh", "python3"}) {
    auto per_run = CsvRow(Slurp(csv + "/repeat_summary.csv"), std::string("per_run,") + comm);
    ASSERT_EQ(per_run.size(), 8u) << comm;
    EXPECT_EQ(per_run[3], "1") << comm;
    EXPECT_EQ(per_run[4], "0") << comm;
  }
  const std::string runs_csv = Slurp(csv + "/runs.csv");
  for (const auto& run : rec.runs) {
    auto f = CsvRow(runs_csv, std::to_string(run.index()));
    ASSERT_EQ(f.size(), 10u);
    EXPECT_EQ(f[5], std::to_string(run.duration_ns()));
    EXPECT_EQ(f[8], "true");
  }

  auto text = RunCommand({PROBE_REPORT, "--no-progress", file_});
  ASSERT_EQ(text.exit_status, 0) << text.err;
  char expect[128];
  // The report rounds to whole ns before it prints.
  snprintf(expect, sizeof(expect), "    mean +- sd   %.2f ms +- ",
           double(std::llround(mean)) / 1e6);
  EXPECT_NE(text.out.find("repeated runs: 5 ended of 5 asked (--repeat), 0 failed\n"),
            std::string::npos)
      << text.out;
  EXPECT_NE(text.out.find(expect), std::string::npos) << expect << "\n" << text.out;
  snprintf(expect, sizeof(expect), "    median       %.2f ms\n",
           double(std::llround(median)) / 1e6);
  EXPECT_NE(text.out.find(expect), std::string::npos) << expect << "\n" << text.out;
}

}  // namespace
}  // namespace probe

namespace probe {
namespace {

// The repeat summary's names are written as processes.csv writes them (raw
// bytes, \xHH for what is not UTF-8), not as the terminal report escapes
// them: a process that renames itself with an ESC and a 0xff byte.
TEST_F(RepeatTest, SummaryNamesAreTheCsvsNames) {
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--repeat", "2", "--", kPython, "-c",
                       "import ctypes; ctypes.CDLL(None).prctl(15, b'a\\x1bb\\xff', 0, 0, 0)"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const std::string csv = dir_ + "/csv";
  auto rep = RunCommand({PROBE_REPORT, "--no-progress", "--csv", csv, file_});
  ASSERT_EQ(rep.exit_status, 0) << rep.err;
  const std::string name =
      "a\x1b"
      "b\\xff";
  EXPECT_NE(Slurp(csv + "/processes.csv").find("," + name + ","), std::string::npos)
      << Slurp(csv + "/processes.csv");
  auto row = CsvRow(Slurp(csv + "/repeat_summary.csv"), "per_run," + name);
  ASSERT_EQ(row.size(), 8u) << Slurp(csv + "/repeat_summary.csv");
  EXPECT_EQ(row[2], "2");
  EXPECT_EQ(row[3], "1");
}

}  // namespace
}  // namespace probe

namespace probe {
namespace {

// With the shim: each run's user-space calls are read before its RepeatRun
// record (CheckRuns) and each run has all of its own, as the workload counts.
TEST_F(RepeatTest, ShimCallsOfEachRunAreAllInTheFile) {
  auto r = RunCommand(
      {PROBE_AGENT, "--preload", "-o", file_, "--repeat", "3", "--", PROBE_SHIM_SELECT, "2", "10"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  Recording rec = Read(file_);
  ASSERT_NO_FATAL_FAILURE(CheckRuns(rec, 3));
  std::map<int32_t, int> selects;  // by pid
  for (const auto& x : rec.all)
    if (x.has_shim_call() && x.shim_call().function() == v1::SHIM_SELECT)
      selects[x.shim_call().pid()]++;
  for (const auto& run : rec.runs) EXPECT_EQ(selects[run.pid()], 10) << "run " << run.index();
}

}  // namespace
}  // namespace probe
