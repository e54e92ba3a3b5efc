// A file probe-report writes (--html, --chrome, --csv DIR/...), made with the
// agent's rules (proto/file_rules.h) whatever is already at its path, in a
// shared directory run as root included:
// - the last component of the path is never followed: a symlink there is an
//   error (dangling or not);
// - nothing is truncated or written in place: the output goes to a new file
//   made beside it (exclusive create, mode 0600 whatever the umask, given to
//   SUDO_UID/SUDO_GID when run through sudo), renamed over the path only by
//   Commit, and then only over nothing or a regular file (the old file's
//   other hard links keep its bytes);
// - a character device or FIFO (/dev/null) is written as it is, opened
//   without blocking (a FIFO without a reader is an error, not a hang);
//   anything else (a directory, a block device, a socket) is an error.
// Errors are one line. An OutputFile not committed removes its new file.
#pragma once
#include <sys/types.h>

#include <memory>
#include <string>

#include "file_rules.h"  // proto/: the rules shared with the recording
#include "unique_fd.h"   // proto/: the one UniqueFd

namespace probe {

class OutputFile {
 public:
  // path: the file; its directory part, if any, is resolved as usual.
  static std::unique_ptr<OutputFile> Create(const std::string& path, std::string* error);
  // name (no '/') inside the directory dirfd (borrowed; must outlive this);
  // shown_path is how errors name the file.
  static std::unique_ptr<OutputFile> CreateAt(int dirfd, const std::string& name,
                                              const std::string& shown_path, std::string* error);
  ~OutputFile();
  OutputFile(const OutputFile&) = delete;
  OutputFile& operator=(const OutputFile&) = delete;

  int fd() const { return fd_.get(); }
  const std::string& path() const { return shown_path_; }
  // Closes the file and puts it in place. False with a one-line *error (the
  // new file is then removed and the path left as it was).
  bool Commit(std::string* error);

 private:
  OutputFile() = default;
  void Discard();

  UniqueFd own_dirfd_;  // Create's directory
  int dirfd_ = -1;      // own_dirfd_'s, or CreateAt's caller's
  UniqueFd fd_;
  std::string name_;       // the path's last component
  std::string temp_name_;  // the new file beside it; empty: writing in place (device, FIFO)
  std::string shown_path_;
  bool replace_ = false;  // a regular file was at the path: rename over it
  FileId temp_id_;        // the new file, removed or renamed only while its name is it
};

}  // namespace probe
