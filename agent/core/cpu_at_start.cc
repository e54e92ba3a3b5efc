#include "cpu_at_start.h"

namespace probe {

namespace {
// /proc gives start times in clock ticks (10 ms at USER_HZ 100); the
// kernel's exit record has the exact fork time.
constexpr uint64_t kStartSlackNs = 20'000'000;
}  // namespace

void CpuAtStart::Note(const v1::ProcessSnapshot& s) {
  if (!s.has_user_time_ns() || !s.has_system_time_ns()) return;
  by_pid_[s.pid()] = {s.start_time_ns(), s.user_time_ns(), s.system_time_ns()};
}

void CpuAtStart::Annotate(v1::ProcessLifetime* p) const {
  auto it = by_pid_.find(p->pid());
  if (it == by_pid_.end()) return;
  const Noted& n = it->second;
  const uint64_t fork = p->fork_time_ns();
  if (fork + kStartSlackNs < n.start_ns || fork > n.start_ns + kStartSlackNs) return;
  p->set_user_time_before_ns(n.user_ns);
  p->set_system_time_before_ns(n.system_ns);
}

}  // namespace probe
