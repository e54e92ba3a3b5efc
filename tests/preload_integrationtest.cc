// The LD_PRELOAD shim with the real agent and kernel: markers and wrapped
// calls on the kernel's timeline, errno untouched, fork/thread storms, the
// shim's own file, --pid pickup, a hostile region, and what it exports.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>

#include "agent_test.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::ParseKeyValues;
using testing::ReadRecords;
using testing::RunCommand;

constexpr int kDelayMs = 5;
constexpr int kIterations = 20;

long Num(const std::map<std::string, std::string>& m, const std::string& key) {
  auto it = m.find(key);
  return it == m.end() ? -1 : std::stol(it->second);
}

double Median(std::vector<double> v) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

struct Timeline {
  std::vector<v1::ShimCall> shim;
  std::vector<v1::Marker> markers;
  std::vector<v1::SyscallCall> kernel;
  std::optional<v1::Trailer> trailer_copy;
  const v1::Trailer* trailer = nullptr;  // into trailer_copy, or null
};

// Returned through a pointer so trailer can point into the copy it owns.
std::unique_ptr<Timeline> SplitRecords(const std::vector<v1::Record>& records) {
  auto t = std::make_unique<Timeline>();
  for (const auto& r : records) {
    if (r.has_shim_call()) t->shim.push_back(r.shim_call());
    if (r.has_marker()) t->markers.push_back(r.marker());
    if (r.has_syscall()) t->kernel.push_back(r.syscall());
    if (r.has_trailer()) t->trailer_copy = r.trailer();
  }
  if (t->trailer_copy) t->trailer = &*t->trailer_copy;
  return t;
}

const v1::KindCounters* ShimCounters(const v1::Trailer* t) {
  if (!t) return nullptr;
  for (const auto& c : t->counters())
    if (c.kind() == v1::EVENT_KIND_SHIM) return &c;
  return nullptr;
}

int CountShim(const Timeline& t, int pid, v1::ShimFunction f) {
  return static_cast<int>(std::count_if(t.shim.begin(), t.shim.end(), [&](const auto& c) {
    return c.pid() == pid && c.function() == f;
  }));
}

class PreloadTest : public testing::AgentTest {
 protected:
  // What a select workload (C or Python) must show: marker spans of about
  // D, each select's user-space span around the kernel's pselect6, and the
  // workload's own counts.
  void CheckSelectTimeline(const std::map<std::string, std::string>& counts) {
    auto records = ReadRecords(file_);
    ASSERT_FALSE(records.empty());
    auto owned = SplitRecords(records);
    const Timeline& t = *owned;
    const int pid = static_cast<int>(Num(counts, "pid"));
    const int main_tid = static_cast<int>(Num(counts, "main_tid"));
    ASSERT_GT(pid, 0) << "workload printed no pid";

    EXPECT_EQ(CountShim(t, pid, v1::SHIM_SELECT), Num(counts, "selects"));
    EXPECT_EQ(CountShim(t, pid, v1::SHIM_EVENTFD_READ), Num(counts, "eventfd_reads"));
    EXPECT_EQ(CountShim(t, pid, v1::SHIM_EVENTFD_WRITE), Num(counts, "eventfd_writes"));

    // BEGIN/END "wait" spans: one per iteration, each about D (the select).
    std::map<int64_t, uint64_t> begins;
    std::vector<double> span_ms;
    int before = 0, after = 0;
    for (const auto& m : t.markers) {
      EXPECT_EQ(m.pid(), pid);
      EXPECT_EQ(m.tid(), main_tid);
      if (m.name() == "BEFORE_SELECT") ++before;
      if (m.name() == "AFTER_SELECT") ++after;
      if (m.name() != "wait") continue;
      if (m.type() == v1::MARKER_BEGIN) begins[m.arg0()] = m.time_ns();
      if (m.type() == v1::MARKER_END && begins.count(m.arg0()))
        span_ms.push_back((m.time_ns() - begins[m.arg0()]) / 1e6);
    }
    EXPECT_EQ(before, Num(counts, "iterations"));
    EXPECT_EQ(after, Num(counts, "iterations"));
    ASSERT_EQ(static_cast<long>(span_ms.size()), Num(counts, "iterations"));
    EXPECT_NEAR(Median(span_ms), kDelayMs, kDelayMs * 0.2);

    // One timeline: every shim select holds the kernel pselect6 of its
    // thread, entry <= kernel entry <= kernel exit <= exit.
    int matched = 0;
    for (const auto& s : t.shim) {
      if (s.function() != v1::SHIM_SELECT) continue;
      const uint64_t s_end = s.entry_ns() + s.duration_ns();
      int inside = 0;
      for (const auto& k : t.kernel) {
        if (k.tid() != s.tid() || k.syscall() != v1::SYSCALL_PSELECT6) continue;
        const uint64_t k_end = k.start_time_ns() + k.duration_ns();
        if (k.start_time_ns() + k.duration_ns() / 2 < s.entry_ns() || k.start_time_ns() > s_end)
          continue;  // another call
        ++inside;
        EXPECT_LE(s.entry_ns(), k.start_time_ns()) << "shim entry after kernel entry";
        EXPECT_LE(k_end, s_end) << "kernel exit after shim exit";
        EXPECT_GE(s.duration_ns(), k.duration_ns());
      }
      EXPECT_EQ(inside, 1) << "select at " << s.entry_ns() << " holds " << inside
                           << " kernel pselect6";
      matched += inside == 1;
    }
    EXPECT_EQ(matched, Num(counts, "selects"));

    // And the report computes the overhead from the same file.
    auto report = RunCommand({PROBE_REPORT, file_});
    EXPECT_EQ(report.exit_status, 0) << report.err;
    EXPECT_NE(report.out.find("wrapped calls vs kernel syscalls"), std::string::npos);
    EXPECT_NE(report.out.find("BEFORE_SELECT..AFTER_SELECT"), std::string::npos);

    const v1::KindCounters* c = ShimCounters(t.trailer);
    ASSERT_NE(c, nullptr) << "no shim counters in the trailer";
    EXPECT_EQ(c->produced(), c->written());
    EXPECT_EQ(c->written(), t.shim.size() + t.markers.size());
  }
};

