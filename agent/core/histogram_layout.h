// How big the kernel's per-(process, syscall) histogram maps are. They are
// per-CPU hashes: preallocated, an entry costs its value on every possible
// CPU up front; allocated on demand, the per-CPU allocator cannot grow from a
// tracepoint and runs dry when thousands of new processes a second each want
// an entry (measured: up to 1 process in 200 got no histogram). So: preallocate
// while that fits a memory budget, fewer entries on bigger machines, and only
// past a floor of entries fall back to allocating on demand.
#pragma once
#include <algorithm>
#include <cstdint>

namespace probe {

// Kernel memory one histogram map may take preallocated.
inline constexpr uint64_t kHistogramPreallocBudget = 32ull << 20;
// Below this many preallocated entries, on demand with the full count is the
// better trade.
inline constexpr uint32_t kMinPreallocEntries = 4096;
// A map that must stay preallocated keeps at least this many entries, over
// budget if need be.
inline constexpr uint32_t kMinEntries = 1024;

struct HistogramMapShape {
  uint32_t entries;
  bool prealloc;
};

// max_entries: what the map is declared with; value_bytes: one CPU's value;
// ncpu: possible CPUs; on_demand_ok: false for a map written where
// allocating cannot be relied on at all (the scheduler's, from sched_switch).
constexpr HistogramMapShape ChooseHistogramMapShape(uint32_t max_entries, uint32_t value_bytes,
                                                    uint32_t ncpu, bool on_demand_ok) {
  const uint64_t per_entry = uint64_t((value_bytes + 7) / 8 * 8) * std::max(ncpu, 1u);
  const uint64_t fit = kHistogramPreallocBudget / std::max<uint64_t>(per_entry, 1);
  if (fit >= max_entries) return {max_entries, true};
  if (!on_demand_ok) return {std::max(uint32_t(fit), std::min(max_entries, kMinEntries)), true};
  if (fit >= std::min(max_entries, kMinPreallocEntries)) return {uint32_t(fit), true};
  return {max_entries, false};
}

}  // namespace probe
