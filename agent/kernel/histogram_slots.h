// One family of the kernel's histogram slots (bpf/hist_slots.bpf.h): the
// index (pid, key) -> slot, the per-CPU slot array, each slot's owner and the
// queue of slots given back. Reads the histograms through the index. A
// finished key leaves the index and its slot's owner is cleared, so a thread
// of the exited process still running (one asleep in its exit path) takes a
// new key rather than count into the slot's next owner; the slot goes back
// to the kernel a full pass later (deleted in pass N, given back at the
// start of pass N + 2).
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

extern "C" {
#include <linux/types.h>

#include "probe_events.h"
}

struct bpf_map;

namespace probe {

// Called with a key and its per-CPU values (ncpu of them).
using HistogramVisitor =
    std::function<void(const probe_hist_key& key, const probe_hist* per_cpu, int ncpu)>;

// The maps of one family; they belong to the BPF skeleton, which outlives
// this object (BpfSession holds both).
struct HistogramSlotMaps {
  bpf_map* index = nullptr;
  bpf_map* slots = nullptr;
  bpf_map* free = nullptr;
  bpf_map* owner = nullptr;
};

class HistogramSlots {
 public:
  HistogramSlots() = default;
  explicit HistogramSlots(HistogramSlotMaps maps) : maps_(maps) {}
  bool loaded() const { return maps_.index != nullptr; }
  void ForEach(const HistogramVisitor& visit) const;
  // Takes the key out of the index; its slot is given back at the next
  // Recycle, not before.
  void Delete(const probe_hist_key& key);
  // Zeroes and queues the slots deleted before the previous Recycle.
  void Recycle();

 private:
  // slot's per-CPU values, read again while a copy is torn; false if the
  // read fails.
  bool ReadWhole(uint32_t slot, std::vector<probe_hist>* values) const;
  HistogramSlotMaps maps_;
  std::vector<uint32_t> deleted_;   // since the last Recycle
  std::vector<uint32_t> released_;  // deleted before it: given back at the next
};

}  // namespace probe
