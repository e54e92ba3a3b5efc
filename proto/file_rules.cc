#include "file_rules.h"

#include <fcntl.h>
#include <sys/stat.h>

#include <cerrno>

#include "sudo_user.h"

namespace probe {

PathParts SplitPath(const std::string& path) {
  const size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

UniqueFd CreateNewFile(int dirfd, const std::string& name, FileId* id) {
  UniqueFd fd(
      openat(dirfd, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600));
  if (!fd) return fd;
  struct stat st;
  if (fstat(fd.get(), &st) != 0) return UniqueFd();
  id->dev = st.st_dev;
  id->ino = st.st_ino;
  // 0600 whatever the umask (it can only have narrowed the mode further).
  (void)fchmod(fd.get(), 0600);
  return fd;
}

int GiveToInvokingUser(int fd, uid_t* uid, gid_t* gid) {
  const auto sudo = InvokingSudoUser();
  if (!sudo) return 0;
  *uid = sudo->uid;
  *gid = sudo->gid;
  return fchown(fd, sudo->uid, sudo->gid) == 0 ? 0 : errno;
}

bool IsFile(int dirfd, const std::string& name, const FileId& id) {
  struct stat st;
  return fstatat(dirfd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode) &&
         st.st_dev == id.dev && st.st_ino == id.ino;
}

bool RemoveIfFile(int dirfd, const std::string& name, const FileId& id) {
  return IsFile(dirfd, name, id) && unlinkat(dirfd, name.c_str(), 0) == 0;
}

UniqueFd OpenDeviceOrFifo(int dirfd, const std::string& name) {
  // Never unlinked, truncated, or given another owner or mode. O_NONBLOCK: a
  // FIFO without a reader fails (ENXIO) instead of holding the caller in open().
  UniqueFd fd(
      openat(dirfd, name.c_str(), O_WRONLY | O_NOFOLLOW | O_NOCTTY | O_NONBLOCK | O_CLOEXEC));
  if (!fd) return fd;
  struct stat st;
  if (fstat(fd.get(), &st) != 0 || !(S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode))) {
    errno = ESTALE;
    return UniqueFd();
  }
  // Blocking from here: a pipe's reader sets the pace of the writes.
  const int flags = fcntl(fd.get(), F_GETFL);
  if (flags < 0 || fcntl(fd.get(), F_SETFL, flags & ~O_NONBLOCK) != 0) return UniqueFd();
  return fd;
}

}  // namespace probe
