// --rotate and --keep with the real agent and kernel (issue 22): the files of
// one rotated run hold together exactly what the workload did, each parses
// on its own, --keep removes only what the run created, and SIGKILL costs at
// most the open file's last second.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "agent_test.h"
#include "counters_check.h"
#include "real_programs.h"
#include "record_reader.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::ExpectBalanced;
using testing::ParseKeyValues;
using testing::RunCommand;
using testing::Slurp;

uint64_t MonotonicNow() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

struct FileRead {
  std::string name;
  std::vector<v1::Record> records;
  ReadStatus status = ReadStatus::kIoError;
  std::string reason;
  const v1::Header& header() const { return records.front().header(); }
  bool has_trailer() const { return !records.empty() && records.back().has_trailer(); }
  const v1::Trailer& trailer() const { return records.back().trailer(); }
};

FileRead ReadFile(const std::string& dir, const std::string& name) {
  FileRead f;
  f.name = name;
  std::string err;
  auto r = RecordReader::Open(dir + "/" + name, &err);
  if (!r) {
    f.reason = err;
    return f;
  }
  v1::Record rec;
  while ((f.status = r->Next(&rec)) == ReadStatus::kRecord) f.records.push_back(rec);
  f.reason = r->reason();
  return f;
}

// Names in dir that are "<base>.NNNNNN" (closed files), or with the
// ".part" suffix (the open file), sorted.
std::vector<std::string> Names(const std::string& dir, const std::string& base, bool part) {
  std::vector<std::string> out;
  DIR* d = opendir(dir.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    std::string n = e->d_name;
    if (n.rfind(base + ".", 0) != 0) continue;
    std::string rest = n.substr(base.size() + 1);
    if (part) {
      if (rest.size() < 5 || rest.compare(rest.size() - 5, 5, ".part") != 0) continue;
      rest.resize(rest.size() - 5);
    }
    if (rest.size() != 6 || !std::all_of(rest.begin(), rest.end(), ::isdigit)) continue;
    out.push_back(n);
  }
  closedir(d);
  std::sort(out.begin(), out.end());
  return out;
}

