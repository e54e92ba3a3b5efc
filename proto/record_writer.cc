#include "record_writer.h"

#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string_view>

#include "format.h"
#include "frame.h"
#include "record_kind.h"

namespace probe {

namespace {

// The only string fields left (text the agent makes: record_bytes_unittest.cc)
// are in these rare kinds: checked by parsing them back, so even a bad one is
// refused rather than written unreadable. Every other kind holds no string.
bool ParsesBack(const v1::Record& record, std::string_view bytes) {
  if (!HoldsProtoStrings(record)) return true;
  v1::Record check;
  return check.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()));
}

}  // namespace

RecordWriter::~RecordWriter() { Flush(); }

bool RecordWriter::Append(const v1::Record& record) {
  if (failed()) return false;
  // Never write what the reader would call corrupt: a record over the
  // reader's length limit, or one whose strings do not parse back, is
  // refused alone (the caller counts it lost) and the file goes on.
  const size_t bytes = record.ByteSizeLong();
  if (bytes > format::kMaxRecordBytes) {
    ++refused_;
    return false;
  }
  // Serialized in place after its frame header: no copy through a scratch
  // string (the agent appends every event it drains here).
  const size_t start = buffer_.size();
  AppendFrameHeader(&buffer_, bytes);
  const size_t body = buffer_.size();
  buffer_.resize(body + bytes);
  uint8_t* out = reinterpret_cast<uint8_t*>(buffer_.data() + body);
  if (record.SerializeWithCachedSizesToArray(out) != out + bytes ||
      !ParsesBack(record, std::string_view(buffer_.data() + body, bytes))) {
    buffer_.resize(start);
    ++refused_;
    return false;
  }
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
