// The rules of every file probe writes, in one place: the agent's recording
// (record_file.h) and probe-report's --html/--chrome/--csv files
// (report/output_file.h) both make their files with these.
// - A file is created new, never opened: O_CREAT|O_EXCL|O_NOFOLLOW, so
//   anything already at the name, a symlink included (dangling or not), makes
//   it fail; nothing is followed through a link or truncated in place.
// - Mode 0600 whatever the umask; run through sudo, the invoking user's.
// - A file is removed only while its name still refers to the file created
//   (same device and inode): never one put there by someone else meanwhile.
// - A character device or FIFO already there is written as it is, opened
//   without blocking (a FIFO without a reader is ENXIO, not a hang).
#pragma once
#include <sys/types.h>

#include <string>

#include "unique_fd.h"

namespace probe {

// A path's directory ("." when it has none, "/" for the root) and its last
// component ("" for "dir/").
struct PathParts {
  std::string dir, name;
};
PathParts SplitPath(const std::string& path);

// Which file a name referred to when it was created.
struct FileId {
  dev_t dev = 0;
  ino_t ino = 0;
};

// Creates name in dirfd as above (the rules' first two points, but for the
// owner: GiveToInvokingUser). An invalid fd and errno on failure (EEXIST:
// something is there; ELOOP never happens: a symlink there is EEXIST).
UniqueFd CreateNewFile(int dirfd, const std::string& name, FileId* id);
// Run through sudo (as root with SUDO_UID/SUDO_GID), gives fd to that user:
// 0, or the chown's errno with *uid and *gid set to the ids tried.
int GiveToInvokingUser(int fd, uid_t* uid, gid_t* gid);
// Whether name in dirfd, not followed, is the regular file id.
bool IsFile(int dirfd, const std::string& name, const FileId& id);
// Removes name from dirfd if IsFile(dirfd, name, id); whether it did.
bool RemoveIfFile(int dirfd, const std::string& name, const FileId& id);

// Opens the character device or FIFO at name for writing, in blocking mode
// once open. An invalid fd and errno on failure: ENXIO for a FIFO without a
// reader, ESTALE when what was opened is not a device or FIFO (the name
// changed under us).
UniqueFd OpenDeviceOrFifo(int dirfd, const std::string& name);

}  // namespace probe
