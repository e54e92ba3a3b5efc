// How many slots the kernel's histogram arrays have (bpf/hist_slots.bpf.h).
// A slot holds one (process, key) histogram on every possible CPU, and the
// arrays are preallocated: slots are taken inside sched_switch, with
// interrupts off, where allocating can fail. So: the wanted count while that
// fits a memory budget, fewer on bigger machines, never below a floor.
// (Before slots, the syscall map fell back to allocating on demand past the
// budget, and under thousands of new processes a second up to 1 process in
// 200 got no histogram; slots are reused after their process's exit.)
#pragma once
#include <algorithm>
#include <cstdint>

namespace probe {

// Kernel memory one family's slot array may take.
inline constexpr uint64_t kHistogramPreallocBudget = 32ull << 20;
// At least this many slots, over budget if need be.
inline constexpr uint32_t kMinEntries = 1024;
// Slots wanted: per (process, syscall), and two per process for the
// scheduler (run queue, off CPU).
inline constexpr uint32_t kSyscallHistogramSlots = 16384;
inline constexpr uint32_t kSchedHistogramSlots = 4096;

// wanted: slots asked for; value_bytes: one CPU's value; ncpu: possible CPUs.
constexpr uint32_t ChooseHistogramSlots(uint32_t wanted, uint32_t value_bytes, uint32_t ncpu) {
  const uint64_t per_entry = uint64_t((value_bytes + 7) / 8 * 8) * std::max(ncpu, 1u);
  const uint64_t fit = kHistogramPreallocBudget / std::max<uint64_t>(per_entry, 1);
  if (fit >= wanted) return wanted;
  return std::max(uint32_t(fit), std::min(wanted, kMinEntries));
}

}  // namespace probe
