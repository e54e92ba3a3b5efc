#include "run_spawner.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "launcher.h"

namespace probe {

namespace {

// One message each way per step: 'S' (start) -> "P<pid>" or "E<error>";
// 'G' (go) -> "O" or "E<error>"; then, when the command exits, "W<status>".
// SOCK_SEQPACKET keeps each message whole.
constexpr size_t kMaxMessage = 1024;

bool Send(int fd, const std::string& m) {
  ssize_t n;
  do n = send(fd, m.data(), m.size(), MSG_NOSIGNAL);
  while (n < 0 && errno == EINTR);
  return n == ssize_t(m.size());
}

// A message, "" on EOF or error; with block false, "" when none is there.
std::string Receive(int fd, bool block) {
  char buf[kMaxMessage];
  ssize_t n;
  do n = recv(fd, buf, sizeof(buf), block ? 0 : MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  return n > 0 ? std::string(buf, size_t(n)) : std::string();
}

// The helper's loop: never returns.
[[noreturn]] void Serve(int fd, const std::vector<std::string>& command,
                        const std::vector<std::string>& env) {
  for (;;) {
    if (Receive(fd, true) != "S") _exit(0);  // the agent is gone or done
    std::string error;
    auto launcher = std::make_unique<Launcher>();
    if (!launcher->Start(command, env, &error)) {
      Send(fd, "E" + error);
      continue;
    }
    if (!Send(fd, "P" + std::to_string(launcher->pid()))) _exit(0);  // ~Launcher: killed
    if (Receive(fd, true) != "G") _exit(0);
    if (!launcher->Release(&error)) {
      Send(fd, "E" + error);
      continue;
    }
    Send(fd, "O");
    int status = 0;
    pid_t r;
    do r = waitpid(launcher->pid(), &status, 0);
    while (r < 0 && errno == EINTR);
    Send(fd, "W" + std::to_string(r < 0 ? -1 : status));
  }
}

}  // namespace

std::unique_ptr<RunSpawner> RunSpawner::Create(const std::vector<std::string>& command,
                                               const std::vector<std::string>& env,
                                               std::string* error) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    *error = std::string("socketpair: ") + strerror(errno);
    return nullptr;
  }
  UniqueFd mine(sv[0]), theirs(sv[1]);
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + strerror(errno);
    return nullptr;
  }
  if (pid == 0) {
    // Keep stdio (the command's) and the socket; nothing else of the agent's:
    // not its output file, maps, rings or signalfd.
    if (dup2(theirs.get(), 3) < 0) _exit(127);
    fcntl(3, F_SETFD, FD_CLOEXEC);
    close_range(4, ~0u, 0);
    Serve(3, command, env);
  }
  return std::unique_ptr<RunSpawner>(new RunSpawner(std::move(mine), pid));
}

RunSpawner::~RunSpawner() {
  socket_.reset();
  // A helper still waiting for a running command (the agent leaves after a
  // write error, as a single launch leaves its command) is not waited for
  // beyond 100 ms: the agent's exit must not hang on the command's.
  for (int i = 0; i < 100 && waitpid(helper_, nullptr, WNOHANG) == 0; ++i) usleep(1000);
}

int RunSpawner::Start(std::string* error) {
  if (!Send(socket_.get(), "S")) {
    *error = "the run launcher is gone";
    return -1;
  }
  std::string reply = Receive(socket_.get(), true);
  if (reply.size() > 1 && reply[0] == 'P') return atoi(reply.c_str() + 1);
  *error = reply.size() > 1 && reply[0] == 'E' ? reply.substr(1) : "the run launcher is gone";
  return -1;
}

bool RunSpawner::Release(std::string* error) {
  std::string reply = Send(socket_.get(), "G") ? Receive(socket_.get(), true) : "";
  if (reply == "O") return true;
  *error = reply.size() > 1 && reply[0] == 'E' ? reply.substr(1) : "the run launcher is gone";
  return false;
}

bool RunSpawner::PollExit(bool block, int* status) {
  char buf[kMaxMessage];
  ssize_t n;
  do n = recv(socket_.get(), buf, sizeof(buf), block ? 0 : MSG_DONTWAIT);
  while (n < 0 && errno == EINTR);
  if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return false;
  const std::string reply = n > 0 ? std::string(buf, size_t(n)) : std::string();
  *status = reply.size() > 1 && reply[0] == 'W' ? atoi(reply.c_str() + 1) : -1;
  return true;
}

}  // namespace probe
