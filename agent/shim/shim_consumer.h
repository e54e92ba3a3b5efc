// Reads one shim region (preload/probe_shm.h) into records. Pure: it is given
// the mapped bytes and never touches the kernel, so it is unit-tested and
// fuzzed with arbitrary bytes. The region is written by an unprivileged
// process while this reads it, so nothing in it is trusted: the geometry is
// read once and checked against the mapping's size, every index is masked,
// head is bounded by this side's own tail, and every event is copied out
// once, then checked and decoded from that copy only. An event becomes a
// record only if the shim could have written it (see DecodeEvent): what a
// process scribbles over its region is rejected, not attributed to it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "probe.pb.h"
#include "tsc_clock.h"
extern "C" {
#include "probe_shm.h"
}

namespace probe {

// What one region's consumer has seen; produced and the shim-side counters
// are as the shim reported them.
struct ShimTally {
  uint64_t produced = 0;  // shim: seen + lost_no_buffer + lost_no_name
  uint64_t written = 0;   // records handed to the sink that it accepted
  uint64_t lost_write = 0;
  uint64_t sampled_out = 0;  // all four reasons below
  uint64_t sampled_one_in_n = 0, sampled_min_latency = 0, sampled_first_k = 0;
  uint64_t sampled_rate = 0;  // by the agent: over --max-rate
  uint64_t lost_buffer_full = 0;
  uint64_t lost_no_buffer = 0;
  uint64_t rejected = 0;  // invalid events and index violations
};

class ShimConsumer {
 public:
  // Returns the record to write; the sink returns false when it could not.
  using Sink = std::function<bool(const v1::Record&)>;
  // Whether the global record cap lets one more through (--max-rate); empty
  // for no cap.
  using RateCheck = std::function<bool()>;

  // base/size: the whole mapping (size from the file, not the header).
  // pid: the process the region was found in; the header must agree.
  // own_pid: the pid the process has in its own pid namespace (what the shim
  // writes in the header), when it is not pid; kAnyPid: the sender is known
  // by other means and the header's pid is not checked.
  static constexpr int32_t kAnyPid = -1;
  static std::unique_ptr<ShimConsumer> Attach(uint8_t* base, size_t size, int32_t pid,
                                              std::string* error, int32_t own_pid = 0);

  // The earliest CLOCK_MONOTONIC ns an event of the region's process can
  // carry (its start, when known); unset, only 0 is refused.
  void SetNotBefore(uint64_t ns) { not_before_ns_ = ns; }

  // CLOCK_MONOTONIC ns now. Drain reads it after each slot's head, so no
  // event published before that read can end after it.
  using Now = std::function<uint64_t()>;

  // Consumes every event published since the last call: at most slot_events
  // per slot, so a writer that keeps moving head cannot hold the agent.
  void Drain(const TscClock& clock, const Now& now, const Sink& sink,
             const RateCheck& rate = RateCheck());

  // The producer's counters, re-read (they only matter once the process is
  // gone and they stop moving).
  ShimTally Tally() const;
  void FillProcess(v1::ShimProcess* p) const;
  int32_t pid() const { return pid_; }
  bool self_drained() const;

 private:
  ShimConsumer() = default;
  bool DecodeEvent(const probe_shm_event& e, int32_t tid, const TscClock& clock, uint64_t now_ns,
                   v1::Record* r);
  bool InWindow(uint64_t t_ns, uint64_t now_ns) const;
  const std::string& Name(uint32_t id);
  uint64_t ToNs(uint64_t t, const TscClock& clock) const;
  uint32_t SlotsInUse() const;

  uint8_t* base_ = nullptr;
  size_t size_ = 0;
  int32_t pid_ = 0;
  uint32_t nslots_ = 0, slot_events_ = 0, nnames_ = 0, clock_ = 0, flags_ = 0;
  uint32_t sample_every_ = 1, functions_ = 0;
  uint64_t min_duration_ns_ = 0;
  uint64_t not_before_ns_ = 0;
  std::vector<uint64_t> tails_;  // this side's own tail per slot: never read back
  std::map<uint32_t, std::string> names_;
  uint32_t first_per_second_ = 0;
  uint64_t written_ = 0, lost_write_ = 0, rejected_ = 0, sampled_rate_ = 0;
};

}  // namespace probe
