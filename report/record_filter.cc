#include "record_filter.h"

#include "record_extent.h"

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

void RecordFilter::LearnName(const v1::Record& r) { Visit(r, names_); }

bool RecordFilter::KeepPid(int32_t pid) const {
  if (!pids_.empty() && !pids_.count(pid)) return false;
  if (comms_.empty()) return true;
  const std::string* name = names_.Process(pid);
  return name && comms_.count(*name);
}

// [from, to] overlaps the window (absolute ns).
bool RecordFilter::InWindow(uint64_t from, uint64_t to) const {
  if (from_ && to < start_ + *from_) return false;
  if (to_ && from > start_ + *to_) return false;
  return true;
}

bool RecordFilter::Keep(const v1::Record& r) {
  Visit(r, *this);  // the header sets the origin of --from/--to
  if (!active_) return true;
  const RecordExtent e = ExtentOf(r);
  if (!e.kind) return true;  // header, stats, trailer, thread names
  if (!kinds_.empty() && !kinds_.count(e.kind)) return false;
  if (e.has_pid && !KeepPid(e.pid)) return false;
  if (e.thread == RecordExtent::Thread::kOne && !KeepTid(e.tid)) return false;
  if (e.thread == RecordExtent::Thread::kAllOfPid && !tids_.empty()) return false;
  return !e.timed || InWindow(e.begin, e.end);
}

}  // namespace probe
