// Constants of the record file format, shared by writer and reader.
// See FORMAT.md.
#pragma once
#include <cstddef>
#include <cstdint>

namespace probe::format {

inline constexpr uint32_t kFormatVersion = 1;
// Trace.record is field 1, wire type 2 (length-delimited): tag byte 0x0a.
inline constexpr uint8_t kRecordTag = 0x0a;
// Larger lengths are treated as corruption rather than trusted.
inline constexpr uint64_t kMaxRecordBytes = 16u << 20;
inline constexpr size_t kMaxVarintBytes = 10;
inline constexpr char kDefaultExtension[] = ".ptrace";

}  // namespace probe::format