TEST_F(PreloadTest, CWorkloadMarkersAndSelectOnOneTimeline) {
  auto r = RunCommand({PROBE_AGENT, "--preload", "-o", file_, "--", PROBE_SHIM_SELECT,
                       std::to_string(kDelayMs), std::to_string(kIterations)});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  CheckSelectTimeline(ParseKeyValues(r.out, "shim_select "));
}

TEST_F(PreloadTest, PythonWorkloadMarkersAndSelectOnOneTimeline) {
  auto r =
      RunCommand({PROBE_AGENT, "--preload", "-o", file_, "--", "env",
                  std::string("PROBE_PYTHON_DIR=") + PROBE_PYTHON_DIR, "python3",
                  PROBE_SHIM_SELECT_PY, std::to_string(kDelayMs), std::to_string(kIterations)});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  CheckSelectTimeline(ParseKeyValues(r.out, "shim_select_py "));
}

TEST_F(PreloadTest, ErrnoResultsAndSignalMaskUnchanged) {
  auto bare = RunCommand({PROBE_SHIM_ERRNO});
  ASSERT_EQ(bare.exit_status, 0) << bare.err;
  ASSERT_NE(bare.out.find("errno=EINTR"), std::string::npos) << bare.out;
  auto preloaded =
      RunCommand({"env", std::string("LD_PRELOAD=") + PROBE_PRELOAD_LIB, PROBE_SHIM_ERRNO});
  EXPECT_EQ(preloaded.out, bare.out);
  auto traced = RunCommand({PROBE_AGENT, "--preload", "-o", file_, "--", PROBE_SHIM_ERRNO});
  EXPECT_EQ(traced.exit_status, 0) << traced.err;
  EXPECT_EQ(traced.out, bare.out);
  // The failing calls were recorded with the errno the caller saw.
  auto owned = SplitRecords(ReadRecords(file_));
  const Timeline& t = *owned;
  std::set<uint32_t> errors;
  for (const auto& c : t.shim)
    if (c.result() < 0) errors.insert(c.error());
  EXPECT_TRUE(errors.count(EBADF));
  EXPECT_TRUE(errors.count(EINTR));
  EXPECT_TRUE(errors.count(EAGAIN));
  EXPECT_TRUE(errors.count(EINVAL));
}

