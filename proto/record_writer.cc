#include "record_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "format.h"
#include "frame.h"
#include "record_kind.h"

namespace probe {

namespace {

// The only string fields left (text the agent makes: record_bytes_unittest.cc)
// are in these rare kinds: checked by parsing them back, so even a bad one is
// refused rather than written unreadable. Every other kind holds no string.
bool ParsesBack(const v1::Record& record, const std::string& bytes) {
  if (!HoldsProtoStrings(record)) return true;
  v1::Record check;
  return check.ParseFromString(bytes);
}

}  // namespace

RecordWriter::~RecordWriter() { Flush(); }

bool RecordWriter::Append(const v1::Record& record) {
  if (failed()) return false;
  scratch_.clear();
  // Never write what the reader would call corrupt: a record that does not
  // serialize, or one over the reader's length limit, is refused alone (the
  // caller counts it lost) and the file goes on.
  if (!record.SerializeToString(&scratch_) || scratch_.size() > format::kMaxRecordBytes ||
      !ParsesBack(record, scratch_)) {
    ++refused_;
    return false;
  }
  AppendFrameHeader(&buffer_, scratch_.size());
  buffer_ += scratch_;
  if (buffer_.size() >= (1u << 20)) return Flush();
  return true;
}

bool RecordWriter::Flush() {
  if (failed()) return false;
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = write(fd_.get(), buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : ENOSPC;
      error_ = "write to " + name_ + " failed: " + strerror(e);
      // Cut back to the last whole record so the file stays readable.
      if (ftruncate(fd_.get(), static_cast<off_t>(committed_)) != 0) {
        error_ += " (and could not cut back the partial record)";
      }
      buffer_.clear();
      return false;
    }
    done += static_cast<size_t>(n);
  }
  committed_ += buffer_.size();
  buffer_.clear();
  return true;
}

bool RecordWriter::Sync() {
  if (!Flush()) return false;
  if (fsync(fd_.get()) == 0) return true;
  error_ = "fsync of " + name_ + " failed: " + strerror(errno);
  return false;
}

}  // namespace probe
