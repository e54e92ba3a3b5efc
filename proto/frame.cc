#include "frame.h"

#include "format.h"

namespace probe {

Frame ParseFrameHeader(const uint8_t* data, size_t size) {
  Frame f;
  if (size == 0) return f;
  if (data[0] != format::kRecordTag) {
    f.status = FrameStatus::kCorrupt;
    static const char kHex[] = "0123456789abcdef";
    f.reason = std::string("bad record tag 0x") + kHex[data[0] >> 4] + kHex[data[0] & 15];
    return f;
  }
  uint64_t len = 0;
  for (size_t i = 0; i < format::kMaxVarintBytes; ++i) {
    if (1 + i >= size) return f;  // kNeedMore
    uint8_t b = data[1 + i];
    len |= uint64_t(b & 0x7f) << (7 * i);
    if ((b & 0x80) == 0) {
      if (len > format::kMaxRecordBytes) {
        f.status = FrameStatus::kCorrupt;
        f.reason = "record length " + std::to_string(len) + " exceeds limit";
        return f;
      }
      f.status = FrameStatus::kOk;
      f.header_bytes = 2 + i;
      f.body_bytes = len;
      return f;
    }
  }
  f.status = FrameStatus::kCorrupt;
  f.reason = "record length varint too long";
  return f;
}

void AppendFrameHeader(std::string* out, uint64_t body_bytes) {
  out->push_back(static_cast<char>(format::kRecordTag));
  do {
    uint8_t b = body_bytes & 0x7f;
    body_bytes >>= 7;
    if (body_bytes) b |= 0x80;
    out->push_back(static_cast<char>(b));
  } while (body_bytes);
}

}  // namespace probe
