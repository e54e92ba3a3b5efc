#include "stop_signals.h"

#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

namespace probe {

// SIGINT, SIGTERM and SIGHUP become readable on the returned fd, which the
// drain loop (and a wait for a FIFO's reader) polls.
UniqueFd MakeSignalFd() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGHUP);
  sigprocmask(SIG_BLOCK, &set, nullptr);
  // A reader that goes away (-o FIFO) makes write() fail with EPIPE, which
  // stops the run with one line, instead of SIGPIPE killing the agent
  // without a word. The launched command gets an empty mask at fork.
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  sigprocmask(SIG_BLOCK, &pipe_set, nullptr);
  return UniqueFd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
}

bool StopSignal(int sigfd, int wait_ms) {
  if (wait_ms > 0) {
    pollfd p{sigfd, POLLIN, 0};
    poll(&p, 1, wait_ms);
  }
  signalfd_siginfo si;
  return read(sigfd, &si, sizeof(si)) == sizeof(si);
}

}  // namespace probe