// Every process's calls under its own pid, none lost, however it was made
// (threads, fork with exit or _exit, exec of itself, vfork, posix_spawn).
TEST_F(PreloadTest, ForkAndThreadStormCountsPerProcess) {
  auto r = RunCommand({PROBE_AGENT, "--preload", "--events", "process", "-o", file_, "--",
                       PROBE_SHIM_STORM, "200", "64", "50"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  ASSERT_NE(r.out.find("storm_done"), std::string::npos);
  std::map<int, long> expected;
  std::istringstream lines(r.out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind("storm pid=", 0) != 0) continue;
    auto kv = ParseKeyValues(line, "storm ");
    expected[static_cast<int>(Num(kv, "pid"))] = Num(kv, "eventfd_writes");
  }
  ASSERT_GE(expected.size(), 66u);  // parent, 64 children, the exec'd child
  auto owned = SplitRecords(ReadRecords(file_));
  const Timeline& t = *owned;
  std::map<int, long> writes, reads;
  for (const auto& c : t.shim) {
    if (c.function() == v1::SHIM_EVENTFD_WRITE) ++writes[c.pid()];
    if (c.function() == v1::SHIM_EVENTFD_READ) ++reads[c.pid()];
  }
  for (const auto& [pid, n] : expected) {
    EXPECT_EQ(writes[pid], n) << "pid " << pid;
    EXPECT_EQ(reads[pid], n) << "pid " << pid;
  }
  EXPECT_EQ(writes.size(), expected.size()) << "records under a pid that made none";
  const v1::KindCounters* c = ShimCounters(t.trailer);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->produced(), c->written());
  EXPECT_EQ(c->rejected(), 0u);
}

