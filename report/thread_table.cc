#include "thread_table.h"

#include <algorithm>
#include <cstdio>
#include <sstream>
#include <vector>

namespace probe {

ThreadTable::Totals* ThreadTable::Of(int32_t pid, int32_t tid) {
  const ThreadKey key{pid, tid};
  if (threads_.size() >= kMaxThreads && !threads_.count(key)) return nullptr;
  return &threads_[key];
}

void ThreadTable::OnSyscall(const v1::SyscallCall& c) {
  if (Totals* t = Of(c.pid(), c.tid())) {
    ++t->syscalls;
    t->syscall_ns += c.duration_ns();
    const auto& b = c.breakdown();
    t->blocked_ns += b.total_blocked_ns() ? b.total_blocked_ns() : b.blocked_ns();
  }
}

void ThreadTable::OnWakeup(const v1::Wakeup& w) {
  if (Totals* t = Of(w.pid(), w.tid())) {
    ++t->wakeups;
    t->run_queue_ns += w.run_queue_ns();
  }
}

void ThreadTable::OnShimCall(const v1::ShimCall& c) {
  if (Totals* t = Of(c.pid(), c.tid())) ++t->shim_calls;
}

void ThreadTable::OnMarker(const v1::Marker& m) {
  if (Totals* t = Of(m.pid(), m.tid())) ++t->markers;
}

std::string ThreadTable::Format(const SyscallReportContext& ctx) const {
  if (threads_.empty()) return "";
  std::vector<std::pair<ThreadKey, Totals>> rows(threads_.begin(), threads_.end());
  std::sort(rows.begin(), rows.end(), [](const auto& a, const auto& b) {
    return a.second.syscall_ns != b.second.syscall_ns ? a.second.syscall_ns > b.second.syscall_ns
                                                      : a.first < b.first;
  });
  std::ostringstream o;
  o << "\nthreads (" << rows.size() << ", by time in recorded syscalls"
    << (rows.size() > kShown ? ", top " + std::to_string(kShown) : std::string()) << "):\n";
  char line[256];
  snprintf(line, sizeof(line), "%8s %8s %-16s %9s %11s %11s %8s %11s %7s %7s\n", "PID", "TID",
           "COMM", "SYSCALLS", "IN SYSCALL", "BLOCKED", "WAKEUPS", "RUN QUEUE", "SHIM", "MARKS");
  o << line;
  for (size_t i = 0; i < rows.size() && i < kShown; ++i) {
    const auto& [key, t] = rows[i];
    snprintf(line, sizeof(line), "%8d %8d %-16s %9llu %11s %11s %8llu %11s %7llu %7llu\n", key.pid,
             key.tid, CommOf(ctx, key.pid).c_str(), (unsigned long long)t.syscalls,
             FormatDuration(t.syscall_ns).c_str(), FormatDuration(t.blocked_ns).c_str(),
             (unsigned long long)t.wakeups, FormatDuration(t.run_queue_ns).c_str(),
             (unsigned long long)t.shim_calls, (unsigned long long)t.markers);
    o << line;
  }
  return o.str();
}

}  // namespace probe
