// RotatedFiles: numbered files made under a temporary name and renamed into
// place, never over another file without force, never through a symlink;
// --keep removes only the files this run made. No root needed.
#include "rotated_files.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "scratch_dir.h"

namespace probe {
namespace {

class RotatedFilesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    dir_ = scratch_.path();
    base_ = dir_ + "/run.ptrace";
  }

  static std::string Read(const std::string& p) { return test_files::ReadBytes(p); }
  static void Write(const std::string& p, const std::string& b) { test_files::WriteBytes(p, b); }
  static bool Exists(const std::string& p) {
    struct stat st;
    return lstat(p.c_str(), &st) == 0;
  }
  // Opens the next file and writes text into it, then closes the open one
  // into place (the next becomes the open one).
  bool Next(RotatedFiles& files, const std::string& text, std::string* warning) {
    std::string error;
    UniqueFd fd = files.OpenNext(&error);
    if (!fd) return false;
    if (write(fd.get(), text.data(), text.size()) != ssize_t(text.size())) return false;
    return files.Advance(&error, warning);
  }

  test_files::ScratchDir scratch_{"probe_rotated"};
  std::string dir_, base_;
};

TEST_F(RotatedFilesTest, FilesAreWrittenAsPartsAndRenamedInOrder) {
  std::string error, warning;
  auto files = RotatedFiles::Create(base_, false, 0, &error);
  ASSERT_TRUE(files) << error;
  UniqueFd first = files->OpenNext(&error);
  ASSERT_TRUE(first) << error;
  EXPECT_TRUE(Exists(base_ + ".000001.part"));
  ASSERT_TRUE(files->Advance(&error, &warning));  // the start: nothing to close yet
  EXPECT_EQ(files->sequence(), 1u);
  EXPECT_EQ(files->open_path(), base_ + ".000001.part");
  struct stat st;
  ASSERT_EQ(stat((base_ + ".000001.part").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  ASSERT_EQ(write(first.get(), "one", 3), 3);
  ASSERT_TRUE(Next(*files, "two", &warning));
  EXPECT_EQ(Read(base_ + ".000001"), "one") << "closed: renamed into place";
  EXPECT_FALSE(Exists(base_ + ".000001.part"));
  EXPECT_TRUE(Exists(base_ + ".000002.part")) << "the open one keeps its temporary name";
  EXPECT_EQ(files->NameOf(1234567), base_ + ".1234567");
  EXPECT_TRUE(warning.empty());
}

TEST_F(RotatedFilesTest, AnEarlierRunsFilesAreRefusedUnlessForced) {
  Write(base_ + ".000000", "not a sequence this run writes");
  Write(base_ + ".old", "another name");
  std::string error;
  EXPECT_TRUE(RotatedFiles::Create(base_, false, 0, &error)) << error;
  Write(base_ + ".000007.part", "an earlier run's part");
  EXPECT_FALSE(RotatedFiles::Create(base_, false, 0, &error));
  EXPECT_NE(error.find("run.ptrace.000007.part exists, from an earlier run"), std::string::npos)
      << error;
  EXPECT_TRUE(RotatedFiles::Create(base_, true, 0, &error)) << error;
}

// A name taken while the file was being written is not replaced: the file
// stays under its temporary name and the run goes on in the next one.
TEST_F(RotatedFilesTest, RenameNeverReplacesAFileWithoutForce) {
  std::string error, warning;
  auto files = RotatedFiles::Create(base_, false, 0, &error);
  ASSERT_TRUE(Next(*files, "", &warning));
  Write(base_ + ".000001", "someone else's");
  UniqueFd fd = files->OpenNext(&error);
  ASSERT_TRUE(fd);
  EXPECT_FALSE(files->Advance(&error, &warning));
  EXPECT_NE(error.find("exists (use --force to overwrite)"), std::string::npos) << error;
  EXPECT_EQ(Read(base_ + ".000001"), "someone else's");
  EXPECT_TRUE(Exists(base_ + ".000001.part"));
  EXPECT_EQ(files->open_path(), base_ + ".000002.part");

  auto forced = RotatedFiles::Create(dir_ + "/forced", true, 0, &error);
  ASSERT_TRUE(Next(*forced, "ours", &warning));
  Write(dir_ + "/forced.000001", "old");
  ASSERT_TRUE(Next(*forced, "", &warning)) << "--force replaces";
  EXPECT_EQ(Read(dir_ + "/forced.000001"), "ours");
}

TEST_F(RotatedFilesTest, SymlinkAtThePartNameIsNeverFollowed) {
  Write(dir_ + "/target", "precious");
  ASSERT_EQ(symlink((dir_ + "/target").c_str(), (base_ + ".000001.part").c_str()), 0);
  std::string error;
  auto files = RotatedFiles::Create(base_, true, 0, &error);
  ASSERT_TRUE(files) << error;
  EXPECT_FALSE(files->OpenNext(&error));
  EXPECT_NE(error.find("symbolic link"), std::string::npos) << error;
  EXPECT_EQ(Read(dir_ + "/target"), "precious");
}

TEST_F(RotatedFilesTest, KeepRemovesOnlyTheFilesThisRunMade) {
  std::string error, warning;
  auto files = RotatedFiles::Create(base_, false, 1, &error);
  ASSERT_TRUE(Next(*files, "", &warning));   // 1 open
  ASSERT_TRUE(Next(*files, "1", &warning));  // 1 closed, 2 open
  ASSERT_TRUE(Next(*files, "2", &warning));  // 2 closed, 1 removed
  EXPECT_FALSE(Exists(base_ + ".000001"));
  EXPECT_EQ(Read(base_ + ".000002"), "1");
  // File 2 replaced under its name: when it is due to go, it is left.
  Write(dir_ + "/swap", "swapped in");
  ASSERT_EQ(rename((dir_ + "/swap").c_str(), (base_ + ".000002").c_str()), 0);
  ASSERT_TRUE(Next(*files, "3", &warning));
  EXPECT_EQ(Read(base_ + ".000002"), "swapped in");
  EXPECT_NE(warning.find("run.ptrace.000002: not the file this run wrote"), std::string::npos)
      << warning;
  EXPECT_EQ(Read(base_ + ".000003"), "2");
  EXPECT_TRUE(files->Abandon()) << "the open part is removed";
  EXPECT_FALSE(Exists(base_ + ".000004.part"));
}

}  // namespace
}  // namespace probe
