// Reads /proc: which processes exist, their parentage, and snapshots of
// targeted processes (the only part of the agent that parses /proc).
#pragma once
#include <map>
#include <set>
#include <string>
#include <vector>

#include "probe.pb.h"

namespace probe {

struct ProcStat {
  int pid = 0;
  int ppid = 0;
  std::string comm;
  uint64_t utime_ticks = 0, stime_ticks = 0, start_ticks = 0;
  unsigned long flags = 0;  // the task's PF_* flags
  char state = 0;           // R, S, D, Z (zombie), X (dead), ...
};

bool ReadProcStat(int pid, ProcStat* out);
// The process (thread group) a thread id belongs to; 0 if there is none.
int ThreadGroupOf(int tid);
// The thread ids of a process ("self" for this one); empty if it is gone.
std::vector<int> ThreadIds(const std::string& pid);
// Whether some thread of pid can still run: false when the process is gone
// or every thread is a zombie or dead. A process whose exit the kernel
// reported can still run for a while: its last thread closes its files and
// gives back its memory after sched_process_exit, and can sleep or be
// preempted there.
bool ThreadsMayRun(int pid);
// The pid a process has in its own (innermost) pid namespace, from NSpid in
// /proc/PID/status: what it calls getpid(); 0 if it is gone.
int InnermostPid(int pid);
// pid -> ppid for every process on the system.
std::map<int, int> ReadParentMap();
// roots plus, when follow_children, all their living descendants.
std::set<int> WithDescendants(const std::vector<int>& roots, const std::map<int, int>& parents,
                              bool follow_children);
// Snapshot of one process and its threads; false if it vanished.
bool SnapshotProcess(int pid, v1::ProcessSnapshot* out);
// What /proc knows of a process still alive at the end of a run.
bool UnfinishedLifetime(int pid, v1::ProcessLifetime* out);
// Converts /proc start ticks (CLOCK_BOOTTIME) to CLOCK_MONOTONIC ns.
uint64_t StartTicksToMonotonicNs(uint64_t ticks);
uint64_t MonotonicNs();

}  // namespace probe
