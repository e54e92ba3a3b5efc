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
  int go_pipe[2], status_pipe[2];
  if (pipe2(go_pipe, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + strerror(errno);
    return false;
  }
  UniqueFd go_read(go_pipe[0]), go_write(go_pipe[1]);
  if (pipe2(status_pipe, O_CLOEXEC) != 0) {
    *error = std::string("pipe: ") + strerror(errno);
    return false;
  }
  UniqueFd status_read(status_pipe[0]), status_write(status_pipe[1]);
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
    go_write.reset();
    status_read.reset();
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    char b;
    if (read(go_read.get(), &b, 1) != 1) _exit(127);  // agent gave up
    execvpe(argv[0], argv.data(), envp.data());
    int e = errno;
    (void)!write(status_write.get(), &e, sizeof(e));
    _exit(127);
  }
  pid_ = pid;
  go_fd_ = std::move(go_write);
  status_fd_ = std::move(status_read);
  return true;
}

bool Launcher::Release(std::string* error) {
  char b = 1;
  released_ = true;
  (void)!write(go_fd_.get(), &b, 1);
  go_fd_.reset();
  int e = 0;
  ssize_t n;
  do n = read(status_fd_.get(), &e, sizeof(e));
  while (n < 0 && errno == EINTR);
  status_fd_.reset();
  if (n == sizeof(e)) {
    *error = "cannot run " + name_ + ": " + strerror(e);
    waitpid(pid_, nullptr, 0);  // it _exits right after telling
    return false;
  }
  return true;
}

void Launcher::Abort() {
  if (pid_ > 0 && !released_) {
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
