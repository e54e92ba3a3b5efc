#include "record_reader.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "format.h"
#include "frame.h"
#include "record_kind.h"

namespace probe {

const char* ReadStatusName(ReadStatus s) {
  switch (s) {
    case ReadStatus::kRecord:
      return "record";
    case ReadStatus::kEnd:
      return "end";
    case ReadStatus::kTruncated:
      return "truncated";
    case ReadStatus::kCorrupt:
      return "corrupt";
    case ReadStatus::kIoError:
      return "io error";
    case ReadStatus::kNotRecordFile:
      return "not a probe record file";
  }
  return "?";
}

std::unique_ptr<RecordReader> RecordReader::Open(const std::string& path, std::string* error) {
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) {
    *error = "cannot open " + path + ": " + strerror(errno);
    return nullptr;
  }
  return std::make_unique<RecordReader>(std::move(fd));
}

bool RecordReader::Fill(size_t want) {
  if (pos_ > 0 && pos_ >= buf_.size() / 2) {
    buf_.erase(buf_.begin(), buf_.begin() + static_cast<long>(pos_));
    pos_ = 0;
  }
  while (buf_.size() - pos_ < want && !eof_) {
    size_t old = buf_.size();
    size_t chunk = std::max<size_t>(want - (old - pos_), 64 * 1024);
    buf_.resize(old + chunk);
    ssize_t n = read(fd_.get(), buf_.data() + old, chunk);
    if (n < 0 && errno == EINTR) {
      buf_.resize(old);
      continue;
    }
    if (n < 0) {
      buf_.resize(old);
      reason_ = std::string("read failed: ") + strerror(errno);
      return false;
    }
    buf_.resize(old + static_cast<size_t>(n));
    if (n == 0) eof_ = true;
  }
  return true;
}

ReadStatus RecordReader::Next(v1::Record* record) {
  if (!Fill(format::kMaxVarintBytes + 1)) return ReadStatus::kIoError;
  size_t avail = buf_.size() - pos_;
  if (avail == 0) return ReadStatus::kEnd;
  // A file is a recording only if it starts with a whole Header record:
  // anything wrong before that is kNotRecordFile, not a damaged recording.
  const bool first = offset_ == 0;
  auto bad = [&](ReadStatus status, std::string why) {
    reason_ = std::move(why);
    return first ? ReadStatus::kNotRecordFile : status;
  };
  auto where = [&]() -> std::string {
    return first ? "its first record" : "a record at offset " + std::to_string(offset_);
  };
  Frame f = ParseFrameHeader(buf_.data() + pos_, avail);
  if (f.status == FrameStatus::kCorrupt)
    return bad(ReadStatus::kCorrupt, f.reason + " at offset " + std::to_string(offset_));
  if (f.status == FrameStatus::kNeedMore)
    return bad(ReadStatus::kTruncated, "file ends inside the header of " + where());
  size_t total = f.header_bytes + f.body_bytes;
  if (!Fill(total)) return ReadStatus::kIoError;
  if (buf_.size() - pos_ < total)
    return bad(ReadStatus::kTruncated, "file ends inside " + where() + " (" +
                                           std::to_string(buf_.size() - pos_) + " of " +
                                           std::to_string(total) + " bytes)");
  if (!record->ParseFromArray(buf_.data() + pos_ + f.header_bytes, static_cast<int>(f.body_bytes)))
    return bad(ReadStatus::kCorrupt,
               "record at offset " + std::to_string(offset_) + " does not parse");
  if (first && !IsHeader(*record))
    return bad(ReadStatus::kCorrupt, "the first record is not a header");
  pos_ += total;
  offset_ += total;
  return ReadStatus::kRecord;
}

}  // namespace probe
