#include "record_kind.h"

namespace probe {

v1::EventKind KindOfRecord(const v1::Record& r) {
  switch (r.kind_case()) {
    case v1::Record::kSyscall:
      return v1::EVENT_KIND_SYSCALL;
    case v1::Record::kShimCall:
    case v1::Record::kMarker:
      return v1::EVENT_KIND_SHIM;
    case v1::Record::kWakeup:
      return v1::EVENT_KIND_WAKEUP;
    default:
      return v1::EVENT_KIND_PROCESS;
  }
}

const v1::Waker* WakerOf(const v1::Record& r) {
  if (r.has_wakeup() && r.wakeup().has_waker()) return &r.wakeup().waker();
  if (r.has_syscall() && r.syscall().has_breakdown() && r.syscall().breakdown().has_waker())
    return &r.syscall().breakdown().waker();
  return nullptr;
}

v1::Waker* MutableWakerOf(v1::Record* r) {
  return WakerOf(*r) == nullptr ? nullptr
         : r->has_wakeup()      ? r->mutable_wakeup()->mutable_waker()
                                : r->mutable_syscall()->mutable_breakdown()->mutable_waker();
}

const v1::ProcessLifetime* ProcessOf(const v1::Record& r) {
  return r.has_process() ? &r.process() : nullptr;
}

bool IsHeader(const v1::Record& r) { return r.has_header(); }

RecordText TextOf(const v1::Record& r) {
  switch (r.kind_case()) {
    case v1::Record::kSyscallHistogram:
    case v1::Record::kSchedHistogram:
    case v1::Record::kShimCall:
    case v1::Record::KIND_NOT_SET:
      return RecordText::kNone;
    case v1::Record::kWakeup:
    case v1::Record::kSyscall:
      return RecordText::kWakerName;
    default:
      return RecordText::kAny;
  }
}

bool HoldsProtoStrings(const v1::Record& r) {
  return r.has_header() || r.has_trailer() || r.has_stats();
}

}  // namespace probe
