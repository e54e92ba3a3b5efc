// The LD_PRELOAD shim inside hosts that fight back (issue 17): seccomp
// sandboxes, RLIMIT_AS and RLIMIT_NOFILE, pid namespaces, children that
// _exit, a PROBE_OUTPUT path that is a symlink or an existing file, and
// bytes in argv that are not UTF-8. Real agent, real kernel, real hosts.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "agent_test.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::ParseKeyValues;
using testing::ReadRecords;
using testing::RunCommand;
using testing::Slurp;

long Num(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? -1 : std::stol(it->second);
}

std::string Preload() { return std::string("LD_PRELOAD=") + PROBE_PRELOAD_LIB; }

// Wrapped calls of function f per pid.
std::map<int, long> CallsByPid(const std::vector<v1::Record>& records, v1::ShimFunction f) {
  std::map<int, long> out;
  for (const auto& r : records)
    if (r.has_shim_call() && r.shim_call().function() == f) ++out[r.shim_call().pid()];
  return out;
}

// The last ShimProcess of each pid (Stats, then the Trailer), as the report
// reads them.
std::map<int, v1::ShimProcess> LastShimProcesses(const std::vector<v1::Record>& records) {
  std::map<int, v1::ShimProcess> out;
  for (const auto& r : records) {
    if (r.has_stats())
      for (const auto& p : r.stats().shim()) out[p.pid()] = p;
    if (r.has_trailer())
      for (const auto& p : r.trailer().shim()) out[p.pid()] = p;
  }
  return out;
}

// The first line of out that holds needle ("" if none).
std::string LineWith(const std::string& out, const std::string& needle) {
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line))
    if (line.find(needle) != std::string::npos) return line;
  return "";
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

class PreloadHostsTest : public testing::AgentTest {};

// Item 2: children that leave through _exit() or exit(): every call in the
// file under its pid, and each process's counters add up.
TEST_F(PreloadHostsTest, SelfWrittenFileKeepsEveryForkedChildsEvents) {
  for (const char* how : {"_exit", "exit"}) {
    SCOPED_TRACE(how);
    unlink(file_.c_str());
    auto r = RunCommand(
        {"env", Preload(), "PROBE_OUTPUT=" + file_, PROBE_SHIM_CONFINED, "fork", "20", "10", how});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(Num(ParseKeyValues(r.out, "shim_confined "), "reaped"), 20);
    std::set<int> children;
    std::istringstream lines(r.out);
    std::string line;
    while (std::getline(lines, line))
      if (line.rfind("shim_confined_child ", 0) == 0)
        children.insert(static_cast<int>(Num(ParseKeyValues(line, "shim_confined_child "), "pid")));
    ASSERT_EQ(children.size(), 20u);
    auto records = ReadRecords(file_);
    ASSERT_FALSE(records.empty());
    ASSERT_TRUE(records.back().has_trailer()) << "the file does not end in the trailer";
    auto writes = CallsByPid(records, v1::SHIM_EVENTFD_WRITE);
    long total = 0;
    for (int pid : children) {
      EXPECT_EQ(writes[pid], 10) << "child " << pid;
      total += writes[pid];
    }
    EXPECT_EQ(total, 200);
    uint64_t in_file = 0;
    for (const auto& rec : records) in_file += rec.has_shim_call() || rec.has_marker();
    uint64_t written = 0;
    for (const auto& [pid, p] : LastShimProcesses(records)) {
      EXPECT_LE(p.written(), p.produced()) << "pid " << pid;
      EXPECT_EQ(p.produced(), p.written() + p.sampled_out() + p.lost_buffer_full() +
                                  p.lost_no_buffer() + p.lost_write())
          << "pid " << pid;
      written += p.written();
    }
    EXPECT_EQ(written, in_file) << "the counters do not add up to the records in the file";
  }
}

