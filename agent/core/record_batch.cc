#include "record_batch.h"

#include <cstring>

extern "C" {
#include <linux/types.h>

#include "probe_events.h"
}

namespace probe {

bool IsRecordBatch(const void* data, size_t size) {
  probe_event_header hdr;
  if (size < sizeof(hdr)) return false;
  memcpy(&hdr, data, sizeof(hdr));
  return hdr.type == PROBE_EV_BATCH;
}

RecordBatchCursor::RecordBatchCursor(const void* data, size_t size, Start start)
    : at_(static_cast<const uint8_t*>(data)), end_(at_ + size) {
  // The batch's own header; its size field says no more than the ring's
  // record length, which bounds the walk.
  if (start == kBatchHeader)
    at_ += size < sizeof(probe_event_header) ? size : sizeof(probe_event_header);
}

bool RecordBatchCursor::Next(const void** record, size_t* size) {
  const size_t left = rest_size();
  if (left == 0) return false;
  probe_event_header hdr;
  size_t n = left;
  if (left >= sizeof(hdr)) {
    memcpy(&hdr, at_, sizeof(hdr));
    if (hdr.size >= sizeof(hdr) && hdr.size <= left) n = hdr.size;
  }
  *record = at_;
  *size = n;
  at_ += n;
  return true;
}

}  // namespace probe
