#include "target_attach.h"

#include <poll.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>

#include "bpf_session.h"
#include "proc_scan.h"

namespace probe {

namespace {

int PidfdOpen(int pid) { return static_cast<int>(syscall(SYS_pidfd_open, pid, 0)); }

// A pidfd is readable once its process has exited (zombie or reaped);
// waits up to wait_ms for that.
bool HasExited(int pidfd, int wait_ms = 0) {
  pollfd p{pidfd, POLLIN, 0};
  return poll(&p, 1, wait_ms) > 0;
}

// PF_EXITING: the process is in do_exit, where the kernel's exit hook runs
// before it turns zombie (and its pidfd readable). Gone counts as exiting.
bool IsExiting(int pid) {
  constexpr unsigned long kPfExiting = 0x4;
  ProcStat st;
  return !ReadProcStat(pid, &st) || (st.flags & kPfExiting) != 0;
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
  // A leader that ended by pthread_exit stays "exiting" while its other
  // threads run: then the wait runs out and the process stays a target.
  return HasExited(pidfd, 200);
}

}  // namespace

bool TargetPins::Open(const std::vector<int>& pids, std::string* error) {
  for (int pid : pids) {
    // Targets are processes: an entry for a thread id would never match,
    // and never leave the map.
    int tgid = pid > 0 ? ThreadGroupOf(pid) : 0;
    if (tgid > 0 && tgid != pid) {
      *error = "pid " + std::to_string(pid) + " is a thread of process " + std::to_string(tgid) +
               ", not a process: give --pid " + std::to_string(tgid);
      return false;
    }
    UniqueFd fd(pid > 0 ? PidfdOpen(pid) : -1);
    // Kernels before 5.3 have no pidfd: there the pid is taken on trust.
    bool trusted = !fd && errno == ENOSYS && tgid == pid;
    if (!fd && !trusted) {
      *error = "no process with pid " + std::to_string(pid);
      return false;
    }
    pins_.push_back({pid, std::move(fd)});
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
    if (p.fd && HasExited(p.fd.get())) {
      gone->push_back(p.pid);
      continue;
    }
    bpf.AddTarget(p.pid);
    if (ExitedAroundInsert(p.pid, p.fd.get())) bpf.RemoveTarget(p.pid);
    live.push_back(p.pid);
  }
  return live;
}

void AddFoundTargets(BpfSession& bpf, const std::set<int>& pids, const std::vector<int>& skip) {
  for (int pid : pids) {
    if (std::find(skip.begin(), skip.end(), pid) != skip.end()) continue;
    // The pidfd is opened before the entry is made and checked after, so an
    // exit on either side of the insertion leaves no entry behind.
    UniqueFd fd(PidfdOpen(pid));
    if (!fd && errno == ESRCH) continue;
    bpf.AddTarget(pid);
    if (ExitedAroundInsert(pid, fd.get())) bpf.RemoveTarget(pid);
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
