#include "launcher.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace probe {

namespace {

// The agent's environment with env's entries replacing those of the same name.
std::vector<std::string> MergeEnvironment(const std::vector<std::string>& env) {
  std::vector<std::string> out;
  auto name_of = [](const std::string& e) { return e.substr(0, e.find('=')); };
  for (char** e = environ; *e; ++e) {
    std::string entry(*e);
    bool replaced = false;
    for (const auto& o : env) replaced |= name_of(o) == name_of(entry);
    if (!replaced) out.push_back(entry);
  }
  out.insert(out.end(), env.begin(), env.end());
  return out;
}

}  // namespace

bool Launcher::Start(const std::vector<std::string>& command, const std::vector<std::string>& env,
                     std::string* error) {
  int go[2], status[2];
  if (pipe2(go, O_CLOEXEC) != 0 || pipe2(status, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + strerror(errno);
    return false;
  }
  std::vector<char*> argv;
  for (const auto& a : command) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // Built before fork: the child only execs.
  std::vector<std::string> merged = MergeEnvironment(env);
  std::vector<char*> envp;
  for (auto& e : merged) envp.push_back(e.data());
  envp.push_back(nullptr);
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
    execvpe(argv[0], argv.data(), envp.data());
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
