// Starts CMD held before exec, so the agent can target its pid first and
// not miss even its first exec.
#pragma once
#include <string>
#include <vector>

namespace probe {

class Launcher {
 public:
  // Forks a child that waits; returns false with *error on failure. env:
  // "NAME=value" entries that replace or extend the agent's environment.
  bool Start(const std::vector<std::string>& command, const std::vector<std::string>& env,
             std::string* error);
  // Lets the child exec. Returns false with *error if exec failed.
  bool Release(std::string* error);
  // Kills the held child (used when setup fails before Release).
  void Abort();
  int pid() const { return pid_; }

 private:
  int pid_ = -1;
  int go_fd_ = -1;      // write end: a byte releases the child
  int status_fd_ = -1;  // read end: errno from a failed exec, EOF on success
  std::string name_;
};

// Exit status of a child as a shell would report it.
int ShellExitStatus(int wait_status);

}  // namespace probe
