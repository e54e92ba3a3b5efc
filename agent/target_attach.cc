#include "target_attach.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <sstream>

#include "bpf_session.h"

namespace probe {

namespace {

int PidfdOpen(int pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// A pidfd is readable once its process has exited (zombie or reaped).
bool HasExited(int pidfd) {
  pollfd p{pidfd, POLLIN, 0};
  return poll(&p, 1, 0) > 0;
}

// PF_EXITING in /proc/<pid>/stat: the process is in do_exit, where the
// kernel's exit hook runs before it turns zombie (and its pidfd readable).
bool IsExiting(int pid) {
  std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
  std::string stat;
  std::getline(f, stat);
  size_t paren = stat.rfind(')');
  if (paren == std::string::npos) return true;  // gone
  std::istringstream fields(stat.substr(paren + 1));
  std::string skip;
  unsigned long flags = 0;
  for (int i = 0; i < 6; ++i) fields >> skip;  // state ppid pgrp session tty_nr tpgid
  fields >> flags;
  return (flags & 0x4) != 0;  // PF_EXITING
}

// After the process's entry was made: true when its exit hook may have run
// before that (so nothing will remove the entry), and it is gone now. One
// caught exiting is waited out, briefly: between the hook and becoming a
// zombie it releases its files and memory.
bool ExitedAroundInsert(int pid, int pidfd) {
  if (pidfd < 0) return false;
  if (HasExited(pidfd)) return true;
  bool exiting = IsExiting(pid);
  // Not exited after the read: the /proc entry read was this process's.
  if (HasExited(pidfd)) return true;
  if (!exiting) return false;
  pollfd p{pidfd, POLLIN, 0};
  // A leader that ended by pthread_exit stays "exiting" while its other
  // threads run: then the wait runs out and the process stays a target.
  return poll(&p, 1, 200) > 0;
}

int TgidOf(int tid) {
  std::ifstream f("/proc/" + std::to_string(tid) + "/status");
  std::string line;
  while (std::getline(f, line))
    if (line.rfind("Tgid:", 0) == 0) return std::atoi(line.c_str() + 5);
  return 0;
}

}  // namespace

TargetPins::~TargetPins() {
  for (const Pin& p : pins_)
    if (p.fd >= 0) close(p.fd);
}

bool TargetPins::Open(const std::vector<int>& pids, std::string* error) {
  for (int pid : pids) {
    // Targets are processes: an entry for a thread id would never match,
    // and never leave the map.
    int tgid = pid > 0 ? TgidOf(pid) : 0;
    if (tgid > 0 && tgid != pid) {
      *error = "pid " + std::to_string(pid) + " is a thread of process " + std::to_string(tgid) +
               ", not a process: give --pid " + std::to_string(tgid);
      return false;
    }
    int fd = pid > 0 ? PidfdOpen(pid) : -1;
    // Kernels before 5.3 have no pidfd: there the pid is taken on trust.
    bool trusted = fd < 0 && errno == ENOSYS && tgid == pid;
    if (fd < 0 && !trusted) {
      *error = "no process with pid " + std::to_string(pid);
      return false;
    }
    pins_.push_back({pid, fd});
  }
  return true;
}

std::vector<int> TargetPins::AddLive(BpfSession& bpf, std::vector<int>* gone) {
  std::vector<int> live;
  for (const Pin& p : pins_) {
    if (std::find(live.begin(), live.end(), p.pid) != live.end()) continue;  // named twice
    // Checked before the entry is made: once exited, its number may already
    // belong to someone else. Exiting after the entry is made, it leaves by
    // the kernel's exit hook; exiting around it, by ExitedAroundInsert.
    if (p.fd >= 0 && HasExited(p.fd)) {
      gone->push_back(p.pid);
      continue;
    }
    bpf.AddTarget(p.pid);
    if (ExitedAroundInsert(p.pid, p.fd)) bpf.RemoveTarget(p.pid);
    live.push_back(p.pid);
  }
  return live;
}

void AddFoundTargets(BpfSession& bpf, const std::set<int>& pids, const std::vector<int>& skip) {
  for (int pid : pids) {
    if (std::find(skip.begin(), skip.end(), pid) != skip.end()) continue;
    // The pidfd is opened before the entry is made and checked after, so an
    // exit on either side of the insertion leaves no entry behind.
    int fd = PidfdOpen(pid);
    if (fd < 0 && errno == ESRCH) continue;
    bpf.AddTarget(pid);
    if (ExitedAroundInsert(pid, fd)) bpf.RemoveTarget(pid);
    if (fd >= 0) close(fd);
  }
}

bool ReportGoneTargets(const std::vector<int>& gone, bool fatal) {
  for (int pid : gone)
    fprintf(stderr, "probe-agent: %sprocess %d exited before tracing started\n",
            fatal ? "" : "warning: ", pid);
  return gone.empty() || !fatal;
}

void FillKernelTables(const BpfSession& bpf, v1::KernelTables* out) {
  KernelTableSizes n = bpf.CountTableEntries();
  out->set_targets(n.targets);
  out->set_processes(n.processes);
}

}  // namespace probe
