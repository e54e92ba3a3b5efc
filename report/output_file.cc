#include "output_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "sudo_user.h"

namespace probe {
namespace {

std::string Describe(mode_t mode) {
  if (S_ISLNK(mode)) return "is a symbolic link (never followed)";
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISBLK(mode)) return "is a block device (not written)";
  return "is not a regular file, character device or FIFO";
}

// ".NAME.probe-0123456789abcdef", kept under NAME_MAX.
std::string TempName(const std::string& name) {
  uint64_t r = 0;
  if (getrandom(&r, sizeof r, GRND_NONBLOCK) != sizeof r)
    r = uint64_t(getpid()) * 0x9e3779b97f4a7c15ull ^ uint64_t(time(nullptr));
  char suffix[24];
  snprintf(suffix, sizeof suffix, ".probe-%016llx", static_cast<unsigned long long>(r));
  return "." + name.substr(0, 200) + suffix;
}

bool SameFile(int dirfd, const std::string& name, dev_t dev, ino_t ino) {
  struct stat st;
  return fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && st.st_dev == dev &&
         st.st_ino == ino;
}

}  // namespace

std::unique_ptr<OutputFile> OutputFile::Create(const std::string& path, std::string* error) {
  const size_t slash = path.rfind('/');
  const std::string dir = slash == std::string::npos ? "."
                          : slash == 0               ? "/"
                                                     : path.substr(0, slash);
  const std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (name.empty() || name == "." || name == "..") {
    *error = "cannot write " + path + ": not a file name";
    return nullptr;
  }
  const int dirfd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dirfd < 0) {
    *error = "cannot write " + path + ": " + dir + ": " + strerror(errno);
    return nullptr;
  }
  auto out = CreateAt(dirfd, name, path, error);
  if (!out) {
    close(dirfd);
    return nullptr;
  }
  out->own_dirfd_ = dirfd;
  return out;
}

std::unique_ptr<OutputFile> OutputFile::CreateAt(int dirfd, const std::string& name,
                                                 const std::string& shown_path,
                                                 std::string* error) {
  std::unique_ptr<OutputFile> out(new OutputFile);
  out->dirfd_ = dirfd;
  out->name_ = name;
  out->shown_path_ = shown_path;
  auto fail = [&](const std::string& why) {
    *error = "cannot write " + shown_path + ": " + why;
    return nullptr;
  };
  struct stat st;
  if (fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
      // Written as it is, never truncated or replaced. O_NONBLOCK: a FIFO
      // without a reader fails (ENXIO) instead of hanging the report.
      out->fd_ =
          openat(dirfd, name.c_str(), O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
      if (out->fd_ < 0) return fail(errno == ENXIO ? "is a FIFO with no reader" : strerror(errno));
      struct stat now;
      if (fstat(out->fd_, &now) != 0 || !(S_ISCHR(now.st_mode) || S_ISFIFO(now.st_mode)))
        return fail("changed while being opened");
      (void)fcntl(out->fd_, F_SETFL, fcntl(out->fd_, F_GETFL) & ~O_NONBLOCK);
      return out;
    }
    if (!S_ISREG(st.st_mode)) return fail(Describe(st.st_mode));
    out->replace_ = true;
  } else if (errno != ENOENT) {
    return fail(strerror(errno));
  }
  for (int attempt = 0; attempt < 100 && out->fd_ < 0; ++attempt) {
    out->temp_name_ = TempName(name);
    out->fd_ = openat(dirfd, out->temp_name_.c_str(),
                      O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out->fd_ < 0 && errno != EEXIST) break;
  }
  if (out->fd_ < 0) {
    const int e = errno;
    out->temp_name_.clear();
    return fail(std::string("cannot create a new file beside it: ") + strerror(e));
  }
  struct stat mine;
  if (fstat(out->fd_, &mine) != 0) return fail(strerror(errno));
  out->temp_dev_ = mine.st_dev;
  out->temp_ino_ = mine.st_ino;
  (void)fchmod(out->fd_, 0600);  // whatever the umask (it can only have narrowed it)
  if (auto sudo = InvokingSudoUser(); sudo && fchown(out->fd_, sudo->uid, sudo->gid) != 0)
    return fail("cannot give it to SUDO_UID " + std::to_string(sudo->uid) + ": " + strerror(errno));
  return out;
}

OutputFile::~OutputFile() {
  Discard();
  if (own_dirfd_ >= 0) close(own_dirfd_);
}

void OutputFile::Discard() {
  if (fd_ >= 0) close(fd_);
  fd_ = -1;
  // Only the file this made, checked by device and inode.
  if (!temp_name_.empty() && SameFile(dirfd_, temp_name_, temp_dev_, temp_ino_))
    unlinkat(dirfd_, temp_name_.c_str(), 0);
  temp_name_.clear();
}

bool OutputFile::Commit(std::string* error) {
  auto fail = [&](const std::string& why) {
    *error = "cannot write " + shown_path_ + ": " + why;
    Discard();
    return false;
  };
  if (fd_ >= 0) {
    const int rc = close(fd_);
    fd_ = -1;
    if (rc != 0) return fail(strerror(errno));
  }
  if (temp_name_.empty()) return true;  // a device or FIFO, written in place
  if (!SameFile(dirfd_, temp_name_, temp_dev_, temp_ino_))
    return fail("its new file " + temp_name_ + " was moved or replaced");
  struct stat st;
  if (fstatat(dirfd_, name_.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
    // Only a regular file is replaced, and only one that was there at the start.
    if (!replace_) return fail("something was created there meanwhile (not replaced)");
    if (!S_ISREG(st.st_mode)) return fail(Describe(st.st_mode) + " now (not replaced)");
    if (renameat(dirfd_, temp_name_.c_str(), dirfd_, name_.c_str()) != 0)
      return fail(strerror(errno));
  } else if (renameat2(dirfd_, temp_name_.c_str(), dirfd_, name_.c_str(), RENAME_NOREPLACE) != 0) {
    if (errno == EEXIST) return fail("something was created there meanwhile (not replaced)");
    // A file system without RENAME_NOREPLACE: a hard link fails the same way.
    if (errno != EINVAL && errno != ENOSYS) return fail(strerror(errno));
    if (linkat(dirfd_, temp_name_.c_str(), dirfd_, name_.c_str(), 0) != 0)
      return fail(errno == EEXIST ? "something was created there meanwhile (not replaced)"
                                  : strerror(errno));
    unlinkat(dirfd_, temp_name_.c_str(), 0);
  }
  temp_name_.clear();
  return true;
}

}  // namespace probe
