// Starts CMD held before exec, so the agent can target its pid first and
// not miss even its first exec.
#pragma once
#include <string>
#include <vector>

#include "unique_fd.h"

namespace probe {

class Launcher {
 public:
  Launcher() = default;
  // A child still held (never released) is killed and reaped.
  ~Launcher() { Abort(); }
  Launcher(const Launcher&) = delete;
  Launcher& operator=(const Launcher&) = delete;

  // Forks a child that waits; returns false with *error on failure. env:
  // "NAME=value" entries that replace or extend the agent's environment.
  bool Start(const std::vector<std::string>& command, const std::vector<std::string>& env,
             std::string* error);
  // Lets the child exec. Returns false with *error if exec failed (the
  // child has then exited, and is reaped).
  bool Release(std::string* error);
  // Kills and reaps a child still held (when setup fails before Release);
  // a released child is left alone.
  void Abort();
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  bool released_ = false;
  UniqueFd go_fd_;      // write end: a byte releases the child
  UniqueFd status_fd_;  // read end: errno from a failed exec, EOF on success
  std::string name_;
};

// Exit status of a child as a shell would report it.
int ShellExitStatus(int wait_status);

}  // namespace probe