void WriteFile(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

// The last histogram record of each (pid, syscall) in one file: that file's
// period, cumulative within the file.
std::map<std::pair<int, int>, v1::SyscallHistogram> LastHistograms(const FileRead& f) {
  std::map<std::pair<int, int>, v1::SyscallHistogram> last;
  for (const auto& r : f.records)
    if (r.has_syscall_histogram())
      last[{r.syscall_histogram().pid(), int(r.syscall_histogram().syscall())}] =
          r.syscall_histogram();
  return last;
}

class RotationTest : public testing::AgentTest {
 protected:
  void TearDown() override {
    if (!disk_.empty()) umount2(disk_.c_str(), MNT_DETACH);
    AgentTest::TearDown();
  }
  // 2M calls at full speed into files of 1 MiB, checked file by file.
  void BurstIntoMegabyteFiles(const std::vector<std::string>& agent_options);
  std::string disk_;
};

// 2M calls at full speed into files of 1 MiB: at least 5 files, sequences
// 1..n of one run id, each a whole recording (header, trailer, balanced
// counters) that probe-report reads on its own; together they hold exactly
// what the workload made: every call counted once, histograms summing to
// the workload's own count, records + losses = calls.
void RotationTest::BurstIntoMegabyteFiles(const std::vector<std::string>& agent_options) {
  WriteFile(dir_ + "/run.ptrace.000000", "not ours\n");
  std::vector<std::string> argv = {PROBE_AGENT,        "-o",       file_, "--events",
                                   "process,syscalls", "--rotate", "1M"};
  argv.insert(argv.end(), agent_options.begin(), agent_options.end());
  for (const char* a : {"--", PROBE_SYSCALL_BURST, "--events", "2000000", "--kind", "poll0"})
    argv.push_back(a);
  auto r = RunCommand(argv);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const auto kv = ParseKeyValues(r.out, "burst ");
  ASSERT_FALSE(kv.empty()) << r.out;
  const uint64_t polls = std::stoull(kv.at("polls")), eventfds = std::stoull(kv.at("eventfds"));
  const int pid = std::stoi(kv.at("pid"));
  ASSERT_EQ(polls, 2000000u);

  EXPECT_EQ(Slurp(dir_ + "/run.ptrace.000000"), "not ours\n") << "a foreign file is left alone";
  EXPECT_TRUE(Names(dir_, "run.ptrace", true).empty()) << "no temporary file left";
  std::vector<std::string> names = Names(dir_, "run.ptrace", false);
  names.erase(names.begin());  // the foreign .000000
  ASSERT_GE(names.size(), 5u) << r.err;

  std::string run_id;
  uint64_t produced = 0, written = 0, lost = 0, sampled = 0, records = 0;
  std::map<int, uint64_t> histogram_counts;  // syscall -> calls, summed over files
  int lifetimes = 0;
  uint64_t process_lost = 0;
  uint64_t previous_end = 0;
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    FileRead f = ReadFile(dir_, names[i]);
    ASSERT_EQ(f.status, ReadStatus::kEnd) << f.reason;
    struct stat st;
    ASSERT_EQ(stat((dir_ + "/" + names[i]).c_str(), &st), 0);
    EXPECT_LE(st.st_size, (1 << 20) + (16 << 10)) << "closed once it holds 1 MiB";
    if (i + 1 < names.size()) {
      EXPECT_GE(st.st_size, 1 << 20);
    }
    ASSERT_TRUE(!f.records.empty() && f.records.front().has_header());
    ASSERT_TRUE(f.has_trailer()) << "every file is closed with its trailer";
    EXPECT_EQ(f.header().sequence(), i + 1);
    if (i == 0) run_id = f.header().run_id();
    EXPECT_FALSE(run_id.empty());
    EXPECT_EQ(f.header().run_id(), run_id) << "one run";
    EXPECT_GT(f.header().period_start_ns(), 0u);
    if (i > 0) {
      EXPECT_EQ(f.header().period_start_ns(), previous_end) << "periods meet at the seam";
    }
    previous_end = f.trailer().time_ns();
    EXPECT_EQ(f.trailer().rotated(), i + 1 < names.size());
    const auto* c = testing::CountersOf(f.trailer().counters(), v1::EVENT_KIND_SYSCALL);
    ASSERT_NE(c, nullptr);
    ExpectBalanced(*c);
    if (const auto* p = testing::CountersOf(f.trailer().counters(), v1::EVENT_KIND_PROCESS))
      process_lost += testing::KernelLost(*p);
    uint64_t file_records = 0;
    for (const auto& rec : f.records) {
      file_records += rec.has_syscall();
      if (rec.has_process() && rec.process().pid() == pid) {
        ++lifetimes;
        EXPECT_TRUE(rec.process().finished());
      }
    }
    EXPECT_EQ(c->written(), file_records) << "written counts this file's records";
    // The last stats record says what the trailer says.
    const v1::Record& last_stats = f.records[f.records.size() - 2];
    ASSERT_TRUE(last_stats.has_stats());
    const auto* s = testing::CountersOf(last_stats.stats().counters(), v1::EVENT_KIND_SYSCALL);
    ASSERT_NE(s, nullptr);
    EXPECT_EQ(s->SerializeAsString(), c->SerializeAsString());
    produced += c->produced();
    written += c->written();
    sampled += c->sampled_out();
    lost += testing::KernelLost(*c);
    records += file_records;
    for (const auto& [key, h] : LastHistograms(f)) {
      if (key.first != pid) continue;
      histogram_counts[key.second] += h.count();
      uint64_t buckets = 0;
      for (uint64_t b : h.log2_buckets()) buckets += b;
      // Read while the programs run, each CPU's copy whole (a torn copy is
      // read again: a CI run once saw 39 calls in the buckets of one file and
      // not its count, the next file the other way round).
      EXPECT_EQ(buckets, h.count()) << "a file's histogram is its period's";
      EXPECT_LE(h.min_ns(), h.max_ns());
    }
    auto report = RunCommand({PROBE_REPORT, dir_ + "/" + names[i]});
    EXPECT_EQ(report.exit_status, 0) << report.err;
  }
  EXPECT_EQ(produced, polls + eventfds) << "every call counted once over the files";
  EXPECT_EQ(produced, written + sampled + lost);
  EXPECT_EQ(records, written);
  EXPECT_EQ(histogram_counts[v1::SYSCALL_POLL], polls) << "histograms add up to the workload";
  EXPECT_EQ(histogram_counts[v1::SYSCALL_EVENTFD2], eventfds);
  EXPECT_EQ(process_lost, 0u) << "a ring full of calls keeps room for process exits";
  EXPECT_EQ(lifetimes, 1) << "the workload's lifetime is in exactly one file";
  // A file after the first names the live workload in its snapshot.
  FileRead second = ReadFile(dir_, names[1]);
  bool named = false;
  for (const auto& rec : second.records) named |= rec.has_snapshot() && rec.snapshot().pid() == pid;
  EXPECT_TRUE(named) << "the second file's snapshot names the workload";
}

