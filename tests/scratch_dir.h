// What unit tests of files need, once: a fresh directory under /tmp that is
// removed with everything in it when the test ends, and a file's bytes read
// or written whole. Tests only: no error handling beyond an empty path.
#pragma once
#include <stdlib.h>

#include <fstream>
#include <sstream>
#include <string>

namespace probe::test_files {

class ScratchDir {
 public:
  // prefix names the test in /tmp listings, e.g. "probe_rotated".
  explicit ScratchDir(const std::string& prefix) {
    std::string tmpl = "/tmp/" + prefix + "_XXXXXX";
    if (mkdtemp(tmpl.data())) path_ = tmpl;
  }
  ~ScratchDir() {
    if (!path_.empty()) (void)!system(("rm -rf " + path_).c_str());
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;

  const std::string& path() const { return path_; }  // empty when mkdtemp failed

 private:
  std::string path_;
};

inline std::string ReadBytes(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

inline void WriteBytes(const std::string& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
}

}  // namespace probe::test_files
