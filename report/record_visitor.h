// The record model of probe-report: every output is a RecordVisitor, and
// Visit() is the one place that branches on a record's kind. A visitor
// overrides only the kinds it uses; the rest are no-ops, so a new record
// kind is one new method here and one case in record_visitor.cc.
#pragma once
#include "probe.pb.h"

namespace probe {

class RecordVisitor {
 public:
  virtual ~RecordVisitor() = default;
  virtual void OnHeader(const v1::Header&) {}
  virtual void OnTrailer(const v1::Trailer&) {}
  virtual void OnStats(const v1::Stats&) {}
  virtual void OnSnapshot(const v1::ProcessSnapshot&) {}
  virtual void OnProcess(const v1::ProcessLifetime&) {}
  virtual void OnSyscall(const v1::SyscallCall&) {}
  virtual void OnSyscallHistogram(const v1::SyscallHistogram&) {}
  virtual void OnWakeup(const v1::Wakeup&) {}
  virtual void OnSchedHistogram(const v1::SchedHistogram&) {}
  virtual void OnShimCall(const v1::ShimCall&) {}
  virtual void OnMarker(const v1::Marker&) {}
  virtual void OnThreadName(const v1::ThreadName&) {}
  virtual void OnRepeatRun(const v1::RepeatRun&) {}
  // A kind this build does not know (a newer writer's), or an empty record.
  virtual void OnUnknown(const v1::Record&) {}
};

// Calls the one method of v that matches r's kind.
void Visit(const v1::Record& r, RecordVisitor& v);

}  // namespace probe
