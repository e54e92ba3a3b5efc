#include "launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace probe {

bool Launcher::Start(const std::vector<std::string>& command, std::string* error) {
  int go[2], status[2];
  if (pipe2(go, O_CLOEXEC) != 0 || pipe2(status, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + strerror(errno);
    return false;
  }
  std::vector<char*> argv;
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  name_ = command[0];
  pid_t pid = fork();
  if (pid < 0) {
    *error = std::string("fork: ") + strerror(errno);
    return false;
  }
  if (pid == 0) {
    close(go[1]);
    close(status[0]);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    char b;
    if (read(go[0], &b, 1) != 1) _exit(127);  // agent gave up
    execvp(argv[0], argv.data());
    int e = errno;
    (void)!write(status[1], &e, sizeof(e));
    _exit(127);
  }
  close(go[0]);
  close(status[1]);
  pid_ = pid;
  go_fd_ = go[1];
  status_fd_ = status[0];
  return true;
}

bool Launcher::Release(std::string* error) {
  char b = 1;
  (void)!write(go_fd_, &b, 1);
  close(go_fd_);
  go_fd_ = -1;
  int e = 0;
  ssize_t n;
  do n = read(status_fd_, &e, sizeof(e));
  while (n < 0 && errno == EINTR);
  close(status_fd_);
  status_fd_ = -1;
  if (n == sizeof(e)) {
    *error = "cannot run " + name_ + ": " + strerror(e);
    return false;
  }
  return true;
}

void Launcher::Abort() {
  if (pid_ > 0) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }
}

int ShellExitStatus(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return 1;
}

}  // namespace probe
