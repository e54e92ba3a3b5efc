#include "output_file.h"

#include <fcntl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "file_rules.h"  // proto/

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

}  // namespace

std::unique_ptr<OutputFile> OutputFile::Create(const std::string& path, std::string* error) {
  const auto [dir, name] = SplitPath(path);
  if (name.empty() || name == "." || name == "..") {
    *error = "cannot write " + path + ": not a file name";
    return nullptr;
  }
  UniqueFd dirfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!dirfd) {
    *error = "cannot write " + path + ": " + dir + ": " + strerror(errno);
    return nullptr;
  }
  auto out = CreateAt(dirfd.get(), name, path, error);
  if (out) out->own_dirfd_ = std::move(dirfd);
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
      // Written as it is, never truncated or replaced; a FIFO without a
      // reader is an error, not a hang of the report.
      out->fd_ = OpenDeviceOrFifo(dirfd, name);
      if (!out->fd_)
        return fail(errno == ENXIO    ? "is a FIFO with no reader"
                    : errno == ESTALE ? "changed while being opened"
                                      : strerror(errno));
      return out;
    }
    if (!S_ISREG(st.st_mode)) return fail(Describe(st.st_mode));
    out->replace_ = true;
  } else if (errno != ENOENT) {
    return fail(strerror(errno));
  }
  for (int attempt = 0; attempt < 100 && !out->fd_; ++attempt) {
    out->temp_name_ = TempName(name);
    out->fd_ = CreateNewFile(dirfd, out->temp_name_, &out->temp_id_);
    if (!out->fd_ && errno != EEXIST) break;
  }
  if (!out->fd_) {
    const int e = errno;
    out->temp_name_.clear();
    return fail(std::string("cannot create a new file beside it: ") + strerror(e));
  }
  uid_t uid = 0;
  gid_t gid = 0;
  if (int e = GiveToInvokingUser(out->fd_.get(), &uid, &gid))
    return fail("cannot give it to SUDO_UID " + std::to_string(uid) + ": " + strerror(e));
  return out;
}

OutputFile::~OutputFile() { Discard(); }

void OutputFile::Discard() {
  fd_.reset();
  // Only the file this made, checked by device and inode.
  if (!temp_name_.empty()) RemoveIfFile(dirfd_, temp_name_, temp_id_);
  temp_name_.clear();
}

bool OutputFile::Commit(std::string* error) {
  auto fail = [&](const std::string& why) {
    *error = "cannot write " + shown_path_ + ": " + why;
    Discard();
    return false;
  };
  if (fd_ && close(fd_.release()) != 0) return fail(strerror(errno));
  if (temp_name_.empty()) return true;  // a device or FIFO, written in place
  if (!IsFile(dirfd_, temp_name_, temp_id_))
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
    RemoveIfFile(dirfd_, temp_name_, temp_id_);  // the new file's other name
  }
  temp_name_.clear();
  return true;
}

}  // namespace probe