// Item 3: a host that forbids memfd_create and socket after start-up lives,
// and so do its fork child and a program it execs; its calls are recorded,
// with the agent and without it.
TEST_F(PreloadHostsTest, SeccompSandboxedHostSurvivesAndIsRecorded) {
  for (const char* how : {"kill", "errno"}) {
    for (const char* mode : {"ld_preload", "output", "agent"}) {
      SCOPED_TRACE(std::string(how) + " " + mode);
      unlink(file_.c_str());
      std::vector<std::string> argv;
      if (std::string(mode) == "ld_preload")
        argv = {"env", Preload(), PROBE_SHIM_CONFINED, "seccomp", how};
      else if (std::string(mode) == "output")
        argv = {"env", Preload(), "PROBE_OUTPUT=" + file_, PROBE_SHIM_CONFINED, "seccomp", how};
      else
        argv = {PROBE_AGENT, "--preload", "--events",          "process", "-o",
                file_,       "--",        PROBE_SHIM_CONFINED, "seccomp", how};
      auto r = RunCommand(argv);
      ASSERT_EQ(r.exit_status, 0) << r.err;
      // The host's line, not its exec'd child's.
      auto counts = ParseKeyValues(LineWith(r.out, " polls="), "shim_confined ");
      EXPECT_EQ(Num(counts, "polls"), 10) << r.out;
      EXPECT_EQ(Num(counts, "forked"), 0) << "the fork child of a sandboxed host died";
      EXPECT_EQ(Num(counts, "execed"), 0) << "a program a sandboxed host exec'd died";
      if (std::string(mode) == "ld_preload") continue;
      EXPECT_EQ(r.err.find("no process loaded the shim"), std::string::npos) << r.err;
      auto records = ReadRecords(file_);
      const int pid = static_cast<int>(Num(counts, "pid"));
      EXPECT_EQ(CallsByPid(records, v1::SHIM_POLL)[pid], 10);
      EXPECT_EQ(CallsByPid(records, v1::SHIM_EVENTFD_WRITE)[pid], 10);
      // The fork child's 10 writes: with PROBE_OUTPUT in the file (it shares
      // the host's region); under the agent it made no region after the
      // filter, and they are counted lost for want of a buffer.
      long child_writes = 0;
      for (const auto& [p, n] : CallsByPid(records, v1::SHIM_EVENTFD_WRITE))
        if (p != pid) child_writes += n;
      if (std::string(mode) == "output") {
        EXPECT_EQ(child_writes, 10);
      } else {
        for (const auto& rec : records)
          if (rec.has_trailer())
            for (const auto& c : rec.trailer().counters())
              if (c.kind() == v1::EVENT_KIND_SHIM) {
                EXPECT_GE(c.lost_no_buffer(), 10u);
                EXPECT_EQ(c.produced(), c.written() + c.sampled_out() + c.lost_buffer_full() +
                                            c.lost_no_buffer() + c.lost_write());
              }
      }
    }
  }
}

// Item 4: under RLIMIT_AS the shim leaves the host its memory.
TEST_F(PreloadHostsTest, HostUnderAddressSpaceLimitGetsItsMemory) {
  const std::string cmd = std::string("ulimit -v 220000; exec env ") + Preload() + " " +
                          PROBE_SHIM_CONFINED + " malloc 150";
  auto r = RunCommand({"sh", "-c", cmd});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(Num(ParseKeyValues(r.out, "shim_confined "), "malloc_ok"), 1) << r.out;
}

// Item 5: with RLIMIT_NOFILE 5, the shim's file takes none of the fds the
// host would have got. With a hard limit above the soft one the shim holds
// its fd above the soft limit, and the file is whole; with both at 5 it
// holds none and writes when it can get one (here the header and the first
// call, not the trailer: the host holds every fd at exit).
TEST_F(PreloadHostsTest, HostUnderFdLimitKeepsItsFds) {
  for (const char* limit : {"-Sn 5", "-n 5"}) {
    SCOPED_TRACE(limit);
    unlink(file_.c_str());
    // RunCommand's child holds the fds of its output files: closed first.
    const std::string cmd = std::string("exec 3>&- 4>&- 5>&- 6>&- 7>&- 8>&- 9>&-; ulimit ") +
                            limit + "; exec env " + Preload() + " PROBE_OUTPUT=" + file_ + " " +
                            PROBE_SHIM_CONFINED + " open 2";
    auto r = RunCommand({"sh", "-c", cmd});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    auto counts = ParseKeyValues(r.out, "shim_confined ");
    EXPECT_EQ(Num(counts, "opened"), 2) << r.out;
    auto records = ReadRecords(file_);
    ASSERT_FALSE(records.empty());
    EXPECT_TRUE(records.front().has_header());
    EXPECT_EQ(CallsByPid(records, v1::SHIM_POLL)[static_cast<int>(Num(counts, "pid"))], 1);
    if (std::string(limit) == "-Sn 5") {
      EXPECT_TRUE(records.back().has_trailer());
    }
  }
}

