// A process's user and system time as the outputs show them: the
// recording's share for a process that already existed when the recording
// started (its lifetime record carries its CPU time then), else its CPU
// time since its own start.
#pragma once
#include <cstdint>

#include "probe.pb.h"

namespace probe {

struct ProcessCpu {
  uint64_t user_ns = 0, system_ns = 0;
  bool in_recording = false;  // the recording's share, not since its start
};

// The share is the total less the total then (never below 0), split between
// user and system as their own differences are: /proc's split at the start
// and the kernel's at the exit are made apart, so one side alone can go
// below 0 while the total does not.
ProcessCpu CpuShown(const v1::ProcessLifetime& p);

}  // namespace probe
