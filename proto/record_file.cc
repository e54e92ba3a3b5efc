#include "record_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "sudo_user.h"

namespace probe {

namespace {

std::string Describe(mode_t mode) {
  if (S_ISLNK(mode)) return "is a symbolic link (never followed, not even with --force)";
  if (S_ISDIR(mode)) return "is a directory";
  return "exists (use --force to overwrite)";
}

// The directory part of path and its last component ("" for "dir/").
std::pair<std::string, std::string> SplitPath(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

// Clears O_NONBLOCK: the writer's writes block (a pipe's reader sets the pace).
bool MakeBlocking(int fd) {
  int flags = fcntl(fd, F_GETFL);
  return flags >= 0 && fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) == 0;
}

}  // namespace

std::unique_ptr<RecordFile> RecordFile::Create(const std::string& path, bool force,
                                               std::string* error,
                                               const KeepWaiting& keep_waiting) {
  std::unique_ptr<RecordFile> out(new RecordFile());
  out->path_ = path;
  auto [dir, name] = SplitPath(path);
  if (name.empty() || name == "." || name == "..") {
    *error = "cannot create " + path + ": " + Describe(S_IFDIR);
    return nullptr;
  }
  out->name_ = name;
  // The name is created, checked and removed relative to its directory, so
  // a directory renamed meanwhile cannot point the removal elsewhere.
  out->dir_.reset(open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC));
  if (!out->dir_) {
    *error = "cannot create " + path + ": " + strerror(errno);
    return nullptr;
  }
  const int dirfd = out->dir_.get();
  // The file is always created here, never opened: O_CREAT|O_EXCL fails on
  // anything already at path, symlinks included (dangling or not), so nothing
  // is ever written through a link or truncated. With --force an existing
  // regular file is unlinked first and the create retried; a symlink swapped
  // in between makes the retry fail rather than be followed.
  const int flags = O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW;
  for (int attempt = 0; attempt < 3; ++attempt) {
    out->fd_.reset(openat(dirfd, name.c_str(), flags, 0600));
    if (out->fd_ || errno != EEXIST) break;
    struct stat st;
    if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT) continue;  // removed meanwhile: try again
      break;
    }
    if (!force || S_ISLNK(st.st_mode) || S_ISDIR(st.st_mode)) {
      *error = "cannot create " + path + ": " + Describe(st.st_mode);
      return nullptr;
    }
    if (!S_ISREG(st.st_mode)) {
      // A device or FIFO (e.g. /dev/null): write to it as it is; never
      // unlink it, truncate it or change its owner or mode. Opened without
      // blocking: a FIFO with no reader would otherwise hold the agent in
      // open() with its signals blocked.
      const int dev_flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK;
      for (;;) {
        out->fd_.reset(openat(dirfd, name.c_str(), dev_flags));
        if (out->fd_ || errno != ENXIO || !S_ISFIFO(st.st_mode)) break;
        if (!keep_waiting) {
          *error = "cannot open " + path + ": a FIFO with no reader";
          return nullptr;
        }
        if (!keep_waiting()) {
          *error = "stopped while waiting for a reader on " + path;
          return nullptr;
        }
      }
      if (!out->fd_) break;
      if (!MakeBlocking(out->fd_.get())) break;
      return out;
    }
    if (unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) break;
  }
  if (!out->fd_) {
    int e = errno;
    *error = "cannot create " + path + ": " +
             (e == ELOOP ? "is a symbolic link (not followed)" : strerror(e));
    return nullptr;
  }
  struct stat st;
  if (fstat(out->fd_.get(), &st) != 0) {
    *error = "cannot create " + path + ": " + strerror(errno);
    return nullptr;
  }
  out->created_ = true;
  out->dev_ = st.st_dev;
  out->ino_ = st.st_ino;
  // 0600 whatever the umask (it can only have narrowed the mode further).
  (void)fchmod(out->fd_.get(), 0600);
  // Started through sudo: give the file to the invoking user, not to root.
  if (auto sudo = InvokingSudoUser(); sudo && fchown(out->fd_.get(), sudo->uid, sudo->gid) != 0) {
    int e = errno;
    out->RemoveIfCreated();
    *error = "cannot give " + path + " to SUDO_UID " + std::to_string(sudo->uid) + "/SUDO_GID " +
             std::to_string(sudo->gid) + ": " + strerror(e);
    return nullptr;
  }
  return out;
}

bool RecordFile::RemoveIfCreated() {
  if (!created_) return false;
  struct stat st;
  if (fstatat(dir_.get(), name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) return false;
  if (!S_ISREG(st.st_mode) || st.st_dev != dev_ || st.st_ino != ino_) return false;
  if (unlinkat(dir_.get(), name_.c_str(), 0) != 0) return false;
  created_ = false;
  return true;
}

std::unique_ptr<RecordWriter> CreateRecordFile(const std::string& path, bool force,
                                               std::string* error) {
  auto file = RecordFile::Create(path, force, error);
  if (!file) return nullptr;
  return std::make_unique<RecordWriter>(file->TakeFd(), path);
}

}  // namespace probe
