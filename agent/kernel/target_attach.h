// Putting the processes to trace into the kernel's target map without
// tracing the wrong one. A pid is only a number: between the agent's start
// and its programs being attached (hundreds of ms) a named process can exit
// and its number go to an unrelated process, and a process found in /proc
// can exit before its entry is made, leaving an entry that nothing removes
// (the exit hook already ran) until its number is reused.
#pragma once
#include <set>
#include <string>
#include <vector>

#include "probe.pb.h"
#include "unique_fd.h"

namespace probe {

class BpfSession;

// A pidfd per process named by --pid, opened at the agent's start: the
// process it refers to never changes, and it turns readable once that
// process has exited, whatever later takes its number.
class TargetPins {
 public:
  TargetPins() = default;
  TargetPins(const TargetPins&) = delete;
  TargetPins& operator=(const TargetPins&) = delete;

  // Pins every pid; false with "no process with pid N" (or why it cannot be
  // traced) when one does not exist.
  bool Open(const std::vector<int>& pids, std::string* error);
  // Adds the pinned processes still alive to the target map and returns
  // them, in order; *gone gets those that exited before their entry was made.
  // One that exits after it is traced, and leaves by the exit hook.
  std::vector<int> AddLive(BpfSession& bpf, std::vector<int>* gone);

 private:
  struct Pin {
    int pid;
    UniqueFd fd;  // none where pidfds are unsupported: the pid is taken on trust
  };
  std::vector<Pin> pins_;
};

// Adds processes found in /proc (children of the targets, the launched
// command) to the target map, then takes out those that had exited by then.
void AddFoundTargets(BpfSession& bpf, const std::set<int>& pids, const std::vector<int>& skip);

// Says on stderr which named processes exited before tracing started: as
// an error, returning false, when fatal (none is left to trace); else as a
// warning.
bool ReportGoneTargets(const std::vector<int>& gone, bool fatal);

// What is left in the kernel's per-process tables, for the trailer.
void FillKernelTables(const BpfSession& bpf, v1::KernelTables* out);

}  // namespace probe