// Item 6: --preload around a pid namespace: the regions of processes that
// know themselves by other pids than the agent's are taken, and their
// records carry the agent's pids.
TEST_F(PreloadHostsTest, PidNamespaceRegionsAreAccepted) {
  auto r = RunCommand({PROBE_AGENT, "--preload", "--events", "process", "-o", file_, "--",
                       "unshare", "--pid", "--fork", "--mount-proc", PROBE_SHIM_CONFINED, "fork",
                       "3", "10", "exit"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(Num(ParseKeyValues(r.out, "shim_confined "), "pid"), 1)
      << "not in a new pid namespace: " << r.out;
  EXPECT_EQ(r.err.find("region belongs to pid"), std::string::npos) << r.err;
  auto records = ReadRecords(file_);
  auto writes = CallsByPid(records, v1::SHIM_EVENTFD_WRITE);
  ASSERT_EQ(writes.size(), 3u) << r.err;
  std::set<int> launched;
  for (const auto& rec : records)
    if (rec.has_process()) launched.insert(rec.process().pid());
  for (const auto& [pid, n] : writes) {
    EXPECT_EQ(n, 10) << "pid " << pid;
    EXPECT_GT(pid, 4) << "the namespace's pid, not the agent's";
    EXPECT_TRUE(launched.count(pid)) << "records under pid " << pid << " the agent never saw";
  }
  for (const auto& rec : records)
    if (rec.has_trailer())
      for (const auto& c : rec.trailer().counters())
        if (c.kind() == v1::EVENT_KIND_SHIM) {
          EXPECT_EQ(c.rejected(), 0u);
          EXPECT_EQ(c.produced(), c.written());
        }
}

// Item 7: PROBE_OUTPUT never follows a symlink, never truncates what is
// there unless PROBE_OUTPUT_FORCE=1 (which replaces a regular file, never a
// link), and creates the file 0600.
TEST_F(PreloadHostsTest, SelfWrittenFileFollowsTheAgentsRules) {
  const std::string victim = dir_ + "/victim";
  auto run = [&](std::vector<std::string> env) {
    std::vector<std::string> argv = {"env", Preload(), "PROBE_OUTPUT=" + file_};
    argv.insert(argv.end(), env.begin(), env.end());
    argv.insert(argv.end(), {PROBE_SHIM_CONFINED, "open", "1"});
    return RunCommand(argv);
  };
  WriteFile(victim, "precious\n");
  ASSERT_EQ(symlink(victim.c_str(), file_.c_str()), 0);
  for (const char* force : {"PROBE_OUTPUT_FORCE=0", "PROBE_OUTPUT_FORCE=1"}) {
    SCOPED_TRACE(force);
    auto r = run({force});
    EXPECT_EQ(r.exit_status, 0) << r.err;
    EXPECT_EQ(Num(ParseKeyValues(r.out, "shim_confined "), "opened"), 1);
    EXPECT_EQ(Slurp(victim), "precious\n") << "wrote through the symlink";
    EXPECT_NE(r.err.find("PROBE_OUTPUT"), std::string::npos) << "no word about it: " << r.err;
  }
  unlink(file_.c_str());
  WriteFile(file_, "precious\n");
  auto kept = run({});
  EXPECT_EQ(kept.exit_status, 0);
  EXPECT_EQ(Slurp(file_), "precious\n") << "truncated an existing file";
  EXPECT_NE(kept.err.find("PROBE_OUTPUT"), std::string::npos) << kept.err;
  auto forced = run({"PROBE_OUTPUT_FORCE=1"});
  EXPECT_EQ(forced.exit_status, 0) << forced.err;
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  EXPECT_TRUE(records.front().has_header());
  unlink(file_.c_str());
  auto fresh = RunCommand({"sh", "-c",
                           "umask 022; exec env " + Preload() + " PROBE_OUTPUT=" + file_ + " " +
                               PROBE_SHIM_CONFINED + " open 1"});
  EXPECT_EQ(fresh.exit_status, 0) << fresh.err;
  struct stat st {};
  ASSERT_EQ(lstat(file_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
}

// Item 1, the shim's part: bytes that are not UTF-8 in the command line do
// not make a record that fails to parse, and are kept exact (command_line
// is bytes).
TEST_F(PreloadHostsTest, SelfWrittenFileParsesWithNonUtf8CommandLine) {
  auto r = RunCommand(
      {"env", Preload(), "PROBE_OUTPUT=" + file_, PROBE_SHIM_CONFINED, "open", "1", "\xff\xfe"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty()) << "the header did not parse";
  ASSERT_TRUE(records.front().has_header());
  const auto& argv = records.front().header().command_line();
  ASSERT_FALSE(argv.empty());
  EXPECT_EQ(argv[argv.size() - 1], "\xff\xfe");
  EXPECT_TRUE(records.back().has_trailer()) << "a record after the header did not parse";
  auto report = RunCommand({PROBE_REPORT, file_});
  EXPECT_EQ(report.exit_status, 0) << report.err;
}

// Item 1: a marker name that is not UTF-8 (nor printable) comes out exact,
// written by the shim and by the agent (Marker.name is bytes).
TEST_F(PreloadHostsTest, MarkerNameBytesAreKeptExact) {
  const std::string name = "m\xff\xfe\x1b[31m";
  const std::string py =
      "import ctypes\n"
      "l = ctypes.CDLL(None)\n"
      "l.probe_name.restype = ctypes.c_uint32\n"
      "i = l.probe_name(b'm\\xff\\xfe\\x1b[31m')\n"
      "l.probe_marker(ctypes.c_uint32(0), ctypes.c_uint32(i), ctypes.c_int64(1), "
      "ctypes.c_int64(2))\n";
  for (bool agent : {false, true}) {
    SCOPED_TRACE(agent ? "agent" : "PROBE_OUTPUT");
    unlink(file_.c_str());
    auto r = agent ? RunCommand({PROBE_AGENT, "--preload", "--events", "process", "-o", file_, "--",
                                 "python3", "-c", py})
                   : RunCommand({"env", Preload(), "PROBE_OUTPUT=" + file_, "python3", "-c", py});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    std::vector<std::string> names;
    for (const auto& rec : ReadRecords(file_))
      if (rec.has_marker()) names.push_back(rec.marker().name());
    ASSERT_EQ(names.size(), 1u) << r.err;
    EXPECT_EQ(names[0], name);
  }
}

}  // namespace
}  // namespace probe
