// The per-run figures of probe-report --compare: each side (BASE, NEW) is a
// list of runs, from one file per run or from a repeated file
// (probe-agent --repeat) split by its processes' run_index. A run's figures
// are keyed by what things are, never by pid: processes by executable,
// argv shape and place in the tree; syscalls and waits by (process name,
// syscall); scheduler histograms by process name; shim calls and spans by
// (process name, function or span). Built from TraceSummary, whose tables
// do the per-record work.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "probe.pb.h"
#include "trace_summary.h"

namespace probe {

using NamePair = std::pair<std::string, std::string>;  // (process name, what)

struct ProcessFigures {
  std::string name;   // executable basename (comm without one), terminal-safe
  std::string shape;  // name and argv shape, e.g. "python3 -c _": matches across trees
  // Its ancestors' names inside the run, the launched command first, then
  // shape: the key, joined with " > ".
  std::vector<std::string> chain;
  uint64_t count = 0;
  uint64_t exec_to_exit_ns = 0;  // summed over the run's processes of this key
  // exec->exit outside its children's fork->exit (a wrapper's own share:
  // a parent's exec->exit includes every child it waits for)
  uint64_t own_ns = 0;
  uint64_t cpu_ns = 0;  // user + system
};

struct CallFigures {
  v1::SyscallHistogram histogram;  // bucket-wise merge over the run's processes
  std::vector<uint64_t> exact;     // every call's duration, when all_exact
  bool all_exact = true;           // the files hold every call of this key
};

struct WaitFigures {
  uint64_t calls = 0, to_block_ns = 0, blocked_ns = 0, run_queue_ns = 0, return_ns = 0;
};

struct CountSum {
  uint64_t count = 0, sum_ns = 0;
};

struct RunFigures {
  std::string label;        // "a.ptrace" or "a.ptrace run 3"
  uint64_t command_ns = 0;  // first exec of the launched command -> last descendant's exit
  bool timed = false;       // command_ns is known (a launched command's run that ended)
  bool succeeded = true;
  std::map<std::string, ProcessFigures> processes;  // by place in tree + shape
  std::map<NamePair, CallFigures> syscalls;         // (process, syscall)
  std::map<NamePair, WaitFigures> waits;            // (process, syscall), blocked calls
  std::map<std::string, v1::SyscallHistogram> run_queue, off_cpu;  // by process name
  std::map<NamePair, uint64_t> wakeups;                            // (process, waker group)
  std::map<NamePair, CountSum> shim_overhead;  // (process, function): user - kernel
  std::map<NamePair, CountSum> spans;          // (process, BEGIN..END name)
};

struct Side {
  std::vector<RunFigures> runs;
  bool sampled = false;  // some file kept only some per-call records
};

// The runs of one file, summarised in s (a file that is not repeated is
// one run; its command time is known when it launched its command). label
// names the file.
std::vector<RunFigures> SplitRuns(const TraceSummary& s, const std::string& label);

// BASE or NEW: one file or several joined with commas, read and split.
// false with one line in *error when a file cannot be read or holds no run.
bool LoadSide(const std::string& files, Side* side, std::string* error);

// Whether the header says per-call syscall records were sampled or cut.
bool SyscallsSampled(const v1::Header& h);

}  // namespace probe
