// Streams records from a file with bounded memory (one record at a time).
// A cut-off or corrupt tail ends the stream with a status saying where and
// why; every whole record before it has been returned.
#pragma once
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "probe.pb.h"
#include "unique_fd.h"

namespace probe {

enum class ReadStatus {
  kRecord,     // *record holds the next record
  kEnd,        // clean end of file
  kTruncated,  // file ends inside a record (e.g. agent killed)
  kCorrupt,    // bytes that cannot be a record
  kIoError,
  // The first record is not a whole Header record (bytes that are not a
  // recording, or a file cut inside its first record): nothing is returned.
  // An empty file is kEnd with no record.
  kNotRecordFile,
};

const char* ReadStatusName(ReadStatus s);

class RecordReader {
 public:
  // fd is owned by the reader.
  explicit RecordReader(int fd) : fd_(fd) {}
  explicit RecordReader(UniqueFd fd) : fd_(std::move(fd)) {}
  static std::unique_ptr<RecordReader> Open(const std::string& path, std::string* error);
  RecordReader(const RecordReader&) = delete;
  RecordReader& operator=(const RecordReader&) = delete;

  ReadStatus Next(v1::Record* record);
  // Offset of the first byte not consumed as a whole record.
  uint64_t offset() const { return offset_; }
  const std::string& reason() const { return reason_; }

 private:
  bool Fill(size_t want);  // ensures `want` bytes buffered if the file has them
  UniqueFd fd_;
  std::vector<uint8_t> buf_;
  size_t pos_ = 0;
  bool eof_ = false;
  uint64_t offset_ = 0;
  std::string reason_;
};

}  // namespace probe
