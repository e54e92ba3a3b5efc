// Where the time of blocking waits went, per (process, syscall): of all the
// recorded calls that blocked, the share spent getting to block, blocked,
// on the run queue after the wakeup, and returning. Pure, bounded by keys.
#pragma once
#include <map>
#include <string>

#include "probe.pb.h"
#include "syscall_table.h"

namespace probe {

class WaitTable {
 public:
  void Add(const v1::SyscallCall& c);
  bool empty() const { return keys_.empty(); }
  std::string Format(const SyscallReportContext& ctx) const;

  struct Sums {
    uint64_t calls = 0;
    uint64_t total_ns = 0, to_block_ns = 0, blocked_ns = 0, run_queue_ns = 0, return_ns = 0;
  };
  const std::map<SyscallKey, Sums>& keys() const { return keys_; }

 private:
  static constexpr size_t kMaxKeys = 4096;
  std::map<SyscallKey, Sums> keys_;
};

}  // namespace probe
