#include "proc_scan.h"

#include <dirent.h>
#include <unistd.h>

#include <cstdlib>
#include <ctime>
#include <fstream>
#include <sstream>

#include "event_decoder.h"

namespace probe {

namespace {

uint64_t ClockNs(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

std::string ReadFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::vector<int> ListNumericDirs(const std::string& path) {
  std::vector<int> out;
  DIR* d = opendir(path.c_str());
  if (!d) return out;
  while (dirent* e = readdir(d)) {
    char* end = nullptr;
    long v = strtol(e->d_name, &end, 10);
    if (*end == '\0' && v > 0) out.push_back(static_cast<int>(v));
  }
  closedir(d);
  return out;
}

bool ParseStat(const std::string& text, ProcStat* out) {
  // comm may contain spaces and parentheses: it ends at the last ')'.
  size_t open = text.find('(');
  size_t close = text.rfind(')');
  if (open == std::string::npos || close == std::string::npos || close < open) return false;
  out->pid = atoi(text.c_str());
  out->comm = text.substr(open + 1, close - open - 1);
  std::istringstream rest(text.substr(close + 2));
  std::vector<std::string> f;
  std::string tok;
  while (rest >> tok) f.push_back(tok);
  // rest starts at field 3 (state); field N is f[N-3].
  if (f.size() < 20) return false;
  out->state = f[0].empty() ? 0 : f[0][0];
  out->ppid = atoi(f[1].c_str());
  out->flags = strtoul(f[6].c_str(), nullptr, 10);
  out->utime_ticks = strtoull(f[11].c_str(), nullptr, 10);
  out->stime_ticks = strtoull(f[12].c_str(), nullptr, 10);
  out->start_ticks = strtoull(f[19].c_str(), nullptr, 10);
  return true;
}

uint64_t TicksToNs(uint64_t ticks) {
  static const long hz = sysconf(_SC_CLK_TCK);
  return ticks * (1000000000ull / static_cast<uint64_t>(hz > 0 ? hz : 100));
}

void FillExeAndArgv(int pid, std::string* exe,
                    google::protobuf::RepeatedPtrField<std::string>* argv) {
  char buf[4096];
  std::string link = "/proc/" + std::to_string(pid) + "/exe";
  ssize_t n = readlink(link.c_str(), buf, sizeof(buf));
  if (n > 0) exe->assign(buf, static_cast<size_t>(n));
  std::string cmdline = ReadFile("/proc/" + std::to_string(pid) + "/cmdline");
  SplitArgs(cmdline.data(), cmdline.size(), argv);
}

}  // namespace

uint64_t MonotonicNs() { return ClockNs(CLOCK_MONOTONIC); }

uint64_t StartTicksToMonotonicNs(uint64_t ticks) {
  // Boot and monotonic differ by time spent suspended; read apart, the two
  // clocks can also differ by a few ns either way, so keep the sign.
  uint64_t mono = ClockNs(CLOCK_MONOTONIC);
  int64_t suspended = static_cast<int64_t>(ClockNs(CLOCK_BOOTTIME) - mono);
  if (suspended < 0) suspended = 0;
  uint64_t t = TicksToNs(ticks);
  return t > uint64_t(suspended) ? t - uint64_t(suspended) : 0;
}

bool ReadProcStat(int pid, ProcStat* out) {
  std::string text = ReadFile("/proc/" + std::to_string(pid) + "/stat");
  return !text.empty() && ParseStat(text, out);
}

std::vector<int> ThreadIds(const std::string& pid) {
  return ListNumericDirs("/proc/" + pid + "/task");
}

int ThreadGroupOf(int tid) {
  std::istringstream status(ReadFile("/proc/" + std::to_string(tid) + "/status"));
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("Tgid:", 0) == 0) return atoi(line.c_str() + 5);
  return 0;
}

int InnermostPid(int pid) {
  std::istringstream status(ReadFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("NSpid:", 0) != 0) continue;
    std::istringstream ids(line.substr(6));
    int id = 0, last = 0;
    while (ids >> id) last = id;
    return last;
  }
  return 0;
}

bool ThreadsMayRun(int pid) {
  // The leader alive answers at once; a zombie leader can have live threads.
  ProcStat leader;
  if (!ReadProcStat(pid, &leader)) return false;
  if (leader.state != 'Z' && leader.state != 'X') return true;
  for (int tid : ThreadIds(std::to_string(pid))) {
    ProcStat st;  // /proc/TID/stat is the thread's own
    if (ReadProcStat(tid, &st) && st.state != 'Z' && st.state != 'X') return true;
  }
  return false;
}

std::map<int, int> ReadParentMap() {
  std::map<int, int> parents;
  for (int pid : ListNumericDirs("/proc")) {
    ProcStat st;
    if (ReadProcStat(pid, &st)) parents[pid] = st.ppid;
  }
  return parents;
}

std::set<int> WithDescendants(const std::vector<int>& roots, const std::map<int, int>& parents,
                              bool follow_children) {
  std::set<int> out(roots.begin(), roots.end());
  if (!follow_children) return out;
  bool grew = true;
  while (grew) {
    grew = false;
    for (const auto& [pid, ppid] : parents) {
      if (out.count(ppid) && !out.count(pid)) {
        out.insert(pid);
        grew = true;
      }
    }
  }
  return out;
}

bool SnapshotProcess(int pid, v1::ProcessSnapshot* out) {
  ProcStat st;
  if (!ReadProcStat(pid, &st)) return false;
  out->set_pid(pid);
  out->set_ppid(st.ppid);
  out->set_comm(st.comm);
  out->set_start_time_ns(StartTicksToMonotonicNs(st.start_ticks));
  out->set_user_time_ns(TicksToNs(st.utime_ticks));
  out->set_system_time_ns(TicksToNs(st.stime_ticks));
  FillExeAndArgv(pid, out->mutable_exe(), out->mutable_argv());
  for (int tid : ThreadIds(std::to_string(pid))) {
    std::string comm =
        ReadFile("/proc/" + std::to_string(pid) + "/task/" + std::to_string(tid) + "/comm");
    if (!comm.empty() && comm.back() == '\n') comm.pop_back();
    auto* t = out->add_threads();
    t->set_tid(tid);
    t->set_comm(comm);
  }
  return true;
}

bool UnfinishedLifetime(int pid, v1::ProcessLifetime* out) {
  ProcStat st;
  if (!ReadProcStat(pid, &st)) return false;
  out->set_pid(pid);
  out->set_ppid(st.ppid);
  out->set_comm(st.comm);
  FillExeAndArgv(pid, out->mutable_exe(), out->mutable_argv());
  out->set_fork_time_ns(StartTicksToMonotonicNs(st.start_ticks));
  out->set_user_time_ns(TicksToNs(st.utime_ticks));
  out->set_system_time_ns(TicksToNs(st.stime_ticks));
  std::istringstream status(ReadFile("/proc/" + std::to_string(pid) + "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("VmHWM:", 0) == 0)
      out->set_peak_rss_bytes(strtoull(line.c_str() + 6, nullptr, 10) * 1024);
  }
  out->set_finished(false);
  return true;
}

}  // namespace probe