TEST_F(RotationTest, HighRateFilesAddUpToTheWorkload) { BurstIntoMegabyteFiles({}); }

// A slow consumer behind a 16 MiB ring: when the workload exits, megabytes
// are still in the ring, and the drain after the stop fills several files.
// Each is closed at the cap like the ones before the stop (one of 1.2 MB
// before the last drain made seams too).
TEST_F(RotationTest, TheDrainAfterTheStopClosesFilesAtTheCapToo) {
  BurstIntoMegabyteFiles({"--ring-buffer", "16M", "--drain-delay", "30ms"});
}

// --all --rotate 64K on a machine with many processes: 300 sleeps with
// 300-byte names make each file's opening snapshots alone more than 64 KiB.
// Such a file still holds a share of records after its opening (SIZE / 2),
// instead of one record per file, a file per event on a busy machine. A
// burst of 20,000 polls half a second in makes enough records for several.
TEST_F(RotationTest, FilesWhoseSnapshotsAloneFillSizeStillHoldRecords) {
  const std::string pad(300, 'p');
  const std::string script =
      "pids=; i=0; while [ $i -lt 300 ]; do bash -c 'exec -a \"$0\" sleep 30' " + pad +
      "$i & pids=\"$pids $!\"; i=$((i+1)); done; sleep 0.5; (sleep 0.5; " + PROBE_SYSCALL_BURST +
      " --events 20000 --kind poll0 >/dev/null) & " + PROBE_AGENT + " -o " + file_ +
      " --all --rotate 64K --duration 2; st=$?; kill $pids; exit $st";
  auto r = RunCommand({"/bin/sh", "-c", script});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::vector<std::string> names = Names(dir_, "run.ptrace", false);
  ASSERT_GE(names.size(), 3u) << r.err;
  for (size_t i = 0; i < names.size(); ++i) {
    SCOPED_TRACE(names[i]);
    FileRead f = ReadFile(dir_, names[i]);
    ASSERT_EQ(f.status, ReadStatus::kEnd) << f.reason;
    int snapshots = 0, records = 0;
    for (const auto& rec : f.records) {
      if (rec.has_snapshot()) {
        ++snapshots;
      } else if (!rec.has_header() && !rec.has_stats() && !rec.has_trailer()) {
        ++records;
      }
    }
    EXPECT_GE(snapshots, 300) << "every sleep is in the opening";
    if (i + 1 < names.size()) {
      struct stat st;
      ASSERT_EQ(stat((dir_ + "/" + names[i]).c_str(), &st), 0);
      EXPECT_GE(st.st_size, 64 << 10);
      EXPECT_GE(records, 100) << "a closed file holds records, not just its opening";
    }
  }
  std::cout << names.size() << " files\n";
  EXPECT_LE(names.size(), 100u) << "not a file per record";
}

