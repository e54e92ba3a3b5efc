#include "record_writer.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "format.h"
#include "frame.h"
#include "sudo_user.h"

namespace probe {

namespace {

std::string Describe(mode_t mode) {
  if (S_ISLNK(mode)) return "is a symbolic link (never followed, not even with --force)";
  if (S_ISDIR(mode)) return "is a directory";
  return "exists (use --force to overwrite)";
}

// The only string fields left (text the agent makes: record_bytes_unittest.cc)
// are in these rare kinds: checked by parsing them back, so even a bad one is
// refused rather than written unreadable. Every other kind holds no string.
bool ParsesBack(const v1::Record& record, const std::string& bytes) {
  if (!record.has_header() && !record.has_trailer() && !record.has_stats()) return true;
  v1::Record check;
  return check.ParseFromString(bytes);
}

}  // namespace

std::unique_ptr<RecordWriter> RecordWriter::Create(const std::string& path, bool force,
                                                   std::string* error) {
  // The file is always created here, never opened: O_CREAT|O_EXCL fails on
  // anything already at path, symlinks included (dangling or not), so nothing
  // is ever written through a link or truncated. With --force an existing
  // regular file is unlinked first and the create retried; a symlink swapped
  // in between makes the retry fail rather than be followed.
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
  int fd = -1;
  for (int attempt = 0; attempt < 3; ++attempt) {
    fd = open(path.c_str(), flags, 0600);
    if (fd >= 0 || errno != EEXIST) break;
    struct stat st;
    if (lstat(path.c_str(), &st) != 0) {
      if (errno == ENOENT) continue;  // removed meanwhile: try again
      break;
    }
    if (!force || S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)) {
      *error = "cannot create " + path + ": " + Describe(st.st_mode);
      return nullptr;
    }
    if (!S_ISREG(st.st_mode)) {
      // A device or FIFO (e.g. /dev/null): write to it as it is; never
      // unlink it, truncate it or change its owner or mode.
      fd = open(path.c_str(), O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
      if (fd < 0) break;
      return std::unique_ptr<RecordWriter>(new RecordWriter(fd, path));
    }
    if (unlink(path.c_str()) != 0 && errno != ENOENT) break;
  }
  if (fd < 0) {
    int e = errno;
    *error = "cannot create " + path + ": " +
             (e == ELOOP ? "is a symbolic link (not followed)" : strerror(e));
    return nullptr;
  }
  // 0600 whatever the umask (it can only have narrowed the mode further).
  (void)fchmod(fd, 0600);
  // Started through sudo: give the file to the invoking user, not to root.
  if (auto sudo = InvokingSudoUser(); sudo && fchown(fd, sudo->uid, sudo->gid) != 0) {
    int e = errno;
    close(fd);
    unlink(path.c_str());
    *error = "cannot give " + path + " to SUDO_UID " + std::to_string(sudo->uid) + "/SUDO_GID " +
             std::to_string(sudo->gid) + ": " + strerror(e);
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
