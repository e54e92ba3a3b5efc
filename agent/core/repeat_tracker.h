// --repeat N: which run of the launched command is going on, the run_index
// of its process records, and the RepeatRun record that closes it. Pure: the
// recorder tells it what happened (a run began, a process record was read,
// the command's wait status came, the last descendant is gone).
//
// Runs never overlap: run k+1 is forked only after every process of run k
// has exited and the rings were drained, so every process record read while
// run k is going on belongs to run k.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "probe.pb.h"

namespace probe {

class RepeatTracker {
 public:
  explicit RepeatTracker(uint32_t count) : count_(count) {}

  uint32_t count() const { return count_; }
  uint32_t started() const { return started_; }
  bool active() const { return active_; }
  // Every run was started and the last one has ended.
  bool done() const { return started_ >= count_ && !active_; }

  // Run started() + 1 begins: its command was forked at start_ns as pid.
  void Begin(int pid, uint64_t start_ns);
  // A process record read while a run is going on: it gets the run's index,
  // is counted, and its times extend the run. Outside a run: left alone.
  void Tag(v1::ProcessLifetime* p);
  // The launched command's wait status (as waitpid gives it; -1: unknown,
  // which counts as a failure).
  void CommandExited(int wait_status);
  bool command_exited() const { return exited_; }
  // The run is over (its last process exited, the rings drained); now_ns is
  // when the agent saw it, the end when no process record gave an exit time.
  v1::Record End(uint64_t now_ns);

  // "run 3 of 5 failed (exit 1)", "runs 2, 4 of 5 failed (2: signal 9, ...)";
  // "" when every ended run succeeded.
  std::string FailureLine() const;
  // 0 when every ended run succeeded, else the shell status (128+signal for
  // a signal) of the first failed run: with --repeat 1 the same status as
  // the single launch.
  int ExitStatus() const;

 private:
  struct Outcome {
    uint32_t index;
    int wait_status;
  };
  const uint32_t count_;
  uint32_t started_ = 0;
  bool active_ = false;
  int pid_ = 0;
  int wait_status_ = -1;
  bool exited_ = false;
  uint64_t start_ns_ = 0, exec_ns_ = 0, end_ns_ = 0;
  uint32_t processes_ = 0;
  std::vector<Outcome> failed_;
};

}  // namespace probe
