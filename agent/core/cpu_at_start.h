// The CPU time the processes that already existed when a recording started
// had used by then, so that their lifetime records count only the
// recording's share (`probe-agent --pid N` on a server that has run for
// days). Filled from the opening snapshots; read when a lifetime record is
// written. Lives as long as the recorder.
#pragma once
#include <cstdint>
#include <map>

#include "probe.pb.h"

namespace probe {

class CpuAtStart {
 public:
  // A snapshot taken at when_ns, with the CPU time /proc gave then.
  void Note(const v1::ProcessSnapshot& s, uint64_t when_ns);
  // When p is a noted process (same pid, and a fork time within /proc's
  // 10 ms of its start time: not a later process with the pid reused),
  // takes the noted CPU time off p's (never below 0) and sets
  // p->cpu_time_since_ns. Else leaves p as it is.
  void Subtract(v1::ProcessLifetime* p) const;

 private:
  struct Noted {
    uint64_t start_ns, user_ns, system_ns, when_ns;
  };
  std::map<int32_t, Noted> by_pid_;
};

}  // namespace probe
