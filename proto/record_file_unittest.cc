// RecordFile::Create's file hardening: no symlink is followed, no file it
// did not create is truncated, mode 0600 whatever the umask, and under sudo
// the file belongs to the invoking user; only the file it created (same
// device and inode) is ever removed; a FIFO without a reader never blocks.
#include "record_file.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "record_reader.h"
#include "scratch_dir.h"

namespace probe {
namespace {

class RecordFileCreateTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ASSERT_FALSE(scratch_.path().empty());
    dir_ = scratch_.path();
    path_ = dir_ + "/out.ptrace";
    target_ = dir_ + "/target";
  }

  static std::string Read(const std::string& p) { return test_files::ReadBytes(p); }
  static void Write(const std::string& p, const std::string& b) { test_files::WriteBytes(p, b); }
  // Creates path_ and writes one header record; returns false with *err set.
  bool CreateAndWrite(bool force, std::string* err) {
    auto w = CreateRecordFile(path_, force, err);
    if (!w) return false;
    v1::Record r;
    r.mutable_header()->set_hostname("writer-test");
    EXPECT_TRUE(w->Append(r));
    EXPECT_TRUE(w->Flush());
    return true;
  }
  void ExpectOneLine(const std::string& err) {
    EXPECT_FALSE(err.empty());
    EXPECT_EQ(err.find('\n'), std::string::npos) << err;
    EXPECT_NE(err.find(path_), std::string::npos) << err;
  }

  test_files::ScratchDir scratch_{"probe_writer"};
  std::string dir_, path_, target_;
};

TEST_F(RecordFileCreateTest, SymlinkIsNeverFollowed) {
  for (bool force : {false, true}) {
    SCOPED_TRACE(force ? "force" : "no force");
    Write(target_, "precious");
    ASSERT_EQ(chmod(target_.c_str(), 0644), 0);
    unlink(path_.c_str());
    ASSERT_EQ(symlink(target_.c_str(), path_.c_str()), 0);
    std::string err;
    EXPECT_FALSE(CreateAndWrite(force, &err));
    ExpectOneLine(err);
    EXPECT_NE(err.find("symbolic link"), std::string::npos) << err;
    EXPECT_EQ(Read(target_), "precious");
    struct stat st;
    ASSERT_EQ(stat(target_.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0644u);
    ASSERT_EQ(lstat(path_.c_str(), &st), 0);
    EXPECT_TRUE(S_ISLNK(st.st_mode)) << "the link itself is left alone";
  }
}

TEST_F(RecordFileCreateTest, DanglingSymlinkIsNeverFollowed) {
  for (bool force : {false, true}) {
    SCOPED_TRACE(force ? "force" : "no force");
    unlink(path_.c_str());
    ASSERT_EQ(symlink(target_.c_str(), path_.c_str()), 0);
    std::string err;
    EXPECT_FALSE(CreateAndWrite(force, &err));
    ExpectOneLine(err);
    EXPECT_NE(err.find("symbolic link"), std::string::npos) << err;
    struct stat st;
    EXPECT_NE(lstat(target_.c_str(), &st), 0) << "nothing created through the link";
  }
}

TEST_F(RecordFileCreateTest, ExistingFileIsNotTouchedWithoutForce) {
  Write(path_, "existing data");
  ASSERT_EQ(chmod(path_.c_str(), 0644), 0);
  std::string err;
  EXPECT_FALSE(CreateAndWrite(false, &err));
  ExpectOneLine(err);
  EXPECT_NE(err.find("--force"), std::string::npos) << err;
  EXPECT_EQ(Read(path_), "existing data");
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
}

TEST_F(RecordFileCreateTest, ForceReplacesExistingFile) {
  Write(path_, std::string(10000, 'z'));
  ASSERT_EQ(chmod(path_.c_str(), 0666), 0);
  struct stat before;
  ASSERT_EQ(stat(path_.c_str(), &before), 0);
  // A hard link to the old file must keep the old contents: the file is
  // replaced, not truncated in place.
  const std::string other = dir_ + "/hardlink";
  ASSERT_EQ(link(path_.c_str(), other.c_str()), 0);
  std::string err;
  ASSERT_TRUE(CreateAndWrite(true, &err)) << err;
  EXPECT_EQ(Read(other), std::string(10000, 'z'));
  struct stat after;
  ASSERT_EQ(stat(path_.c_str(), &after), 0);
  EXPECT_NE(after.st_ino, before.st_ino);
  EXPECT_EQ(after.st_mode & 07777, 0600u);
  auto reader = RecordReader::Open(path_, &err);
  ASSERT_TRUE(reader) << err;
  v1::Record r;
  ASSERT_EQ(reader->Next(&r), ReadStatus::kRecord);
  EXPECT_EQ(r.header().hostname(), "writer-test");
  EXPECT_EQ(reader->Next(&r), ReadStatus::kEnd);
}

TEST_F(RecordFileCreateTest, DirectoryIsAnErrorEvenWithForce) {
  ASSERT_EQ(mkdir(path_.c_str(), 0755), 0);
  std::string err;
  EXPECT_FALSE(CreateAndWrite(true, &err));
  ExpectOneLine(err);
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
}

TEST_F(RecordFileCreateTest, ModeIs0600WhateverTheUmask) {
  mode_t old = umask(0);
  std::string err;
  bool ok = CreateAndWrite(false, &err);
  umask(old);
  ASSERT_TRUE(ok) << err;
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    const char* old = getenv(name);
    if (old != nullptr) old_ = old, had_ = true;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_)
      setenv(name_, old_.c_str(), 1);
    else
      unsetenv(name_);
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST_F(RecordFileCreateTest, UnderSudoFileBelongsToInvokingUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string err;
  bool ok;
  {
    ScopedEnv uid("SUDO_UID", "65534");
    ScopedEnv gid("SUDO_GID", "65533");
    ok = CreateAndWrite(false, &err);
  }
  ASSERT_TRUE(ok) << err;
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, 65534u);
  EXPECT_EQ(st.st_gid, 65533u);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
}

