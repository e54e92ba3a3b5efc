// libFuzzer target: arbitrary bytes as a kernel ring-buffer event.
#include <cstdint>

#include "event_decoder.h"
#include "record_batch.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  probe::v1::Record record;
  probe::DecodeEvent(data, size, &record, 4096);
  probe::DecodeFoldedWakeup(data, size, &record);
  // The agent's path for a batch: each record it gives is decoded as above.
  if (probe::IsRecordBatch(data, size)) {
    probe::RecordBatchCursor batch(data, size);
    const void* rec;
    size_t n;
    while (batch.Next(&rec, &n)) {
      probe::DecodeEvent(rec, n, &record, 4096);
      probe::DecodeFoldedWakeup(rec, n, &record);
    }
  }
  return 0;
}
