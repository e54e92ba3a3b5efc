// The CPU time the processes that already existed when a recording started
// had used by then, so that their lifetime records can say the recording's
// share (`probe-agent --pid N` on a server that has run for days). Filled
// from the opening snapshots; read when a lifetime record is written. Lives
// as long as the recorder.
#pragma once
#include <cstdint>
#include <map>

#include "probe.pb.h"

namespace probe {

class CpuAtStart {
 public:
  // An opening snapshot, with the CPU time /proc gave then.
  void Note(const v1::ProcessSnapshot& s);
  // When p is a noted process (same pid, and a fork time within 20 ms of
  // the noted start time, /proc's being in 10 ms ticks: not a later process
  // with the pid reused), sets p's user_time_before_ns and
  // system_time_before_ns. Else leaves p as it is.
  void Annotate(v1::ProcessLifetime* p) const;

 private:
  struct Noted {
    uint64_t start_ns, user_ns, system_ns;
  };
  std::map<int32_t, Noted> by_pid_;
};

}  // namespace probe
