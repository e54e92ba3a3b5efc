#include "rotated_files.h"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

namespace probe {

namespace {

// Whether name is base + "." + six or more digits, optionally + ".part",
// with a number this run could write (>= 1).
bool IsNumbered(const std::string& name, const std::string& base) {
  if (name.size() <= base.size() + 1 || name.compare(0, base.size(), base) != 0 ||
      name[base.size()] != '.')
    return false;
  std::string rest = name.substr(base.size() + 1);
  const std::string part = RotatedFiles::kPartSuffix;
  if (rest.size() > part.size() && rest.compare(rest.size() - part.size(), part.size(), part) == 0)
    rest.resize(rest.size() - part.size());
  if (rest.size() < 6) return false;
  bool nonzero = false;
  for (char c : rest) {
    if (c < '0' || c > '9') return false;
    nonzero |= c != '0';
  }
  return nonzero;
}

std::pair<std::string, std::string> Split(const std::string& path) {
  size_t slash = path.rfind('/');
  if (slash == std::string::npos) return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

}  // namespace

std::unique_ptr<RotatedFiles> RotatedFiles::Create(const std::string& base, bool force,
                                                   uint32_t keep, std::string* error) {
  auto [dir, name] = Split(base);
  if (name.empty() || name == "." || name == "..") {
    *error = "cannot rotate " + base + ": it names a directory (give a file name to number)";
    return nullptr;
  }
  if (!force) {
    int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
      *error = "cannot rotate into " + dir + ": " + strerror(errno);
      return nullptr;
    }
    DIR* d = fdopendir(fd);
    std::string found;
    while (dirent* e = d ? readdir(d) : nullptr)
      if (IsNumbered(e->d_name, name)) found = e->d_name;
    if (d) closedir(d);
    if (!found.empty()) {
      *error = "cannot rotate " + base + ": " + (dir == "." ? "" : dir + "/") + found +
               " exists, from an earlier run (use --force to overwrite, or another -o)";
      return nullptr;
    }
  }
  std::unique_ptr<RotatedFiles> out(new RotatedFiles());
  out->base_ = base;
  out->force_ = force;
  out->keep_ = keep;
  return out;
}

std::string RotatedFiles::NameOf(uint64_t sequence) const {
  char digits[32];
  snprintf(digits, sizeof(digits), ".%06llu", static_cast<unsigned long long>(sequence));
  return base_ + digits;
}

const std::string& RotatedFiles::open_path() const {
  static const std::string none;
  return open_ ? open_->path() : none;
}

UniqueFd RotatedFiles::OpenNext(std::string* error) {
  // A stale part (a killed run) is replaced only with --force, like any file.
  auto file = RecordFile::Create(NameOf(sequence_ + 1) + kPartSuffix, force_, error);
  if (!file) return UniqueFd();
  if (!file->created()) {  // --force wrote into a device or FIFO at that name
    *error = "cannot rotate into " + file->path() + ": not a regular file";
    return UniqueFd();
  }
  UniqueFd fd = file->TakeFd();
  next_ = std::move(file);
  return fd;
}

bool RotatedFiles::Advance(std::string* error, std::string* warning) {
  bool ok = true;
  if (open_) {
    ok = open_->Rename(Split(NameOf(sequence_)).second, force_, error);
    if (ok) {
      // The rename on disk too (the data was synced by the writer).
      int dirfd = openat(open_->dir_fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
      if (dirfd >= 0) {
        (void)fsync(dirfd);
        close(dirfd);
      }
      closed_.push_back(std::move(open_));
    }
    while (keep_ > 0 && closed_.size() > keep_) {
      std::unique_ptr<RecordFile>& oldest = closed_.front();
      if (!oldest->RemoveIfCreated())
        *warning += "left " + oldest->path() + ": not the file this run wrote (replaced?)\n";
      closed_.pop_front();
    }
  }
  open_ = std::move(next_);
  if (open_) ++sequence_;
  return ok;
}

void RotatedFiles::AbandonNext() {
  if (next_) next_->RemoveIfCreated();
  next_.reset();
}

bool RotatedFiles::Abandon() {
  AbandonNext();
  if (open_ && !open_->RemoveIfCreated()) return false;
  open_.reset();
  return true;
}

bool RotatedFiles::CheckWritable(std::string* error) const {
  if (!open_) return true;
  if (faccessat(open_->dir_fd(), ".", W_OK | X_OK, AT_EACCESS) == 0) return true;
  *error = "cannot rotate in the directory of " + base_ +
           " once privileges are dropped: " + strerror(errno) +
           " (make it writable by that user, or --keep-privileges)";
  return false;
}

}  // namespace probe
