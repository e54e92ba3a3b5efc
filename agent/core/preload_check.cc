#include "preload_check.h"

#include <elf.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <vector>

#include "unique_fd.h"

namespace probe {

std::string FindExecutable(const std::string& name) {
  if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
  const char* path = getenv("PATH");
  std::string dirs = path ? path : "/usr/local/bin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t colon = dirs.find(':', start);
    std::string dir = dirs.substr(start, colon == std::string::npos ? colon : colon - start);
    std::string candidate = (dir.empty() ? "." : dir) + "/" + name;
    if (access(candidate.c_str(), X_OK) == 0) return candidate;
    if (colon == std::string::npos) break;
    start = colon + 1;
  }
  return "";
}

namespace {

// The PT_INTERP string of a 64-bit ELF, "" for none; false if not ELF64.
bool ReadInterpreter(int fd, std::string* interp) {
  Elf64_Ehdr eh;
  if (pread(fd, &eh, sizeof(eh), 0) != sizeof(eh) || memcmp(eh.e_ident, ELFMAG, SELFMAG) != 0 ||
      eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_phentsize != sizeof(Elf64_Phdr) ||
      eh.e_phnum > 256)
    return false;
  for (int i = 0; i < eh.e_phnum; ++i) {
    Elf64_Phdr ph;
    if (pread(fd, &ph, sizeof(ph), off_t(eh.e_phoff + uint64_t(i) * sizeof(ph))) != sizeof(ph))
      return false;
    if (ph.p_type != PT_INTERP || ph.p_filesz == 0 || ph.p_filesz > 4096) continue;
    std::vector<char> buf(ph.p_filesz);
    if (pread(fd, buf.data(), buf.size(), off_t(ph.p_offset)) != ssize_t(buf.size())) return false;
    interp->assign(buf.data(), strnlen(buf.data(), buf.size()));
    return true;
  }
  interp->clear();
  return true;
}

}  // namespace

std::string PreloadObstacle(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return "";  // exec will report it
  if (st.st_mode & (S_ISUID | S_ISGID))
    return path + " is setuid/setgid: the loader ignores LD_PRELOAD for it";
  UniqueFd fd(open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd) return "";
  std::string interp;
  const bool elf = ReadInterpreter(fd.get(), &interp);
  if (!elf) return "";  // a script: its interpreter takes the shim
  if (interp.empty()) return path + " is statically linked: LD_PRELOAD cannot load the shim";
  if (interp.find("ld-linux") == std::string::npos && interp.find("ld64.so") == std::string::npos)
    return path + " does not use glibc (loader " + interp + "): the shim needs glibc";
  return "";
}

}  // namespace probe
