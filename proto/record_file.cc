#include "record_file.h"

#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "file_rules.h"

namespace probe {

namespace {

std::string Describe(mode_t mode) {
  if (S_ISLNK(mode)) return "is a symbolic link (never followed, not even with --force)";
  if (S_ISDIR(mode)) return "is a directory";
  return "exists (use --force to overwrite)";
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
  for (int attempt = 0; attempt < 3; ++attempt) {
    out->fd_ = CreateNewFile(dirfd, name, &out->id_);
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
      // A device or FIFO (e.g. /dev/null): written into as it is. A FIFO
      // with no reader would otherwise hold the agent in open() with its
      // signals blocked: it waits here, asking keep_waiting.
      for (;;) {
        out->fd_ = OpenDeviceOrFifo(dirfd, name);
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
      return out;
    }
    if (unlinkat(dirfd, name.c_str(), 0) != 0 && errno != ENOENT) break;
  }
  if (!out->fd_) {
    int e = errno;
    *error = "cannot create " + path + ": " +
             (e == ELOOP    ? "is a symbolic link (not followed)"
              : e == ESTALE ? "changed while being opened"
                            : strerror(e));
    return nullptr;
  }
  out->created_ = true;
  // Started through sudo: give the file to the invoking user, not to root.
  uid_t uid = 0;
  gid_t gid = 0;
  if (int e = GiveToInvokingUser(out->fd_.get(), &uid, &gid)) {
    out->RemoveIfCreated();
    *error = "cannot give " + path + " to SUDO_UID " + std::to_string(uid) + "/SUDO_GID " +
             std::to_string(gid) + ": " + strerror(e);
    return nullptr;
  }
  return out;
}

bool RecordFile::RemoveIfCreated() {
  if (!created_ || !RemoveIfFile(dir_.get(), name_, id_)) return false;
  created_ = false;
  return true;
}

bool RecordFile::Rename(const std::string& new_name, bool replace, std::string* error) {
  const std::string dir = path_.substr(0, path_.size() - name_.size());
  auto fail = [&](const std::string& why) {
    *error = "cannot rename " + path_ + " to " + dir + new_name + ": " + why;
    return false;
  };
  if (!created_ || !IsFile(dir_.get(), name_, id_))
    return fail("it is no longer the file this run wrote");
  int rc = renameat2(dir_.get(), name_.c_str(), dir_.get(), new_name.c_str(),
                     replace ? 0 : RENAME_NOREPLACE);
  if (rc != 0 && !replace && (errno == EINVAL || errno == ENOSYS)) {
    // No RENAME_NOREPLACE here: a hard link fails on an existing name too.
    rc = linkat(dir_.get(), name_.c_str(), dir_.get(), new_name.c_str(), 0);
    if (rc == 0) (void)unlinkat(dir_.get(), name_.c_str(), 0);
  }
  if (rc != 0) return fail(errno == EEXIST ? "exists (use --force to overwrite)" : strerror(errno));
  name_ = new_name;
  path_ = dir + new_name;
  return true;
}

std::unique_ptr<RecordWriter> CreateRecordFile(const std::string& path, bool force,
                                               std::string* error) {
  auto file = RecordFile::Create(path, force, error);
  if (!file) return nullptr;
  return std::make_unique<RecordWriter>(file->TakeFd(), path);
}

}  // namespace probe
