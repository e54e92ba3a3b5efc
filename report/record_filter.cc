#include "record_filter.h"

namespace probe {

RecordFilter::RecordFilter(const ReportOptions& o)
    : pids_(o.pids),
      tids_(o.tids),
      comms_(o.comms),
      kinds_(o.kinds),
      from_(o.from_ns),
      to_(o.to_ns) {
  active_ = !pids_.empty() || !tids_.empty() || !comms_.empty() || !kinds_.empty() || from_ || to_;
}

void RecordFilter::LearnName(const v1::Record& r) {
  if (r.has_snapshot()) comm_of_[r.snapshot().pid()] = r.snapshot().comm();
  if (r.has_process()) comm_of_[r.process().pid()] = r.process().comm();
}

bool RecordFilter::KeepPid(int32_t pid) const {
  if (!pids_.empty() && !pids_.count(pid)) return false;
  if (comms_.empty()) return true;
  auto it = comm_of_.find(pid);
  return it != comm_of_.end() && comms_.count(it->second);
}

// [from, to] overlaps the window (absolute ns).
bool RecordFilter::InWindow(uint64_t from, uint64_t to) const {
  if (from_ && to < start_ + *from_) return false;
  if (to_ && from > start_ + *to_) return false;
  return true;
}

bool RecordFilter::Keep(const v1::Record& r) {
  if (r.has_header()) start_ = r.header().start_time_ns();
  if (!active_) return true;
  auto kind = [&](const char* k) { return kinds_.empty() || kinds_.count(k); };
  switch (r.kind_case()) {
    case v1::Record::kProcess: {
      const auto& p = r.process();
      uint64_t end = p.exit_time_ns() ? p.exit_time_ns() : UINT64_MAX;
      return kind("process") && KeepPid(p.pid()) && InWindow(p.fork_time_ns(), end);
    }
    case v1::Record::kSnapshot:
      return kind("process") && KeepPid(r.snapshot().pid());
    case v1::Record::kSyscall: {
      const auto& c = r.syscall();
      return kind("syscall") && KeepPid(c.pid()) && KeepTid(c.tid()) &&
             InWindow(c.start_time_ns(), c.start_time_ns() + c.duration_ns());
    }
    case v1::Record::kSyscallHistogram:
      return kind("syscall") && KeepPid(r.syscall_histogram().pid()) && tids_.empty();
    case v1::Record::kWakeup: {
      const auto& w = r.wakeup();
      return kind("wakeup") && KeepPid(w.pid()) && KeepTid(w.tid()) &&
             InWindow(w.off_cpu_time_ns(), w.on_cpu_time_ns());
    }
    case v1::Record::kSchedHistogram:
      return kind("wakeup") && KeepPid(r.sched_histogram().pid()) && tids_.empty();
    case v1::Record::kShimCall: {
      const auto& c = r.shim_call();
      return kind("shim") && KeepPid(c.pid()) && KeepTid(c.tid()) &&
             InWindow(c.entry_ns(), c.entry_ns() + c.duration_ns());
    }
    case v1::Record::kMarker: {
      const auto& m = r.marker();
      return kind("marker") && KeepPid(m.pid()) && KeepTid(m.tid()) &&
             InWindow(m.time_ns(), m.time_ns());
    }
    default:
      return true;  // header, stats, trailer, thread names
  }
}

}  // namespace probe