TEST_F(RecordFileCreateTest, MalformedSudoIdsAreIgnored) {
  std::string err;
  bool ok;
  {
    ScopedEnv uid("SUDO_UID", "65534x");
    ScopedEnv gid("SUDO_GID", "-1");
    ok = CreateAndWrite(false, &err);
  }
  ASSERT_TRUE(ok) << err;
  struct stat st;
  ASSERT_EQ(stat(path_.c_str(), &st), 0);
  EXPECT_EQ(st.st_uid, geteuid());
}

TEST_F(RecordFileCreateTest, ForceWritesToDevNullWithoutReplacingIt) {
  struct stat before;
  ASSERT_EQ(stat("/dev/null", &before), 0);
  ASSERT_TRUE(S_ISCHR(before.st_mode));
  std::string err;
  auto w = CreateRecordFile("/dev/null", true, &err);
  ASSERT_TRUE(w) << err;
  v1::Record r;
  r.mutable_header()->set_hostname("x");
  EXPECT_TRUE(w->Append(r));
  EXPECT_TRUE(w->Flush());
  w.reset();
  struct stat after;
  ASSERT_EQ(stat("/dev/null", &after), 0);
  EXPECT_TRUE(S_ISCHR(after.st_mode));
  EXPECT_EQ(after.st_rdev, before.st_rdev);
  EXPECT_EQ(after.st_mode, before.st_mode);
  EXPECT_EQ(after.st_uid, before.st_uid);
}

TEST_F(RecordFileCreateTest, RemovesTheFileItCreated) {
  std::string err;
  auto f = RecordFile::Create(path_, false, &err);
  ASSERT_TRUE(f) << err;
  EXPECT_TRUE(f->created());
  EXPECT_TRUE(f->RemoveIfCreated());
  EXPECT_NE(access(path_.c_str(), F_OK), 0);
  EXPECT_FALSE(f->RemoveIfCreated()) << "removed once";
}

// The name now refers to another inode (moved away, replaced): that is not
// the agent's file, and stays.
TEST_F(RecordFileCreateTest, LeavesAReplacedFileAlone) {
  std::string err;
  auto f = RecordFile::Create(path_, false, &err);
  ASSERT_TRUE(f) << err;
  ASSERT_EQ(rename(path_.c_str(), target_.c_str()), 0);
  Write(path_, "someone else's");
  EXPECT_FALSE(f->RemoveIfCreated());
  EXPECT_EQ(Read(path_), "someone else's");
  EXPECT_EQ(access(target_.c_str(), F_OK), 0);
}

// A FIFO or device written into with --force was not created here: never
// removed (the agent used to unlink /dev/null on a failed start).
TEST_F(RecordFileCreateTest, NeverRemovesAFifoOrDeviceItWroteInto) {
  std::string err;
  auto f = RecordFile::Create("/dev/null", true, &err);
  ASSERT_TRUE(f) << err;
  EXPECT_FALSE(f->created());
  EXPECT_FALSE(f->RemoveIfCreated());
  struct stat st;
  ASSERT_EQ(lstat("/dev/null", &st), 0);
  EXPECT_TRUE(S_ISCHR(st.st_mode));
}

// No reader and nobody to ask: one line at once, not a hang in open().
TEST_F(RecordFileCreateTest, FifoWithoutReaderIsAnErrorAtOnce) {
  ASSERT_EQ(mkfifo(path_.c_str(), 0600), 0);
  std::string err;
  auto start = std::chrono::steady_clock::now();
  EXPECT_FALSE(RecordFile::Create(path_, true, &err));
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(1));
  ExpectOneLine(err);
  EXPECT_NE(err.find("a FIFO with no reader"), std::string::npos) << err;
}

// Waiting is the caller's to end: KeepWaiting is asked until it says stop.
TEST_F(RecordFileCreateTest, FifoWaitEndsWhenTheCallerSaysSo) {
  ASSERT_EQ(mkfifo(path_.c_str(), 0600), 0);
  std::string err;
  int asked = 0;
  EXPECT_FALSE(RecordFile::Create(path_, true, &err, [&] { return ++asked < 3; }));
  EXPECT_EQ(asked, 3);
  ExpectOneLine(err);
  EXPECT_NE(err.find("stopped while waiting for a reader on"), std::string::npos) << err;
}

// A reader that comes while waiting: the FIFO is written, blocking again.
TEST_F(RecordFileCreateTest, FifoReaderArrivingWhileWaitingIsWritten) {
  ASSERT_EQ(mkfifo(path_.c_str(), 0600), 0);
  std::string err;
  int reader = -1;
  auto f = RecordFile::Create(path_, true, &err, [&] {
    if (reader < 0) reader = open(path_.c_str(), O_RDONLY | O_NONBLOCK);
    return true;
  });
  ASSERT_TRUE(f) << err;
  EXPECT_FALSE(f->created());
  UniqueFd fd = f->TakeFd();
  EXPECT_EQ(fcntl(fd.get(), F_GETFL) & O_NONBLOCK, 0) << "writes block again";
  EXPECT_EQ(write(fd.get(), "x", 1), 1);
  char c = 0;
  EXPECT_EQ(read(reader, &c, 1), 1);
  EXPECT_EQ(c, 'x');
  close(reader);
}

}  // namespace
}  // namespace probe
