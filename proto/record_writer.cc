#include "record_writer.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "frame.h"

namespace probe {

std::unique_ptr<RecordWriter> RecordWriter::Create(const std::string& path, bool force,
                                                   std::string* error) {
  // O_NOFOLLOW: never write through a symlink planted at the output path.
  int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOFOLLOW | (force ? O_TRUNC : O_EXCL);
  int fd = open(path.c_str(), flags, 0644);
  if (fd < 0) {
    int e = errno;
    *error = "cannot create " + path + ": " + strerror(e);
    if (e == EEXIST) *error += " (use --force to overwrite)";
    return nullptr;
  }
  return std::unique_ptr<RecordWriter>(new RecordWriter(fd, path));
}

RecordWriter::~RecordWriter() {
  Flush();
  close(fd_);
}

bool RecordWriter::Append(const v1::Record& record) {
  if (failed()) return false;
  scratch_.clear();
  record.SerializeToString(&scratch_);
  AppendFrameHeader(&buffer_, scratch_.size());
  buffer_ += scratch_;
  if (buffer_.size() >= (1u << 20)) return Flush();
  return true;
}

bool RecordWriter::Flush() {
  if (failed()) return false;
  size_t done = 0;
  while (done < buffer_.size()) {
    ssize_t n = write(fd_, buffer_.data() + done, buffer_.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      int e = n < 0 ? errno : ENOSPC;
      error_ = "write to " + path_ + " failed: " + strerror(e);
      // Cut back to the last whole record so the file stays readable.
      if (ftruncate(fd_, static_cast<off_t>(committed_)) != 0) {
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

}  // namespace probe
