// libFuzzer target: arbitrary bytes as a kernel ring-buffer event.
#include <cstdint>

#include "event_decoder.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  probe::v1::Record record;
  probe::DecodeEvent(data, size, &record, 4096);
  probe::DecodeFoldedWakeup(data, size, &record);
  return 0;
}
