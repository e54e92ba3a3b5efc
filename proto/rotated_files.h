// --rotate: the files of one run, <base>.000001, <base>.000002, ... Each is
// created under a temporary name, <base>.NNNNNN.part, with RecordFile's
// rules (exclusive create, no symlink followed, mode 0600, given to the sudo
// user), and renamed to <base>.NNNNNN only once it is complete and on disk
// (fsync), never over an existing name unless --force. --keep N: at most N
// closed files stay; older ones are removed only if the name still holds the
// file this run wrote (same device and inode). A shipper that takes
// <base>.[0-9][0-9][0-9][0-9][0-9][0-9] takes only whole recordings.
#pragma once
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "record_file.h"
#include "unique_fd.h"

namespace probe {

class RotatedFiles {
 public:
  static constexpr const char* kPartSuffix = ".part";

  // No file is made yet. Without force, refuses a base whose directory
  // already holds numbered files or parts of that base numbered from 1 (an
  // earlier run's):
  // they would be mixed with this run's. Returns nullptr with a one-line
  // *error.
  static std::unique_ptr<RotatedFiles> Create(const std::string& base, bool force, uint32_t keep,
                                              std::string* error);

  // "<base>.000042" (more digits past 999999).
  std::string NameOf(uint64_t sequence) const;
  // Creates the next file (the first: 1) under its temporary name while the
  // open one, if any, is being finished; returns its fd.
  UniqueFd OpenNext(std::string* error);
  // The open file is complete (its writer flushed and synced): renames it
  // into place and removes closed files past --keep; then the next file
  // (OpenNext) is the open one. Warnings (a file that is not ours any more
  // is left where it is) are appended to *warning. When the rename fails
  // the file stays under its temporary name, and the next is still taken.
  bool Advance(std::string* error, std::string* warning);
  // Removes the files not yet renamed into place (a run that could not
  // start, or a next file that will not be written); false when the open
  // one could not be removed (it is then still open_path()).
  bool Abandon();
  void AbandonNext();
  // Whether the directory lets this process create and rename files (after
  // the privilege drop). False with a one-line *error.
  bool CheckWritable(std::string* error) const;
  // The sequence of the open file (1-based).
  uint64_t sequence() const { return sequence_; }
  const std::string& open_path() const;
  const std::string& base() const { return base_; }
  // The directory of the open file (O_PATH), -1 when none is open.
  int dir_fd() const { return open_ ? open_->dir_fd() : -1; }

 private:
  RotatedFiles() = default;
  std::string base_;
  bool force_ = false;
  uint32_t keep_ = 0;
  uint64_t sequence_ = 0;
  std::unique_ptr<RecordFile> open_, next_;
  std::deque<std::unique_ptr<RecordFile>> closed_;  // oldest first
};

}  // namespace probe
