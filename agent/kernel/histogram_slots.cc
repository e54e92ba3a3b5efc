#include "histogram_slots.h"

#include <bpf/libbpf.h>

#include "histogram.h"

namespace probe {

void HistogramSlots::ForEach(const HistogramVisitor& visit) const {
  if (!loaded()) return;
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return;
  std::vector<probe_hist> values(static_cast<size_t>(ncpu));
  probe_hist_key key, next;
  probe_hist_key* prev = nullptr;
  while (bpf_map__get_next_key(maps_.index, prev, &next, sizeof(next)) == 0) {
    uint32_t slot;
    if (bpf_map__lookup_elem(maps_.index, &next, sizeof(next), &slot, sizeof(slot), 0) == 0 &&
        ReadWhole(slot, &values))
      visit(next, values.data(), ncpu);
    key = next;
    prev = &key;
  }
}

// The programs keep counting while a slot is read, and a read stalled
// between a CPU's count and its buckets (this VM's vCPU descheduled: 39 calls
// apart in a CI run) gave a file a histogram whose count was not its
// buckets' sum. Read again until every CPU's copy is whole; a few tries
// suffice, since a tear needs a stall in mid-copy. After kTries the last read
// is used: the next read makes up the difference.
bool HistogramSlots::ReadWhole(uint32_t slot, std::vector<probe_hist>* values) const {
  constexpr int kTries = 16;
  for (int i = 0; i < kTries; ++i) {
    if (bpf_map__lookup_elem(maps_.slots, &slot, sizeof(slot), values->data(),
                             values->size() * sizeof(probe_hist), 0) != 0)
      return false;
    if (HistogramCopiesWhole(values->data(), static_cast<int>(values->size()))) return true;
  }
  return true;
}

void HistogramSlots::Delete(const probe_hist_key& key) {
  if (!loaded()) return;
  uint32_t slot;
  if (bpf_map__lookup_elem(maps_.index, &key, sizeof(key), &slot, sizeof(slot), 0) != 0) return;
  if (bpf_map__delete_elem(maps_.index, &key, sizeof(key), 0) != 0) return;
  // After the delete: a thread that then finds its cached slot disowned
  // looks the key up and makes a new one.
  const uint32_t nobody = 0;
  bpf_map__update_elem(maps_.owner, &slot, sizeof(slot), &nobody, sizeof(nobody), BPF_ANY);
  deleted_.push_back(slot);
}

void HistogramSlots::Recycle() {
  if (!loaded()) return;
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu > 0 && !released_.empty()) {
    const std::vector<probe_hist> zero(static_cast<size_t>(ncpu), probe_hist{});
    for (uint32_t slot : released_) {
      // A slot that cannot be zeroed stays out of the queue: never reused
      // rather than reused with someone else's counts.
      if (bpf_map__update_elem(maps_.slots, &slot, sizeof(slot), zero.data(),
                               zero.size() * sizeof(probe_hist), BPF_ANY) == 0)
        bpf_map__update_elem(maps_.free, nullptr, 0, &slot, sizeof(slot), BPF_ANY);
    }
  }
  released_ = std::move(deleted_);
  deleted_.clear();
}

}  // namespace probe
