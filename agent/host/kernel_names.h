// Names of the kernel things a waker's context points at: an irq's handler
// (from /proc/interrupts) and an hrtimer's function (from /proc/kallsyms).
// Looked up when first seen and cached; each file is read at most a bounded
// number of times, so a stream of new addresses cannot stall the drain.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>

#include "probe.pb.h"

namespace probe {

class KernelNames {
 public:
  // Fills irq_name and timer_function_name of the record's waker, if any.
  void Annotate(v1::Record* r);

 private:
  static constexpr int kMaxReads = 32;  // of each file, over the run
  const std::string& Irq(int irq);
  const std::string& Function(uint64_t addr);
  void Fill(v1::Waker* w);
  std::unordered_map<int, std::string> irqs_;
  std::unordered_map<uint64_t, std::string> functions_;
  int irq_reads_ = 0, kallsyms_reads_ = 0;
};

}  // namespace probe
