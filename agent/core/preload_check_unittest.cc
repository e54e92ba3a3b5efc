// Which programs cannot take the shim, read from their ELF files.
#include "preload_check.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <fstream>
#include <iterator>
#include <string>

namespace probe {
namespace {

class PreloadCheckTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/probe_preload_check_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  void TearDown() override { (void)!system(("rm -rf " + dir_).c_str()); }
  // A copy of /bin/true, optionally with its loader path replaced.
  std::string CopyTrue(const std::string& name, const std::string& new_interp = "") {
    std::ifstream in(FindExecutable("true"), std::ios::binary);
    std::string bytes((std::istreambuf_iterator<char>(in)), {});
    if (!new_interp.empty()) {
      size_t at = bytes.find("/lib64/ld-linux-x86-64.so.2");
      EXPECT_NE(at, std::string::npos);
      std::string padded = new_interp;
      padded.resize(strlen("/lib64/ld-linux-x86-64.so.2"), '\0');
      bytes.replace(at, padded.size(), padded);
    }
    std::string path = dir_ + "/" + name;
    std::ofstream(path, std::ios::binary) << bytes;
    chmod(path.c_str(), 0755);
    return path;
  }
  std::string dir_;
};

TEST_F(PreloadCheckTest, AGlibcProgramCanTakeTheShim) {
  EXPECT_EQ(PreloadObstacle(CopyTrue("plain")), "");
}

TEST_F(PreloadCheckTest, SetuidAndSetgidProgramsCannot) {
  std::string suid = CopyTrue("suid"), sgid = CopyTrue("sgid");
  chmod(suid.c_str(), 04755);
  chmod(sgid.c_str(), 02755);
  EXPECT_NE(PreloadObstacle(suid).find("setuid"), std::string::npos);
  EXPECT_NE(PreloadObstacle(sgid).find("setgid"), std::string::npos);
}

TEST_F(PreloadCheckTest, AnotherLibcIsNamed) {
  std::string why = PreloadObstacle(CopyTrue("musl", "/lib/ld-musl-x86_64.so.1"));
  EXPECT_NE(why.find("does not use glibc"), std::string::npos) << why;
  EXPECT_NE(why.find("ld-musl"), std::string::npos) << why;
}

TEST_F(PreloadCheckTest, ScriptsAndMissingFilesAreLeftToExec) {
  std::string script = dir_ + "/s.sh";
  std::ofstream(script) << "#!/bin/sh\nexit 0\n";
  chmod(script.c_str(), 0755);
  EXPECT_EQ(PreloadObstacle(script), "") << "its interpreter takes the shim";
  EXPECT_EQ(PreloadObstacle(dir_ + "/missing"), "") << "exec reports it";
  EXPECT_EQ(FindExecutable("no-such-program-anywhere"), "");
  EXPECT_FALSE(FindExecutable("sh").empty());
}

}  // namespace
}  // namespace probe