// --keep 2: the two newest files stay, every older one this run made is
// removed, and files it did not make are left, whatever their names.
TEST_F(RotationTest, KeepLeavesTheNewestAndNothingItDidNotMake) {
  WriteFile(dir_ + "/run.ptrace.000000", "not ours\n");
  WriteFile(dir_ + "/run.ptrace.old", "not ours either\n");
  auto r =
      RunCommand({PROBE_AGENT, "-o", file_, "--events", "syscalls", "--rotate", "256K", "--keep",
                  "2", "--", PROBE_SYSCALL_BURST, "--events", "500000", "--kind", "poll0"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  std::vector<std::string> names = Names(dir_, "run.ptrace", false);
  ASSERT_EQ(names.size(), 3u) << r.err;
  EXPECT_EQ(names[0], "run.ptrace.000000");
  EXPECT_EQ(Slurp(dir_ + "/run.ptrace.000000"), "not ours\n");
  EXPECT_EQ(Slurp(dir_ + "/run.ptrace.old"), "not ours either\n");
  FileRead a = ReadFile(dir_, names[1]), b = ReadFile(dir_, names[2]);
  ASSERT_TRUE(a.has_trailer() && b.has_trailer());
  EXPECT_GE(a.header().sequence(), 3u) << "older files were made and removed";
  EXPECT_EQ(b.header().sequence(), a.header().sequence() + 1);
  EXPECT_FALSE(b.trailer().rotated());
  // A second run on the same base would mix its files with these: refused
  // at the start, in one line, and nothing is touched.
  auto again = RunCommand({PROBE_AGENT, "-o", file_, "--rotate", "1s", "--", "/bin/true"});
  EXPECT_EQ(again.exit_status, 1) << again.err;
  EXPECT_NE(again.err.find("from an earlier run (use --force"), std::string::npos) << again.err;
  EXPECT_EQ(Names(dir_, "run.ptrace", false), names);
  EXPECT_TRUE(Names(dir_, "run.ptrace", true).empty());
}

// A closed file replaced under its name (same name, another inode) is not
// the agent's any more: --keep 1 leaves it and says so.
TEST_F(RotationTest, KeepNeverRemovesAFileSwappedInUnderItsName) {
  pid_t agent = fork();
  if (agent == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    int e = open((dir_ + "/agent.err").c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(e, 2);
    execl(PROBE_AGENT, PROBE_AGENT, "-o", file_.c_str(), "--events", "syscalls", "--rotate",
          "300ms", "--keep", "1", "--", PROBE_EVENTFD_PINGPONG, "select", "1", "2500", nullptr);
    _exit(127);
  }
  const std::string first = file_ + ".000001";
  const uint64_t give_up = MonotonicNow() + 20000000000ull;
  while (access(first.c_str(), F_OK) != 0 && MonotonicNow() < give_up) usleep(2000);
  ASSERT_EQ(access(first.c_str(), F_OK), 0) << "the first file was closed";
  WriteFile(dir_ + "/foreign.tmp", "swapped in\n");
  ASSERT_EQ(rename((dir_ + "/foreign.tmp").c_str(), first.c_str()), 0);
  int st = 0;
  ASSERT_EQ(waitpid(agent, &st, 0), agent);
  const std::string err = Slurp(dir_ + "/agent.err");
  ASSERT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << err;
  EXPECT_EQ(Slurp(first), "swapped in\n") << "never removed: not the file the run made";
  EXPECT_NE(err.find("not the file this run wrote"), std::string::npos) << err;
  std::vector<std::string> names = Names(dir_, "run.ptrace", false);
  ASSERT_EQ(names.size(), 2u) << err;
  FileRead last = ReadFile(dir_, names[1]);
  ASSERT_TRUE(last.has_trailer());
  EXPECT_GE(last.header().sequence(), 3u);
}

// SIGTERM (systemctl stop): the open file is closed with its trailer and
// renamed into place; nothing is left under a temporary name.
TEST_F(RotationTest, SigtermClosesTheLastFileIntoPlace) {
  pid_t agent = fork();
  if (agent == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(PROBE_AGENT, PROBE_AGENT, "-o", file_.c_str(), "--rotate", "500ms", "--",
          PROBE_EVENTFD_PINGPONG, "select", "1", "100000", nullptr);
    _exit(127);
  }
  usleep(1700000);
  ASSERT_EQ(kill(agent, SIGTERM), 0);
  int st = 0;
  ASSERT_EQ(waitpid(agent, &st, 0), agent);
  EXPECT_TRUE(WIFEXITED(st) && WEXITSTATUS(st) == 0) << st;
  EXPECT_TRUE(Names(dir_, "run.ptrace", true).empty()) << "no temporary file left";
  std::vector<std::string> names = Names(dir_, "run.ptrace", false);
  ASSERT_GE(names.size(), 2u);
  for (size_t i = 0; i < names.size(); ++i) {
    FileRead f = ReadFile(dir_, names[i]);
    ASSERT_TRUE(f.status == ReadStatus::kEnd && f.has_trailer()) << names[i];
    EXPECT_EQ(f.header().sequence(), i + 1);
    EXPECT_EQ(f.trailer().stop_reason(), i + 1 < names.size() ? "rotated" : "signal");
  }
}

// SIGKILL during a rotated run: every closed file is whole with its
// trailer, and the open one (the ".part" name) reads up to its last whole
// record, which is at most about a second old.
TEST_F(RotationTest, SigkillCostsAtMostTheOpenFilesLastSecond) {
  pid_t agent = fork();
  if (agent == 0) {
    int null = open("/dev/null", O_WRONLY);
    dup2(null, 1);
    dup2(null, 2);
    execl(PROBE_AGENT, PROBE_AGENT, "-o", file_.c_str(), "--events", "process,syscalls", "--rotate",
          "1s", "--max-rate", "200k/s", "--", PROBE_SYSCALL_BURST, "--seconds", "8", "--events",
          "1000000000", "--kind", "poll0", nullptr);
    _exit(127);
  }
  usleep(3500000);
  // The workload is the agent's child: it is stopped too, after the agent.
  std::string children =
      Slurp("/proc/" + std::to_string(agent) + "/task/" + std::to_string(agent) + "/children");
  const uint64_t killed_at = MonotonicNow();
  ASSERT_EQ(kill(agent, SIGKILL), 0);
  int st = 0;
  ASSERT_EQ(waitpid(agent, &st, 0), agent);
  ASSERT_TRUE(WIFSIGNALED(st));
  for (size_t at = 0; at < children.size();) {
    size_t end = children.find(' ', at);
    if (end == std::string::npos) end = children.size();
    if (end > at) kill(std::stoi(children.substr(at, end - at)), SIGKILL);
    at = end + 1;
  }

  std::vector<std::string> closed = Names(dir_, "run.ptrace", false);
  ASSERT_GE(closed.size(), 2u);
  for (size_t i = 0; i < closed.size(); ++i) {
    FileRead f = ReadFile(dir_, closed[i]);
    EXPECT_EQ(f.status, ReadStatus::kEnd) << closed[i] << ": " << f.reason;
    ASSERT_TRUE(f.has_trailer()) << closed[i];
    EXPECT_EQ(f.header().sequence(), i + 1);
    EXPECT_TRUE(f.trailer().rotated());
  }
  std::vector<std::string> part = Names(dir_, "run.ptrace", true);
  ASSERT_EQ(part.size(), 1u) << "the open file, under its temporary name";
  char expected[64];
  snprintf(expected, sizeof(expected), "run.ptrace.%06zu.part", closed.size() + 1);
  EXPECT_EQ(part[0], expected);
  FileRead open_file = ReadFile(dir_, part[0]);
  EXPECT_TRUE(open_file.status == ReadStatus::kEnd || open_file.status == ReadStatus::kTruncated)
      << ReadStatusName(open_file.status) << ": " << open_file.reason;
  ASSERT_FALSE(open_file.records.empty());
  EXPECT_EQ(open_file.header().sequence(), closed.size() + 1);
  EXPECT_FALSE(open_file.has_trailer());
  // The newest moment the file holds: the writer flushes whole records at
  // least once a second (and every MiB), so that is the loss.
  uint64_t last_stats = open_file.header().period_start_ns();
  for (const auto& rec : open_file.records) {
    if (rec.has_stats()) last_stats = std::max(last_stats, rec.stats().time_ns());
    if (rec.has_syscall())
      last_stats =
          std::max(last_stats, rec.syscall().start_time_ns() + rec.syscall().duration_ns());
  }
  ASSERT_GT(last_stats, 0u);
  std::cout << closed.size() << " closed files; the open one ends "
            << (killed_at - last_stats) / 1e6 << " ms before the kill\n";
  EXPECT_LT(killed_at - last_stats, 1500000000ull) << "at most about the last second is lost";
}

// redis-server under redis-benchmark, rotated every 200 ms: across the
// seams every context switch the kernel counted for each redis thread is one
// wakeup record in exactly one file, and the main thread's epoll_waits in the
// records equal the kernel histograms' count summed over the files.
TEST_F(RotationTest, RedisAcrossSeamsEverySwitchAndEveryEpollWaitOnce) {
  constexpr int kRequests = 20000;
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--rotate", "200ms", "--ring-buffer", "16M", "--",
                       "/usr/bin/python3", PROBE_WORKLOADS_DIR "/redis_drive.py", dir_,
                       std::to_string(kRequests)});
  ASSERT_EQ(r.exit_status, 0) << r.err << r.out;
  auto redis = ParseKeyValues(r.out, "redis ");
  ASSERT_FALSE(redis.empty()) << r.out << r.err;
  ASSERT_EQ(redis["bench_rc"], "0");
  EXPECT_EQ(std::stoi(redis["get"]), kRequests) << "redis served every request";
  const int pid = std::stoi(redis["pid"]);
  const auto threads = testing::ParseThreadWindows(r.out);
  ASSERT_GE(threads.size(), 1u);

  std::vector<std::string> names = Names(dir_, "run.ptrace", false);
  ASSERT_GE(names.size(), 3u) << r.err;
  std::vector<v1::Record> all;
  uint64_t epoll_histogram = 0, sampled = 0, lost_syscalls = 0, lost_wakeups = 0;
  std::set<std::pair<int, uint64_t>> calls;  // (tid, start): each call in one file only
  uint64_t duplicates = 0;
  for (const auto& name : names) {
    FileRead f = ReadFile(dir_, name);
    ASSERT_TRUE(f.status == ReadStatus::kEnd && f.has_trailer()) << name;
    for (auto kind : {v1::EVENT_KIND_SYSCALL, v1::EVENT_KIND_WAKEUP}) {
      const auto* c = testing::CountersOf(f.trailer().counters(), kind);
      ASSERT_NE(c, nullptr);
      ExpectBalanced(*c);
      sampled += c->sampled_out();
      (kind == v1::EVENT_KIND_SYSCALL ? lost_syscalls : lost_wakeups) += testing::KernelLost(*c);
    }
    for (const auto& [key, h] : LastHistograms(f))
      if (key.first == pid && key.second == v1::SYSCALL_EPOLL_WAIT) epoll_histogram += h.count();
    for (auto& rec : f.records) {
      if (rec.has_syscall() &&
          !calls.insert({rec.syscall().tid(), rec.syscall().start_time_ns()}).second)
        ++duplicates;
      all.push_back(std::move(rec));
    }
  }
  EXPECT_EQ(sampled, 0u) << "nothing sampled";
  // Under a loaded machine the rings can still overflow: what is lost is
  // counted, and bounds the difference (exact when nothing was lost).
  std::cout << "lost: " << lost_syscalls << " calls, " << lost_wakeups << " wakeups\n";
  EXPECT_EQ(duplicates, 0u) << "no call in two files";
  uint64_t epoll_records = 0;
  for (const auto& rec : all)
    epoll_records += rec.has_syscall() && rec.syscall().pid() == pid &&
                     rec.syscall().syscall() == v1::SYSCALL_EPOLL_WAIT;
  std::cout << names.size() << " files; redis epoll_wait: " << epoll_records << " records, "
            << epoll_histogram << " in the histograms\n";
  EXPECT_GT(epoll_records, uint64_t(kRequests / 10));
  EXPECT_LE(epoll_records, epoll_histogram) << "each call once in the records";
  EXPECT_LE(epoll_histogram, epoll_records + lost_syscalls) << "each call once in the histograms";
  for (const auto& t : threads) {
    const auto a = testing::Account(all, t);
    const uint64_t csw = t.a_csw - t.b_csw;
    std::cout << "thread " << t.tid << " (" << t.comm << "): kernel switches " << csw
              << ", records " << a.records << " (+" << a.ambiguous << " in a read's bracket)\n";
    EXPECT_GE(csw, a.records) << t.comm;
    EXPECT_LE(csw, a.records + a.ambiguous + lost_wakeups) << t.comm;
  }
}

// Run through sudo, the agent drops to the invoking user once attached,
// and every later file is made as that user: a directory that user cannot
// write is refused before the drop, in one line, and nothing is left there.
TEST_F(RotationTest, DirectoryTheDroppedUserCannotWriteIsRefusedAtTheStart) {
  ASSERT_EQ(chmod(dir_.c_str(), 0755), 0);
  auto r = RunCommand({"/usr/bin/env", "SUDO_UID=65534", "SUDO_GID=65534", PROBE_AGENT, "-o", file_,
                       "--rotate", "1s", "--", "/bin/true"});
  EXPECT_EQ(r.exit_status, 1) << r.err;
  EXPECT_NE(r.err.find("cannot rotate in the directory of " + file_ +
                       ": uid 65534, whom the agent drops to, cannot create files there"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(Names(dir_, "run.ptrace", true).empty()) << "the first part file was removed";
  EXPECT_TRUE(Names(dir_, "run.ptrace", false).empty());
  // Where that user may write, the same run goes on past its first file.
  ASSERT_EQ(chmod(dir_.c_str(), 0777), 0);
  r = RunCommand({"/usr/bin/env", "SUDO_UID=65534", "SUDO_GID=65534", PROBE_AGENT, "-o", file_,
                  "--events", "syscalls", "--rotate", "200ms", "--", PROBE_EVENTFD_PINGPONG,
                  "select", "1", "800"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_GE(Names(dir_, "run.ptrace", false).size(), 3u) << r.err;
}

// The disk (2 MiB) fills up in the middle of a rotated run: the agent stops with
// one error and exit 1; every closed file is whole with its trailer, and
// the file it was writing stays under its temporary name, cut back to its
// last whole record.
TEST_F(RotationTest, FullDiskLeavesClosedFilesWholeAndThePartReadable) {
  disk_ = dir_ + "/disk";
  ASSERT_EQ(mkdir(disk_.c_str(), 0700), 0);
  ASSERT_EQ(mount("tmpfs", disk_.c_str(), "tmpfs", 0, "size=2m"), 0) << strerror(errno);
  auto r = RunCommand({PROBE_AGENT, "-o", disk_ + "/run.ptrace", "--events", "syscalls", "--rotate",
                       "64K", "--", PROBE_SYSCALL_BURST, "--events", "2000000", "--kind", "poll0"});
  EXPECT_EQ(r.exit_status, 1) << r.err;
  EXPECT_NE(r.err.find("No space left on device"), std::string::npos) << r.err;
  std::vector<std::string> closed = Names(disk_, "run.ptrace", false);
  ASSERT_GE(closed.size(), 3u) << r.err;
  for (size_t i = 0; i < closed.size(); ++i) {
    FileRead f = ReadFile(disk_, closed[i]);
    EXPECT_EQ(f.status, ReadStatus::kEnd) << closed[i] << ": " << f.reason;
    ASSERT_TRUE(f.has_trailer()) << closed[i];
    EXPECT_EQ(f.header().sequence(), i + 1);
  }
  std::vector<std::string> part = Names(disk_, "run.ptrace", true);
  ASSERT_EQ(part.size(), 1u) << r.err;
  FileRead p = ReadFile(disk_, part[0]);
  EXPECT_EQ(p.status, ReadStatus::kEnd) << "cut back to a whole record: " << p.reason;
  ASSERT_FALSE(p.records.empty());
  EXPECT_EQ(p.header().sequence(), closed.size() + 1);
  EXPECT_NE(r.err.find(part[0] + " stays as it is"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace probe
