// How the kernel side's BPF ring buffers are sharded over CPUs
// (--ring-buffers). Producers on one ring serialise on its spinlock, so many
// CPUs writing one ring lose throughput; every ring costs --ring-buffer bytes
// of locked memory. Auto: one ring per 4 CPUs, up to kMaxRingBuffers.
#pragma once
#include <algorithm>
#include <cstdint>

namespace probe {

// The kernel side holds at most this many rings (PROBE_MAX_RINGS).
inline constexpr uint32_t kMaxRingBuffers = 64;
// Auto sharding: this many CPUs share a ring.
inline constexpr uint32_t kAutoCpusPerRing = 4;

struct RingLayout {
  uint32_t rings = 1;          // ring buffers to create
  uint32_t cpus_per_ring = 1;  // CPU c writes to ring min(c / cpus_per_ring, rings - 1)
};

// requested: 0 = auto, else at most that many rings (kMaxRingBuffers or more
// = one per CPU while the CPUs fit). ncpu: possible CPUs. The CPUs are split
// evenly, so the count used can be below the one requested (10 CPUs in at
// most 4 rings: 3 per ring, 4 rings; in at most 6: 2 per ring, 5 rings).
constexpr RingLayout ChooseRingLayout(uint32_t requested, uint32_t ncpu) {
  ncpu = std::max(ncpu, 1u);
  uint32_t want = requested ? requested : (ncpu + kAutoCpusPerRing - 1) / kAutoCpusPerRing;
  want = std::clamp(want, 1u, std::min(ncpu, kMaxRingBuffers));
  uint32_t per = (ncpu + want - 1) / want;
  return {(ncpu + per - 1) / per, per};
}

}  // namespace probe
