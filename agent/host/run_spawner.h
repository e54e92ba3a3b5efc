// --repeat: every run of the command is forked by one helper process that
// the agent forks before it drops its privileges, so run 5 runs with the
// same user, capabilities and environment as run 1 (a command forked by the
// agent after the drop would run as the sudo user, with no_new_privs).
// The helper holds nothing of the agent's (every fd but its socket is
// closed) and launches each run exactly as the single launch does
// (Launcher: forked, held before exec until the agent has targeted its pid).
#pragma once
#include <sys/types.h>

#include <memory>
#include <string>
#include <vector>

#include "unique_fd.h"

namespace probe {

class RunSpawner {
 public:
  // Forks the helper. env as for Launcher::Start.
  static std::unique_ptr<RunSpawner> Create(const std::vector<std::string>& command,
                                            const std::vector<std::string>& env,
                                            std::string* error);
  // Closes the socket (a command still held then exits 127 without exec,
  // and the helper exits once a released one has ended) and reaps the
  // helper if it has exited within 100 ms.
  ~RunSpawner();
  RunSpawner(const RunSpawner&) = delete;
  RunSpawner& operator=(const RunSpawner&) = delete;

  // Forks the next run's command, held before exec: its pid, or -1 with *error.
  int Start(std::string* error);
  // Lets the held command exec; false with *error if exec failed.
  bool Release(std::string* error);
  // Whether the released command has ended (block: wait until it has),
  // with *status its wait status, or -1 if the helper is gone and it is
  // unknown.
  bool PollExit(bool block, int* status);

 private:
  RunSpawner(UniqueFd socket, pid_t helper) : socket_(std::move(socket)), helper_(helper) {}
  UniqueFd socket_;
  pid_t helper_;
};

}  // namespace probe
