// Hardening (issue "Hardening"): the real agent on a full disk and stopped
// by SIGINT/SIGTERM under full load.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/bpf.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <fstream>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "agent_test.h"
#include "counters_check.h"
#include "record_reader.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::ExpectBalanced;
using testing::ParseKeyValues;
using testing::PipedChild;
using testing::ReadRecords;
using testing::ReadToEof;
using testing::Slurp;
using testing::SpawnPiped;

size_t Occurrences(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + 1)) ++n;
  return n;
}

// How a whole read of a file ended.
struct FileCheck {
  std::vector<v1::Record> records;
  ReadStatus status = ReadStatus::kIoError;
  uint64_t offset = 0;
  std::string reason;
};

FileCheck ReadWithStatus(const std::string& path) {
  FileCheck c;
  std::string err;
  auto r = RecordReader::Open(path, &err);
  if (!r) {
    c.reason = err;
    return c;
  }
  v1::Record rec;
  while ((c.status = r->Next(&rec)) == ReadStatus::kRecord) c.records.push_back(rec);
  c.offset = r->offset();
  c.reason = r->reason();
  return c;
}

class HardeningTest : public testing::AgentTest {
 protected:
  void TearDown() override {
    if (!disk_.empty()) {
      if (umount2(disk_.c_str(), MNT_DETACH) != 0)
        ADD_FAILURE() << "umount " << disk_ << ": " << strerror(errno);
    }
    prctl(PR_SET_CHILD_SUBREAPER, 0);
    testing::AgentTest::TearDown();
  }

  // A tmpfs of `size` mounted under the test's directory.
  std::string MountTinyDisk(const std::string& size) {
    std::string d = dir_ + "/disk";
    EXPECT_EQ(mkdir(d.c_str(), 0700), 0);
    std::string opts = "size=" + size;
    if (mount("tmpfs", d.c_str(), "tmpfs", 0, opts.c_str()) != 0) {
      ADD_FAILURE() << "mount tmpfs on " << d << ": " << strerror(errno);
      return "";
    }
    disk_ = d;
    return d;
  }

  std::string disk_;
};

