// Per-thread summary: what each thread spent in traced syscalls, blocked, on
// the run queue, and in the shim's calls and markers. Pure; bounded.
#pragma once
#include <map>
#include <string>

#include "probe.pb.h"
#include "record_visitor.h"
#include "shim_table.h"
#include "syscall_table.h"

namespace probe {

class ThreadTable : public RecordVisitor {
 public:
  static constexpr size_t kMaxThreads = 65536;
  static constexpr size_t kShown = 20;

  void OnSyscall(const v1::SyscallCall& c) override;
  void OnWakeup(const v1::Wakeup& w) override;
  void OnShimCall(const v1::ShimCall& c) override;
  void OnMarker(const v1::Marker& m) override;
  void Add(const v1::Record& r) { Visit(r, *this); }
  bool empty() const { return threads_.empty(); }
  // The kShown threads with the most time in traced syscalls.
  std::string Format(const SyscallReportContext& ctx) const;

  struct Totals {
    uint64_t syscalls = 0, syscall_ns = 0, blocked_ns = 0;
    uint64_t wakeups = 0, run_queue_ns = 0;
    uint64_t shim_calls = 0, markers = 0;
  };
  const std::map<ThreadKey, Totals>& threads() const { return threads_; }

 private:
  Totals* Of(int32_t pid, int32_t tid);
  std::map<ThreadKey, Totals> threads_;
};

}  // namespace probe
