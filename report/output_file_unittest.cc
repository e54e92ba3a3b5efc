// probe-report's output files (issue 17, item 10): never through a symlink,
// never truncated in place, only regular files replaced, nothing left behind.
#include "output_file.h"

#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <string>

#include "scratch_dir.h"

namespace probe {
namespace {

class OutputFileTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    dir_ = scratch_.path();
  }
  static std::string Read(const std::string& p) { return test_files::ReadBytes(p); }
  static void Write(const std::string& p, const std::string& s) { test_files::WriteBytes(p, s); }
  int Entries() {
    int n = 0;
    DIR* d = opendir(dir_.c_str());
    while (dirent* e = readdir(d))
      if (e->d_name[0] != '.' || (e->d_name[1] != '\0' && e->d_name[1] != '.')) ++n;
    closedir(d);
    return n;
  }
  static bool Put(OutputFile& f, const std::string& s) {
    return write(f.fd(), s.data(), s.size()) == ssize_t(s.size());
  }
  test_files::ScratchDir scratch_{"probe_out"};
  std::string dir_;
};

TEST_F(OutputFileTest, NewFileAppearsOnlyAtCommitWithMode0600) {
  const std::string p = dir_ + "/out.json";
  std::string err;
  auto f = OutputFile::Create(p, &err);
  ASSERT_TRUE(f) << err;
  ASSERT_TRUE(Put(*f, "new"));
  EXPECT_NE(access(p.c_str(), F_OK), 0) << "not in place before Commit";
  ASSERT_TRUE(f->Commit(&err)) << err;
  EXPECT_EQ(Read(p), "new");
  struct stat st;
  ASSERT_EQ(stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(Entries(), 1) << "no temporary file left";
}

TEST_F(OutputFileTest, SymlinkIsNeverFollowedDanglingOrNot) {
  const std::string victim = dir_ + "/victim", link = dir_ + "/link", dangling = dir_ + "/d";
  Write(victim, "precious");
  ASSERT_EQ(symlink(victim.c_str(), link.c_str()), 0);
  ASSERT_EQ(symlink((dir_ + "/nowhere").c_str(), dangling.c_str()), 0);
  for (const std::string& p : {link, dangling}) {
    std::string err;
    EXPECT_FALSE(OutputFile::Create(p, &err));
    EXPECT_NE(err.find("symbolic link"), std::string::npos) << err;
  }
  EXPECT_EQ(Read(victim), "precious");
  EXPECT_NE(access((dir_ + "/nowhere").c_str(), F_OK), 0) << "the dangling link was followed";
  EXPECT_EQ(Entries(), 3);
}

TEST_F(OutputFileTest, ARegularFileIsReplacedNotTruncatedInPlace) {
  const std::string victim = dir_ + "/victim", p = dir_ + "/out.html";
  Write(victim, "precious");
  ASSERT_EQ(link(victim.c_str(), p.c_str()), 0);
  std::string err;
  auto f = OutputFile::Create(p, &err);
  ASSERT_TRUE(f) << err;
  ASSERT_TRUE(Put(*f, "page"));
  ASSERT_TRUE(f->Commit(&err)) << err;
  EXPECT_EQ(Read(p), "page");
  EXPECT_EQ(Read(victim), "precious") << "the other hard link keeps its bytes";
}

TEST_F(OutputFileTest, NotCommittedLeavesThePathAsItWas) {
  const std::string p = dir_ + "/out.csv";
  Write(p, "old");
  {
    std::string err;
    auto f = OutputFile::Create(p, &err);
    ASSERT_TRUE(f) << err;
    ASSERT_TRUE(Put(*f, "half"));
  }
  EXPECT_EQ(Read(p), "old");
  EXPECT_EQ(Entries(), 1) << "its new file was removed";
}

TEST_F(OutputFileTest, SomethingPutThereMeanwhileIsNotReplaced) {
  const std::string p = dir_ + "/out", victim = dir_ + "/victim";
  Write(victim, "precious");
  std::string err;
  auto f = OutputFile::Create(p, &err);
  ASSERT_TRUE(f) << err;
  ASSERT_EQ(symlink(victim.c_str(), p.c_str()), 0);  // raced in before Commit
  EXPECT_FALSE(f->Commit(&err));
  EXPECT_NE(err.find("meanwhile"), std::string::npos) << err;
  EXPECT_EQ(Read(victim), "precious");
  struct stat st;
  ASSERT_EQ(lstat(p.c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link is left alone";
  EXPECT_EQ(Entries(), 2);
}

TEST_F(OutputFileTest, DevicesAndFifosAreWrittenAsTheyAreOthersRefused) {
  std::string err;
  auto null = OutputFile::Create("/dev/null", &err);
  ASSERT_TRUE(null) << err;
  EXPECT_TRUE(Put(*null, "x"));
  EXPECT_TRUE(null->Commit(&err)) << err;
  struct stat st;
  ASSERT_EQ(stat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));

  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  EXPECT_FALSE(OutputFile::Create(fifo, &err)) << "no reader: an error, not a hang";
  EXPECT_NE(err.find("no reader"), std::string::npos) << err;
  EXPECT_FALSE(OutputFile::Create(dir_, &err));
  EXPECT_NE(err.find("directory"), std::string::npos) << err;
  EXPECT_EQ(err.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace probe
