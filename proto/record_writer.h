// Streams records to a file. Records are buffered and flushed whole; on a
// write failure the file is cut back to its last whole record, so it stays
// readable, and every later record is counted as lost.
#pragma once
#include <cstdint>
#include <memory>
#include <string>

#include "probe.pb.h"

namespace probe {

class RecordWriter {
 public:
  // Creates path (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600 whatever the umask).
  // Anything already at path is an error, and a symlink is never followed
  // (dangling or not, even with force). With force an existing regular file
  // is unlinked and created anew (never truncated in place); an existing
  // device or FIFO is written as it is. Run as root with SUDO_UID/SUDO_GID
  // set, the new file is given to that user. Returns nullptr and sets a
  // one-line *error on failure.
  static std::unique_ptr<RecordWriter> Create(const std::string& path, bool force,
                                              std::string* error);
  // Writes to fd as it is (stdout, a pipe), and owns it: nothing is created
  // or changed on disk. name is for messages only.
  static std::unique_ptr<RecordWriter> Adopt(int fd, std::string name) {
    return std::unique_ptr<RecordWriter>(new RecordWriter(fd, std::move(name)));
  }
  ~RecordWriter();
  RecordWriter(const RecordWriter&) = delete;
  RecordWriter& operator=(const RecordWriter&) = delete;

  // Returns false once the file has failed, or when this record cannot be
  // written whole and readable (it does not serialize, it is over
  // format::kMaxRecordBytes, or a header, stats or trailer record, the only
  // kinds with string fields, does not parse back: refused, the file goes
  // on); the record is then
  // lost. Names and argv are bytes fields (proto/probe.proto), so untrusted
  // bytes never make a record unparsable.
  bool Append(const v1::Record& record);
  // Records refused by Append without failing the file.
  uint64_t refused() const { return refused_; }
  bool Flush();
  bool failed() const { return !error_.empty(); }
  const std::string& error() const { return error_; }
  uint64_t bytes_written() const { return committed_; }
  uint64_t bytes_buffered() const { return buffer_.size(); }

 private:
  RecordWriter(int fd, std::string path) : fd_(fd), path_(std::move(path)) {}
  int fd_;
  std::string path_;
  std::string buffer_;
  std::string scratch_;
  uint64_t committed_ = 0;
  uint64_t refused_ = 0;
  std::string error_;
};

}  // namespace probe
