// The file rules shared by the recording and probe-report's outputs, each
// checked on its own (record_file_unittest.cc and output_file_unittest.cc
// check them through their users).
#include "file_rules.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <string>

#include "scratch_dir.h"

namespace probe {
namespace {

class FileRulesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    dir_ = scratch_.path();
    dirfd_.reset(open(dir_.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  }
  std::string Read(const std::string& name) { return test_files::ReadBytes(dir_ + "/" + name); }

  test_files::ScratchDir scratch_{"probe_rules"};
  std::string dir_;
  UniqueFd dirfd_;
};

TEST(SplitPathTest, DirectoryAndLastComponent) {
  EXPECT_EQ(SplitPath("a.ptrace").dir, ".");
  EXPECT_EQ(SplitPath("/a").dir, "/");
  EXPECT_EQ(SplitPath("/a").name, "a");
  EXPECT_EQ(SplitPath("x/y/z").dir, "x/y");
  EXPECT_EQ(SplitPath("x/y/z").name, "z");
  EXPECT_EQ(SplitPath("dir/").name, "");
}

TEST_F(FileRulesTest, ASymlinkAtTheNameIsNeverFollowedDanglingOrNot) {
  ASSERT_EQ(symlink((dir_ + "/target").c_str(), (dir_ + "/link").c_str()), 0);
  FileId id;
  errno = 0;
  EXPECT_FALSE(CreateNewFile(dirfd_.get(), "link", &id));
  EXPECT_EQ(errno, EEXIST);
  EXPECT_NE(access((dir_ + "/target").c_str(), F_OK), 0) << "the dangling link's target was made";
  std::ofstream(dir_ + "/target") << "theirs";
  EXPECT_FALSE(CreateNewFile(dirfd_.get(), "link", &id));
  EXPECT_EQ(Read("target"), "theirs");
}

TEST_F(FileRulesTest, NewFileIs0600WhateverTheUmask) {
  const mode_t old = umask(0);
  FileId id;
  UniqueFd fd = CreateNewFile(dirfd_.get(), "f", &id);
  umask(old);
  ASSERT_TRUE(fd);
  struct stat st;
  ASSERT_EQ(fstat(fd.get(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_TRUE(IsFile(dirfd_.get(), "f", id));
}

TEST_F(FileRulesTest, OnlyTheFileCreatedIsRemoved) {
  FileId id;
  ASSERT_TRUE(CreateNewFile(dirfd_.get(), "f", &id));
  // Someone else's file put at the name meanwhile stays.
  std::ofstream(dir_ + "/other") << "theirs";
  ASSERT_EQ(rename((dir_ + "/other").c_str(), (dir_ + "/f").c_str()), 0);
  EXPECT_FALSE(RemoveIfFile(dirfd_.get(), "f", id));
  EXPECT_EQ(Read("f"), "theirs");
  FileId mine;
  ASSERT_TRUE(CreateNewFile(dirfd_.get(), "g", &mine));
  EXPECT_TRUE(RemoveIfFile(dirfd_.get(), "g", mine));
  EXPECT_NE(access((dir_ + "/g").c_str(), F_OK), 0);
  EXPECT_FALSE(RemoveIfFile(dirfd_.get(), "g", mine)) << "gone already";
}

TEST_F(FileRulesTest, OnlyADeviceOrFifoIsOpenedAsItIs) {
  UniqueFd null = OpenDeviceOrFifo(AT_FDCWD, "/dev/null");
  ASSERT_TRUE(null);
  EXPECT_EQ(fcntl(null.get(), F_GETFL) & O_NONBLOCK, 0) << "blocking once open";
  ASSERT_EQ(mkfifo((dir_ + "/fifo").c_str(), 0600), 0);
  errno = 0;
  EXPECT_FALSE(OpenDeviceOrFifo(dirfd_.get(), "fifo"));
  EXPECT_EQ(errno, ENXIO) << "a FIFO without a reader: at once, no hang";
  // A regular file swapped in for the device is not written in place.
  std::ofstream(dir_ + "/plain") << "theirs";
  errno = 0;
  EXPECT_FALSE(OpenDeviceOrFifo(dirfd_.get(), "plain"));
  EXPECT_EQ(errno, ESTALE);
  EXPECT_EQ(Read("plain"), "theirs");
}

}  // namespace
}  // namespace probe
