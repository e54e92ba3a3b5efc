// The records inside a PROBE_EV_BATCH ring record (bpf/record_batch.bpf.h):
// a CPU's staged records handed to the ring together. A pure function of
// the bytes, fuzzed with the decoder: the batch comes from our own kernel
// code, yet a bad length must cost one record, never a read past the end.
#pragma once
#include <cstddef>
#include <cstdint>

namespace probe {

// True when data is a batch header (its records follow it).
bool IsRecordBatch(const void* data, size_t size);

// Walks a batch's records in order. Next gives each one in place; a record
// whose header is cut short or claims more bytes than are left is given as
// the whole rest (the decoder then counts it as undecodable) and ends the
// walk. The cursor holds no copy: data must outlive it.
class RecordBatchCursor {
 public:
  enum Start { kBatchHeader, kNoHeader };
  // kNoHeader: data is records only (what a cursor left, or a batch's body).
  RecordBatchCursor(const void* data, size_t size, Start start = kBatchHeader);
  bool Next(const void** record, size_t* size);
  // Bytes not yet given out (from the next record on).
  const uint8_t* rest() const { return at_; }
  size_t rest_size() const { return size_t(end_ - at_); }

 private:
  const uint8_t* at_;
  const uint8_t* end_;
};

}  // namespace probe
