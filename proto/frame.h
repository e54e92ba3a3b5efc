// The framing of one record: a pure function over bytes, no I/O.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace probe {

enum class FrameStatus { kOk, kNeedMore, kCorrupt };

struct Frame {
  FrameStatus status = FrameStatus::kNeedMore;
  size_t header_bytes = 0;  // tag + length varint
  uint64_t body_bytes = 0;
  std::string reason;  // set when kCorrupt
};

// Parses the frame header at data[0..size). kNeedMore when the header is
// incomplete; kCorrupt when it can never be valid.
Frame ParseFrameHeader(const uint8_t* data, size_t size);

// Appends tag + varint length for a body of body_bytes.
void AppendFrameHeader(std::string* out, uint64_t body_bytes);

}  // namespace probe
