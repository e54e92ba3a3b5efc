// The HTML page's process tree: each traced process under its parent, from
// fork through exec to exit, on a time axis. Bounded: kMaxProcesses drawn,
// the rest counted.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

#include "probe.pb.h"
#include "record_visitor.h"

namespace probe::html {

class ProcessTree : public RecordVisitor {
 public:
  static constexpr size_t kMaxProcesses = 2000;

  void OnSnapshot(const v1::ProcessSnapshot& s) override;
  void OnProcess(const v1::ProcessLifetime& l) override;
  // The section, on an axis from origin (the agent's start; 0: the first
  // process) to last_time; counts its plot in *plots.
  std::string Section(uint64_t origin, uint64_t last_time, size_t* plots) const;

 private:
  struct Proc {
    int32_t pid = 0, ppid = 0;
    std::string comm, command;
    uint64_t start_ns = 0;  // fork, or the start /proc gave for a snapshot
    uint64_t exec_ns = 0, exit_ns = 0;
    bool snapshot = false;      // existed when recording started
    bool has_lifetime = false;  // a ProcessLifetime record came
    bool finished = false;
    std::string status;  // "exit 0", "signal 9", "running"
    uint64_t user_ns = 0, sys_ns = 0, rss = 0;
    uint32_t exec_count = 0;
  };
  std::vector<Proc> procs_;
  std::unordered_map<int32_t, size_t> proc_by_pid_;  // the latest node of each pid
  uint64_t procs_dropped_ = 0;
};

}  // namespace probe::html
