#include "record_visitor.h"

namespace probe {

void Visit(const v1::Record& r, RecordVisitor& v) {
  switch (r.kind_case()) {
    case v1::Record::kHeader:
      return v.OnHeader(r.header());
    case v1::Record::kTrailer:
      return v.OnTrailer(r.trailer());
    case v1::Record::kStats:
      return v.OnStats(r.stats());
    case v1::Record::kSnapshot:
      return v.OnSnapshot(r.snapshot());
    case v1::Record::kProcess:
      return v.OnProcess(r.process());
    case v1::Record::kSyscall:
      return v.OnSyscall(r.syscall());
    case v1::Record::kSyscallHistogram:
      return v.OnSyscallHistogram(r.syscall_histogram());
    case v1::Record::kWakeup:
      return v.OnWakeup(r.wakeup());
    case v1::Record::kSchedHistogram:
      return v.OnSchedHistogram(r.sched_histogram());
    case v1::Record::kShimCall:
      return v.OnShimCall(r.shim_call());
    case v1::Record::kMarker:
      return v.OnMarker(r.marker());
    case v1::Record::kThreadName:
      return v.OnThreadName(r.thread_name());
    case v1::Record::kRun:
      return v.OnRepeatRun(r.run());
    case v1::Record::KIND_NOT_SET:
      break;
  }
  v.OnUnknown(r);
}

}  // namespace probe