// The agent writing to a 256 KiB disk over a workload of 2M traced calls:
// it stops with an error naming the file, exits non-zero, the file holds
// whole records only, and the workload runs to its end unaffected.
TEST_F(HardeningTest, FullDiskStopsWithErrorAndKeepsFileValid) {
  std::string disk = MountTinyDisk("256k");
  ASSERT_FALSE(disk.empty());
  const std::string out_file = disk + "/run.ptrace";
  const std::string err_file = dir_ + "/agent.err";
  // The agent leaves its launched command running when it stops on a write
  // error: be its subreaper to collect the command's exit status.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  int out[2];
  ASSERT_EQ(pipe(out), 0);
  pid_t agent = fork();
  if (agent == 0) {
    int e = open(err_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(out[1], 1);
    dup2(e, 2);
    close(out[0]);
    execl(PROBE_AGENT, PROBE_AGENT, "-o", out_file.c_str(), "--", PROBE_SYSCALL_BURST, "--events",
          "2000000", "--kind", "poll0", nullptr);
    _exit(127);
  }
  close(out[1]);
  // EOF once both the agent and the workload (which shares the pipe) are gone.
  std::string stdout_text = ReadToEof(out[0]);
  close(out[0]);
  int st = 0;
  ASSERT_EQ(waitpid(agent, &st, 0), agent);
  const std::string err = Slurp(err_file);

  // The agent: non-zero exit, the error once, naming the file and the cause.
  ASSERT_TRUE(WIFEXITED(st)) << err;
  EXPECT_EQ(WEXITSTATUS(st), 1) << err;
  EXPECT_EQ(Occurrences(err, "write to " + out_file + " failed: No space left on device"), 1u)
      << err;
  EXPECT_NE(err.find("stopped: write failed"), std::string::npos) << err;
  // One line says what was lost and that the file is whole up to there.
  EXPECT_EQ(Occurrences(err, "could not be written"), 1u) << err;
  EXPECT_EQ(Occurrences(err, "the file is whole up to its last record"), 1u) << err;
  EXPECT_EQ(err.find("events lost"), std::string::npos) << "no second message for the same loss";

  // The file: whole records only, ending cleanly (the writer cut back the
  // partial flush), a header first and no trailer (there was no room).
  FileCheck f = ReadWithStatus(out_file);
  EXPECT_EQ(f.status, ReadStatus::kEnd) << f.reason;
  struct stat sb;
  ASSERT_EQ(stat(out_file.c_str(), &sb), 0);
  EXPECT_EQ(uint64_t(sb.st_size), f.offset) << "no partial record at the end";
  EXPECT_LE(sb.st_size, 256 * 1024);
  ASSERT_FALSE(f.records.empty());
  EXPECT_TRUE(f.records.front().has_header());
  EXPECT_FALSE(f.records.back().has_trailer());

  // The workload: ran every call and printed its counts.
  auto counts = ParseKeyValues(stdout_text, "burst ");
  ASSERT_FALSE(counts.empty()) << "workload output: " << stdout_text;
  EXPECT_EQ(counts["events"], "2000000");
  EXPECT_EQ(counts["polls"], "2000000");
  pid_t burst = std::stoi(counts["pid"]);
  // Orphaned by the agent, it was reparented to this process. (Had it ended
  // before the agent noticed the full disk, the agent reaped it: ECHILD.)
  int bst = 0;
  pid_t w = waitpid(burst, &bst, 0);
  if (w == burst) {
    EXPECT_TRUE(WIFEXITED(bst) && WEXITSTATUS(bst) == 0) << "workload status " << bst;
  } else {
    EXPECT_EQ(errno, ECHILD);
  }
}

// SIGINT or SIGTERM to an agent attached (--pid) to a workload making
// traced calls as fast as it can: a prompt exit 0, a trailer saying
// "signal", and counters that balance exactly.
class HardeningSignalTest : public HardeningTest {
 protected:
  void StopUnderLoad(int sig) {
    const PipedChild child = SpawnPiped({PROBE_SYSCALL_BURST, "--events", "50000000", "--seconds",
                                         "3", "--kind", "poll0", "--wait"});
    ASSERT_GT(child.pid, 0);
    const pid_t burst = child.pid;
    pid_t agent = fork();
    if (agent == 0) {
      int devnull = open("/dev/null", O_WRONLY);
      dup2(devnull, 1);
      int e = open((dir_ + "/agent.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      dup2(e, 2);
      execl(PROBE_AGENT, PROBE_AGENT, "--pid", std::to_string(burst).c_str(), "-o", file_.c_str(),
            nullptr);
      _exit(127);
    }
    // Attached once the header is written.
    for (int i = 0; i < 500 && ReadRecords(file_).empty(); ++i) usleep(10000);
    bool started = !ReadRecords(file_).empty();
    if (started) {
      ASSERT_EQ(write(child.in, "go\n", 3), 3);
      usleep(1500 * 1000);
    }
    close(child.in);
    auto t0 = std::chrono::steady_clock::now();
    kill(agent, sig);
    int st = 0;
    pid_t w = 0;
    for (int i = 0; i < 1000 && (w = waitpid(agent, &st, WNOHANG)) == 0; ++i) usleep(10000);
    double took = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    if (w == 0) {
      kill(agent, SIGKILL);
      waitpid(agent, &st, 0);
    }
    // The workload goes on to its own end (--seconds 3), untouched.
    std::string stdout_text = ReadToEof(child.out);
    close(child.out);
    int bst = 0;
    waitpid(burst, &bst, 0);
    const std::string err = Slurp(dir_ + "/agent.err");
    ASSERT_TRUE(started) << "agent did not start: " << err;
    ASSERT_EQ(w, agent) << "agent still running 10 s after the signal";
    EXPECT_LT(took, 5.0);
    ASSERT_TRUE(WIFEXITED(st)) << "agent status " << st << ": " << err;
    EXPECT_EQ(WEXITSTATUS(st), 0) << err;
    EXPECT_TRUE(WIFEXITED(bst) && WEXITSTATUS(bst) == 0) << "workload status " << bst;
    auto counts = ParseKeyValues(stdout_text, "burst ");
    EXPECT_FALSE(counts.empty()) << stdout_text;

    FileCheck f = ReadWithStatus(file_);
    EXPECT_EQ(f.status, ReadStatus::kEnd) << f.reason;
    ASSERT_FALSE(f.records.empty());
    ASSERT_TRUE(f.records.back().has_trailer());
    const v1::Trailer& t = f.records.back().trailer();
    EXPECT_EQ(t.stop_reason(), "signal");
    ASSERT_GE(f.records.size(), 2u);
    const v1::Record& last_stats = f.records[f.records.size() - 2];
    ASSERT_TRUE(last_stats.has_stats());
    // Records of each kind in the file, and the process records the agent
    // made itself at the stop for targets still alive ("unfinished").
    uint64_t syscalls = 0, wakeups = 0, processes = 0, unfinished = 0;
    for (const auto& r : f.records) {
      syscalls += r.has_syscall();
      wakeups += r.has_wakeup();
      processes += r.has_process();
      unfinished += r.has_process() && !r.process().finished();
    }
    EXPECT_EQ(unfinished, 1u) << "the workload was still running";
    bool saw_syscall = false;
    for (const auto& c : t.counters()) {
      SCOPED_TRACE(v1::EventKind_Name(c.kind()));
      // The agent's own "unfinished" records count as produced and written.
      if (c.kind() == v1::EVENT_KIND_PROCESS) {
        EXPECT_EQ(c.written(), processes);
      }
      ExpectBalanced(c);
      if (c.kind() == v1::EVENT_KIND_SYSCALL) {
        saw_syscall = true;
        EXPECT_EQ(c.written(), syscalls);
        EXPECT_GT(c.produced(), 100000u) << "under full load";
      }
      if (c.kind() == v1::EVENT_KIND_WAKEUP) {
        EXPECT_EQ(c.written(), wakeups);
      }
    }
    EXPECT_TRUE(saw_syscall);
    // The last stats record holds the trailer's counters.
    ASSERT_EQ(last_stats.stats().counters_size(), t.counters_size());
    for (int i = 0; i < t.counters_size(); ++i) {
      EXPECT_EQ(last_stats.stats().counters(i).SerializeAsString(),
                t.counters(i).SerializeAsString());
    }
  }
};

TEST_F(HardeningSignalTest, SigintUnderFullLoad) { StopUnderLoad(SIGINT); }

TEST_F(HardeningSignalTest, SigtermUnderFullLoad) { StopUnderLoad(SIGTERM); }

// -o names a FIFO whose reader goes away after 1000 bytes: the agent is not
// killed by SIGPIPE (status 141, no word) but stops on the failed write with
// one line naming the file and the cause, and exits 1.
TEST_F(HardeningTest, FifoReaderGoingAwayIsAWriteErrorNotSigpipe) {
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  pid_t reader = fork();
  if (reader == 0) {
    int fd = open(fifo.c_str(), O_RDONLY);
    char buf[1000];
    size_t got = 0;
    while (got < sizeof(buf)) {
      ssize_t n = read(fd, buf, sizeof(buf) - got);
      if (n <= 0) break;
      got += size_t(n);
    }
    _exit(got == sizeof(buf) ? 0 : 1);
  }
  auto r = testing::RunCommand({PROBE_AGENT, "--events", "process,syscalls", "-f", "-o", fifo, "--",
                                PROBE_SYSCALL_BURST, "--events", "3000000", "--kind", "poll0"});
  int st = 0;
  waitpid(reader, &st, 0);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << "the reader got its 1000 bytes";
  EXPECT_EQ(r.exit_status, 1) << r.err;
  EXPECT_NE(r.err.find("write to " + fifo + " failed: Broken pipe"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("stopped: write failed"), std::string::npos) << r.err;
}

// The BPF objects an agent holds, by id, from /proc/PID/fdinfo: "prog_id",
// "map_id" or "link_id".
std::set<uint32_t> BpfIds(pid_t pid, const std::string& key) {
  std::set<uint32_t> ids;
  const std::string dir = "/proc/" + std::to_string(pid) + "/fdinfo";
  DIR* d = opendir(dir.c_str());
  if (!d) return ids;
  while (dirent* e = readdir(d)) {
    std::istringstream info(Slurp(dir + "/" + e->d_name));
    std::string line;
    while (std::getline(info, line))
      if (line.rfind(key + ":", 0) == 0)
        ids.insert(uint32_t(std::stoul(line.substr(key.size() + 1))));
  }
  closedir(d);
  return ids;
}

// Whether the kernel still has a BPF object of that kind and id.
bool BpfObjectExists(int cmd, uint32_t id) {
  union bpf_attr attr {};
  attr.prog_id = id;  // one union: also map_id and link_id
  int fd = int(syscall(SYS_bpf, cmd, &attr, sizeof(attr)));
  if (fd >= 0) close(fd);
  return fd >= 0 || errno != ENOENT;
}

// SIGKILL cannot be caught, so nothing of the agent's own runs: the kernel
// must take back every program, link and map with its last fd. None may be
// left attached (still costing every traced syscall) or allocated.
TEST_F(HardeningTest, SigkillLeavesNoProgramLinkOrMapBehind) {
  pid_t target = fork();
  if (target == 0) {
    execl("/bin/sleep", "sleep", "30", nullptr);
    _exit(127);
  }
  pid_t agent = fork();
  if (agent == 0) {
    int devnull = open("/dev/null", O_WRONLY);
    dup2(devnull, 2);
    execl(PROBE_AGENT, PROBE_AGENT, "--pid", std::to_string(target).c_str(), "-o", file_.c_str(),
          nullptr);
    _exit(127);
  }
  for (int i = 0; i < 500 && ReadRecords(file_).empty(); ++i) usleep(10000);
  const std::set<uint32_t> progs = BpfIds(agent, "prog_id");
  const std::set<uint32_t> maps = BpfIds(agent, "map_id");
  const std::set<uint32_t> links = BpfIds(agent, "link_id");
  auto left = [&] {
    size_t n = 0;
    for (uint32_t id : progs) n += BpfObjectExists(BPF_PROG_GET_FD_BY_ID, id);
    for (uint32_t id : maps) n += BpfObjectExists(BPF_MAP_GET_FD_BY_ID, id);
    for (uint32_t id : links) n += BpfObjectExists(BPF_LINK_GET_FD_BY_ID, id);
    return n;
  };
  EXPECT_EQ(left(), progs.size() + maps.size() + links.size()) << "all found while it runs";
  kill(agent, SIGKILL);
  waitpid(agent, nullptr, 0);
  kill(target, SIGKILL);
  waitpid(target, nullptr, 0);
  // Attached with every family: the 8 programs, 7 of them through a link
  // (the eighth is run by the agent, not attached), and the maps (targets,
  // counters, rings, histograms, ...).
  EXPECT_GE(progs.size(), 8u);
  EXPECT_GE(links.size(), 7u);
  EXPECT_GE(maps.size(), 8u);
  // Freed after an RCU grace period: give it up to 5 s.
  size_t remaining = left();
  for (int i = 0; i < 500 && remaining > 0; ++i) {
    usleep(10000);
    remaining = left();
  }
  EXPECT_EQ(remaining, 0u) << "BPF objects of the killed agent still in the kernel";
}

}  // namespace
}  // namespace probe
