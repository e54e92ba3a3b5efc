// Streams records to a file it is given (RecordFile decides which file and
// how it is made). Records are buffered and flushed whole; on a write
// failure the file is cut back to its last whole record, so it stays
// readable, and every later record is counted as lost.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "probe.pb.h"
#include "unique_fd.h"

namespace probe {

class RecordWriter {
 public:
  // Writes to fd; name is used in error messages only.
  RecordWriter(UniqueFd fd, std::string name) : fd_(std::move(fd)), name_(std::move(name)) {}
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Returns false once the file has failed, or when this record cannot be
  // written whole and readable (it is over format::kMaxRecordBytes, or a
  // header, stats or trailer record, the only kinds with string fields, does
  // not parse back: refused, the file goes on); the record is then lost.
  // Names and argv are bytes fields (proto/probe.proto), so untrusted bytes
  // never make a record unparsable.
  bool Append(const v1::Record& record);
  // Records refused by Append without failing the file.
  uint64_t refused() const { return refused_; }
  bool Flush();
  // Flush, then fsync: the bytes are on disk (a rotated file before its
  // rename into place).
  bool Sync();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  uint64_t bytes_written() const { return committed_; }
  uint64_t bytes_buffered() const { return buffer_.size(); }

 private:
  UniqueFd fd_;
  std::string name_;
  std::string buffer_;
  uint64_t committed_ = 0;
  uint64_t refused_ = 0;
  std::string error_;
};

}  // namespace probe
