#include "wait_table.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

namespace probe {

void WaitTable::Add(const v1::SyscallCall& c) {
  if (!c.has_breakdown()) return;
  const SyscallKey key{c.pid(), c.syscall()};
  if (keys_.size() >= kMaxKeys && !keys_.count(key)) return;
  const auto& b = c.breakdown();
  Sums& s = keys_[key];
  ++s.calls;
  s.total_ns += c.duration_ns();
  s.to_block_ns += b.to_block_ns();
  // All episodes when it blocked more than once; the run queue and return
  // are of the last one.
  s.blocked_ns += b.total_blocked_ns() ? b.total_blocked_ns() : b.blocked_ns();
  s.run_queue_ns += b.run_queue_ns();
  s.return_ns += b.return_ns();
}

std::string WaitTable::Format(const SyscallReportContext& ctx) const {
  if (keys_.empty()) return "";
  std::vector<std::pair<SyscallKey, Sums>> rows(keys_.begin(), keys_.end());
  std::sort(rows.begin(), rows.end(),
            [](const auto& a, const auto& b) { return a.second.total_ns > b.second.total_ns; });
  std::ostringstream o;
  o << "\nwhere the time of blocking waits went (recorded calls that blocked):\n";
  char line[256];
  snprintf(line, sizeof(line), "%8s %-16s %-18s %7s %11s %9s %9s %9s %9s\n", "PID", "COMM",
           "SYSCALL", "CALLS", "TOTAL", "BLOCKED", "RUNQUEUE", "TO BLOCK", "RETURN");
  o << line;
  for (const auto& [key, s] : rows) {
    // The parts can exceed the call when a call blocked several times and
    // the last episode's run queue overlaps; shares are of their sum.
    const double parts =
        double(s.to_block_ns + s.blocked_ns + s.run_queue_ns + s.return_ns) / 100.0;
    auto pct = [&](uint64_t v) { return parts > 0 ? double(v) / parts : 0.0; };
    snprintf(line, sizeof(line), "%8d %-16s %-18s %7llu %11s %8.1f%% %8.1f%% %8.1f%% %8.1f%%\n",
             key.pid, CommOf(ctx, key.pid).c_str(), SyscallName(key.syscall).c_str(),
             (unsigned long long)s.calls, FormatDuration(s.total_ns).c_str(), pct(s.blocked_ns),
             pct(s.run_queue_ns), pct(s.to_block_ns), pct(s.return_ns));
    o << line;
  }
  return o.str();
}

}  // namespace probe
