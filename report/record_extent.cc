#include "record_extent.h"

#include <cstdint>

#include "record_visitor.h"

namespace probe {

namespace {

class ExtentVisitor : public RecordVisitor {
 public:
  RecordExtent e;

  void OnProcess(const v1::ProcessLifetime& p) override {
    Set("process", p.pid());
    Span(p.fork_time_ns(), p.exit_time_ns() ? p.exit_time_ns() : UINT64_MAX);
  }
  void OnSnapshot(const v1::ProcessSnapshot& s) override { Set("process", s.pid()); }
  void OnSyscall(const v1::SyscallCall& c) override {
    Set("syscall", c.pid(), c.tid());
    Span(c.start_time_ns(), c.start_time_ns() + c.duration_ns());
  }
  void OnSyscallHistogram(const v1::SyscallHistogram& h) override {
    Set("syscall", h.pid());
    e.thread = RecordExtent::Thread::kAllOfPid;
  }
  void OnWakeup(const v1::Wakeup& w) override {
    Set("wakeup", w.pid(), w.tid());
    Span(w.off_cpu_time_ns(), w.on_cpu_time_ns());
  }
  void OnSchedHistogram(const v1::SchedHistogram& h) override {
    Set("wakeup", h.pid());
    e.thread = RecordExtent::Thread::kAllOfPid;
  }
  void OnShimCall(const v1::ShimCall& c) override {
    Set("shim", c.pid(), c.tid());
    Span(c.entry_ns(), c.entry_ns() + c.duration_ns());
  }
  void OnMarker(const v1::Marker& m) override {
    Set("marker", m.pid(), m.tid());
    Span(m.time_ns(), m.time_ns());
  }

 private:
  void Set(const char* kind, int32_t pid) {
    e.kind = kind;
    e.has_pid = true;
    e.pid = pid;
  }
  void Set(const char* kind, int32_t pid, int32_t tid) {
    Set(kind, pid);
    e.thread = RecordExtent::Thread::kOne;
    e.tid = tid;
  }
  void Span(uint64_t begin, uint64_t end) {
    e.timed = true;
    e.begin = begin;
    e.end = end;
  }
};

}  // namespace

RecordExtent ExtentOf(const v1::Record& r) {
  ExtentVisitor v;
  Visit(r, v);
  return v.e;
}

}  // namespace probe
