// Where a recording goes, and the rules for it (file_rules.h, shared with
// probe-report's files): the file is created, never opened (O_EXCL, no
// symlink followed, mode 0600, given to the sudo user);
// --force replaces a regular file and writes into a device or FIFO as it
// is; and only a file created here, at the same device and inode, is ever
// removed. RecordWriter only frames and writes to the fd it is given.
#pragma once
#include <sys/types.h>

#include <functional>
#include <memory>
#include <string>

#include "file_rules.h"
#include "record_writer.h"
#include "unique_fd.h"

namespace probe {

class RecordFile {
 public:
  // Asked about every 50 ms while a FIFO at the path has no reader: true to
  // go on waiting, false to give up. Without it, such a FIFO is an error.
  using KeepWaiting = std::function<bool()>;
  static constexpr int kFifoPollMs = 50;

  // Creates path (O_CREAT|O_EXCL|O_NOFOLLOW, mode 0600 whatever the umask).
  // Anything already at path is an error, and a symlink is never followed
  // (dangling or not, even with force). With force an existing regular file
  // is unlinked and created anew (never truncated in place); an existing
  // device or FIFO is written as it is, opened without blocking (a FIFO
  // waits for its reader through keep_waiting). Run as root with
  // SUDO_UID/SUDO_GID set, a new file is given to that user. Returns nullptr
  // and sets a one-line *error on failure.
  static std::unique_ptr<RecordFile> Create(const std::string& path, bool force, std::string* error,
                                            const KeepWaiting& keep_waiting = {});
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  // The open file, for the writer (once).
  UniqueFd TakeFd() { return std::move(fd_); }
  const std::string& path() const { return path_; }
  // Whether the file was made here (false for a device or FIFO written into).
  bool created() const { return created_; }
  // Removes the file if it was created here and the name still refers to it
  // (same device and inode); anything else at the name is left alone.
  // Returns whether it removed the file.
  bool RemoveIfCreated();
  // Renames the file created here to new_name in the same directory, only
  // if the name still refers to it (same device and inode) and, unless
  // replace, only if nothing is at new_name (RENAME_NOREPLACE, or link +
  // unlink where the filesystem lacks it). path() follows. False with a
  // one-line *error otherwise.
  bool Rename(const std::string& new_name, bool replace, std::string* error);
  // The directory holding the file, for *at calls (O_PATH).
  int dir_fd() const { return dir_.get(); }

 private:
  RecordFile() = default;
  std::string path_;
  UniqueFd dir_;      // the directory holding the name (O_PATH)
  std::string name_;  // the last component of path_
  UniqueFd fd_;
  bool created_ = false;
  FileId id_;  // of the file created
};

// The file rules and the writer together, for callers that never remove
// what they wrote (tests, tools).
std::unique_ptr<RecordWriter> CreateRecordFile(const std::string& path, bool force,
                                               std::string* error);

}  // namespace probe
