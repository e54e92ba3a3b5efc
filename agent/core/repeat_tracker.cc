#include "repeat_tracker.h"

#include <sys/wait.h>

#include <algorithm>

namespace probe {

namespace {

bool Succeeded(int wait_status) { return WIFEXITED(wait_status) && WEXITSTATUS(wait_status) == 0; }

std::string Describe(int wait_status) {
  if (WIFEXITED(wait_status)) return "exit " + std::to_string(WEXITSTATUS(wait_status));
  if (WIFSIGNALED(wait_status)) return "signal " + std::to_string(WTERMSIG(wait_status));
  return "status " + std::to_string(wait_status);
}

}  // namespace

void RepeatTracker::Begin(int pid, uint64_t start_ns) {
  ++started_;
  active_ = true;
  pid_ = pid;
  wait_status_ = -1;
  exited_ = false;
  start_ns_ = start_ns;
  exec_ns_ = end_ns_ = 0;
  processes_ = 0;
}

void RepeatTracker::Tag(v1::ProcessLifetime* p) {
  if (!active_) return;
  p->set_run_index(started_);
  ++processes_;
  end_ns_ = std::max(end_ns_, p->exit_time_ns());
  if (p->pid() == pid_) {
    // The launched command's first exec: a command that execs again (sh -c
    // 'exec prog') keeps the time of its first one.
    exec_ns_ = p->first_exec_time_ns() ? p->first_exec_time_ns() : p->exec_time_ns();
    // The kernel's fork time, rather than when the agent heard of the pid.
    if (p->fork_time_ns()) start_ns_ = p->fork_time_ns();
  }
}

void RepeatTracker::CommandExited(int wait_status) {
  wait_status_ = wait_status;
  exited_ = true;
}

v1::Record RepeatTracker::End(uint64_t now_ns) {
  v1::Record record;
  v1::RepeatRun* run = record.mutable_run();
  run->set_index(started_);
  run->set_pid(pid_);
  run->set_start_time_ns(start_ns_);
  run->set_exec_time_ns(exec_ns_);
  // Without process records (--events without process) the end is when the
  // agent saw the last target go: later by up to its polling interval.
  const uint64_t end = end_ns_ ? end_ns_ : now_ns;
  run->set_end_time_ns(end);
  const uint64_t from = exec_ns_ ? exec_ns_ : start_ns_;
  run->set_duration_ns(end > from ? end - from : 0);
  if (wait_status_ >= 0 && WIFSIGNALED(wait_status_)) {
    run->set_exit_signal(WTERMSIG(wait_status_));
  } else if (wait_status_ >= 0 && WIFEXITED(wait_status_)) {
    run->set_exit_code(WEXITSTATUS(wait_status_));
  }
  const bool ok = wait_status_ >= 0 && Succeeded(wait_status_);
  run->set_succeeded(ok);
  run->set_processes(processes_);
  if (!ok) failed_.push_back({started_, wait_status_});
  active_ = false;
  return record;
}

std::string RepeatTracker::FailureLine() const {
  if (failed_.empty()) return "";
  // One line whatever N: at most kListed runs named.
  constexpr size_t kListed = 10;
  std::string line = failed_.size() == 1 ? "run " : "runs ";
  for (size_t i = 0; i < failed_.size() && i < kListed; ++i)
    line += (i ? ", " : "") + std::to_string(failed_[i].index);
  if (failed_.size() > kListed)
    line += " and " + std::to_string(failed_.size() - kListed) + " more";
  line += " of " + std::to_string(count_) + " failed (";
  for (size_t i = 0; i < failed_.size() && i < kListed; ++i) {
    if (failed_.size() > 1) line += (i ? ", " : "") + std::to_string(failed_[i].index) + ": ";
    line += failed_[i].wait_status >= 0 ? Describe(failed_[i].wait_status) : "status unknown";
  }
  if (failed_.size() > kListed) line += ", ...";
  return line + ")";
}

int RepeatTracker::ExitStatus() const {
  if (failed_.empty()) return 0;
  const int s = failed_.front().wait_status;
  if (s < 0) return 1;
  if (WIFEXITED(s)) return WEXITSTATUS(s);
  if (WIFSIGNALED(s)) return 128 + WTERMSIG(s);
  return 1;
}

}  // namespace probe
