// libFuzzer target: a shim region whose header is valid enough to be
// attached and whose every other byte comes from the input, drained, then
// rewritten by the rest of the input (a writer racing the drain) and drained
// again. Nothing may read outside the mapping or crash.
#include <cstring>
#include <vector>

#include "shim_consumer.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 8) return 0;
  const uint32_t nslots = 1 + data[0] % 8, slot_events = 1u << (data[1] % 7), nnames = data[2] % 8;
  std::vector<uint8_t> region(probe_shm_total_bytes(nnames, nslots, slot_events));
  if (data[4] & 1) region.resize(region.size() - (data[5] % 64));  // too small for its geometry
  size_t half = (size - 8) / 2;
  for (size_t i = 0; i < half && PROBE_SHM_HEADER_BYTES + i < region.size(); ++i)
    region[PROBE_SHM_HEADER_BYTES + i] = data[8 + i];
  if (region.size() >= sizeof(probe_shm_header)) {
    probe_shm_header h{};
    memcpy(&h, region.data(), sizeof(h));
    h.magic = PROBE_SHM_MAGIC;
    h.version = PROBE_SHM_VERSION;
    h.pid = 7;
    h.nslots = nslots;
    h.slot_events = slot_events;
    h.nnames = nnames;
    h.clock = 1 + data[3] % 3;
    h.slots_high = data[6];
    memcpy(region.data(), &h, sizeof(h));
  }
  std::string error;
  auto consumer = probe::ShimConsumer::Attach(region.data(), region.size(), 7, &error);
  if (!consumer) return 0;
  probe::TscClock clock;
  clock.Add({100, 1000});
  clock.Add({200, 1100});
  auto sink = [](const probe::v1::Record& r) {
    std::string wire;
    return r.SerializeToString(&wire);
  };
  // Times within a few us of the clock points pass the window check, so the
  // fuzzer can reach the decoding of records too.
  consumer->SetNotBefore(900);
  auto now = [] { return uint64_t(5000); };
  consumer->Drain(clock, now, sink);
  for (size_t i = 0; i < half && i < region.size(); ++i) region[i] ^= data[8 + half + i];
  consumer->Drain(clock, now, sink);
  probe::v1::ShimProcess p;
  consumer->FillProcess(&p);
  return 0;
}