// No agent: PROBE_OUTPUT makes the shim write a record file probe-report reads.
TEST_F(PreloadTest, ShimWritesItsOwnFileWithoutTheAgent) {
  auto r = RunCommand({"env", std::string("LD_PRELOAD=") + PROBE_PRELOAD_LIB,
                       "PROBE_OUTPUT=" + file_, PROBE_SHIM_SELECT, "2", "10"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto counts = ParseKeyValues(r.out, "shim_select ");
  auto records = ReadRecords(file_);
  ASSERT_FALSE(records.empty());
  ASSERT_TRUE(records.front().has_header());
  EXPECT_TRUE(records.front().header().shim_only());
  ASSERT_TRUE(records.back().has_trailer()) << "the process exited through exit()";
  auto owned = SplitRecords(records);
  const Timeline& t = *owned;
  const int pid = static_cast<int>(Num(counts, "pid"));
  EXPECT_EQ(CountShim(t, pid, v1::SHIM_SELECT), 10);
  EXPECT_EQ(CountShim(t, pid, v1::SHIM_EVENTFD_WRITE), 10);
  EXPECT_EQ(t.markers.size(), 40u);
  ASSERT_EQ(t.trailer->shim_size(), 1);
  EXPECT_EQ(t.trailer->shim(0).produced(), t.trailer->shim(0).written());
  EXPECT_EQ(t.trailer->shim(0).written(), t.shim.size() + t.markers.size());
  auto report = RunCommand({PROBE_REPORT, file_});
  EXPECT_EQ(report.exit_status, 0) << report.err;
  EXPECT_NE(report.out.find("BEFORE_SELECT..AFTER_SELECT"), std::string::npos) << report.out;
}

// A host that closes every fd and dup2()s its own file over fds 3..1023:
// the shim's records go on into its own file, never into the host's, with
// the agent and without it.
TEST_F(PreloadTest, HostClosingAndReusingFdsKeepsRecordsApart) {
  const std::string host_file = dir_ + "/host.txt";
  for (bool agent : {false, true}) {
    SCOPED_TRACE(agent ? "with the agent" : "PROBE_OUTPUT");
    unlink(file_.c_str());
    std::vector<std::string> argv =
        agent ? std::vector<std::string>{PROBE_AGENT, "--preload", "--events", "process",
                                         "-o",        file_,       "--",       PROBE_SHIM_CLOSEFDS,
                                         host_file}
              : std::vector<std::string>{"env", std::string("LD_PRELOAD=") + PROBE_PRELOAD_LIB,
                                         "PROBE_OUTPUT=" + file_, PROBE_SHIM_CLOSEFDS, host_file};
    auto r = RunCommand(argv);
    ASSERT_EQ(r.exit_status, 0) << r.err;
    auto counts = ParseKeyValues(r.out, "shim_closefds ");
    EXPECT_EQ(Num(counts, "host_bytes"), 10);
    struct stat st {};
    ASSERT_EQ(stat(host_file.c_str(), &st), 0);
    EXPECT_EQ(st.st_size, 10) << "the host's file got bytes it did not write (after exit too)";
    auto owned = SplitRecords(ReadRecords(file_));
    const int pid = static_cast<int>(Num(counts, "pid"));
    EXPECT_EQ(CountShim(*owned, pid, v1::SHIM_EVENTFD_WRITE), Num(counts, "eventfd_writes"));
  }
}

// PROBE_SAMPLE=4 keeps every 4th call per thread; markers are never sampled.
TEST_F(PreloadTest, SamplingKeepsOneInNAndCountsTheRest) {
  auto r = RunCommand({PROBE_AGENT, "--preload", "--events", "process", "-o", file_, "--", "env",
                       "PROBE_SAMPLE=4", PROBE_SHIM_SELECT, "1", "40"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto owned = SplitRecords(ReadRecords(file_));
  const Timeline& t = *owned;
  EXPECT_EQ(t.markers.size(), 160u);
  // main: eventfd + 40 selects + 40 reads = 81 calls -> 21 kept; writer: 40 -> 10.
  EXPECT_EQ(t.shim.size(), 31u);
  const v1::KindCounters* c = ShimCounters(t.trailer);
  ASSERT_NE(c, nullptr);
  EXPECT_EQ(c->sampled_out(), 121u - 31u);
  EXPECT_EQ(c->produced(), c->written() + c->sampled_out());
}

// --pid picks up a shim loaded by hand; a hostile region next to it is
// refused or counted, never crashes the agent, and the honest one is served.
TEST_F(PreloadTest, PidPickupAndHostileRegion) {
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  auto spawn = [&](std::vector<std::string> argv) {
    pid_t pid = fork();
    if (pid == 0) {
      dup2(out[1], 1);
      std::vector<char*> args;
      for (auto& a : argv) args.push_back(a.data());
      args.push_back(nullptr);
      execvp(args[0], args.data());
      _exit(127);
    }
    return pid;
  };
  pid_t honest = spawn(
      {"env", std::string("LD_PRELOAD=") + PROBE_PRELOAD_LIB, PROBE_SHIM_SELECT, "20", "100"});
  pid_t hostile = spawn({PROBE_SHIM_HOSTILE, "2.5"});
  close(out[1]);
  auto r = RunCommand({PROBE_AGENT, "--events", "process,syscalls", "-o", file_, "--pid",
                       std::to_string(honest), "--pid", std::to_string(hostile)});
  int st;
  waitpid(honest, &st, 0);
  waitpid(hostile, &st, 0);
  std::string text;
  char buf[4096];
  ssize_t n;
  while ((n = read(out[0], buf, sizeof(buf))) > 0) text.append(buf, size_t(n));
  close(out[0]);
  EXPECT_EQ(r.exit_status, 0) << r.err;
  auto counts = ParseKeyValues(text, "shim_select ");
  auto owned = SplitRecords(ReadRecords(file_));
  const Timeline& t = *owned;
  // Picked up within a second of start, before its 4096-event rings filled:
  // every call since the process started is there.
  EXPECT_EQ(CountShim(t, honest, v1::SHIM_SELECT), Num(counts, "selects")) << r.err;
  const v1::KindCounters* c = ShimCounters(t.trailer);
  ASSERT_NE(c, nullptr);
  EXPECT_GT(c->rejected(), 0u) << "the hostile writer's garbage was not noticed";
  // Mapped and drained (not only refused): its garbage events were rejected.
  uint64_t hostile_rejected = 0;
  for (const auto& p : t.trailer->shim())
    if (p.pid() == hostile) hostile_rejected = p.rejected();
  EXPECT_GT(hostile_rejected, 0u) << r.err;
  for (const auto& s : t.shim) EXPECT_EQ(s.pid(), honest) << "a hostile record got through";
  for (const auto& m : t.markers) EXPECT_EQ(m.pid(), honest);
}

TEST_F(PreloadTest, StaticBinaryIsReportedNotSilentlyIgnored) {
  auto r = RunCommand({PROBE_AGENT, "--preload", "-o", file_, "--", PROBE_STATIC_TRUE});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.err.find("statically linked"), std::string::npos) << r.err;
}

// The shim exports the functions it wraps and its marker API, nothing else.
TEST(PreloadLibrary, ExportsOnlyTheAllowedSymbols) {
  auto r = RunCommand({"nm", "-D", "--defined-only", PROBE_PRELOAD_LIB});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const std::set<std::string> allowed = {
      "select",     "pselect",     "poll",         "__poll_chk",   "ppoll",        "__ppoll_chk",
      "epoll_wait", "epoll_pwait", "epoll_pwait2", "eventfd",      "eventfd_read", "eventfd_write",
      "read",       "__read_chk",  "write",        "close",        "dup",          "dup2",
      "dup3",       "close_range", "probe_name",   "probe_marker", "syscall",      "prctl"};
  std::istringstream lines(r.out);
  std::string addr, type, name;
  std::set<std::string> seen;
  while (lines >> addr >> type >> name) {
    seen.insert(name);
    EXPECT_TRUE(allowed.count(name)) << "exports " << name;
  }
  EXPECT_EQ(seen, allowed);
  auto deps =
      RunCommand({"sh", "-c", std::string("objdump -p ") + PROBE_PRELOAD_LIB + " | grep NEEDED"});
  EXPECT_EQ(deps.out.find("libstdc++"), std::string::npos) << deps.out;
}

}  // namespace
}  // namespace probe
