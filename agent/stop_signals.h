// The signals that stop a run (SIGINT, SIGTERM, SIGHUP), read from a
// signalfd that the drain loop and a wait for a FIFO's reader poll.
#pragma once
#include "unique_fd.h"

namespace probe {

// Blocks the stop signals (and SIGPIPE) and returns a signalfd for them.
UniqueFd MakeSignalFd();
// Whether a stop signal arrived (consumed), waiting up to wait_ms for one.
bool StopSignal(int sigfd, int wait_ms);

}  // namespace probe
