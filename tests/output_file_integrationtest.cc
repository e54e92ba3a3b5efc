// The agent's output file (issue 17, items 8 and 9): it only ever removes a
// file it created itself (same device and inode), a run that fails to start
// leaves no file behind, and a FIFO without a reader never hangs it with its
// signals blocked.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <string>
#include <thread>
#include <vector>

#include "agent_test.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::ReadRecords;
using testing::Slurp;

class AgentOutputTest : public testing::AgentTest {
 protected:
  // A character device node like /dev/null (1,3), made in the test's own
  // directory: the real /dev/null is never put at risk.
  std::string MakeNullNode() {
    const std::string node = dir_ + "/null";
    EXPECT_EQ(mknod(node.c_str(), S_IFCHR | 0666, makedev(1, 3)), 0) << strerror(errno);
    return node;
  }
  static bool IsNullNode(const std::string& path) {
    struct stat st {};
    return lstat(path.c_str(), &st) == 0 && S_ISCHR(st.st_mode) && major(st.st_rdev) == 1 &&
           minor(st.st_rdev) == 3;
  }
};

// --preload-library naming a missing library fails after the output was
// opened: the device node given as -o is not the agent's to remove.
TEST_F(AgentOutputTest, DeviceNodeOutlivesAFailedStart) {
  const std::string node = MakeNullNode();
  auto r = testing::RunCommand({PROBE_AGENT, "-f", "-o", node, "--preload-library",
                                dir_ + "/nonexistent.so", "--", "/bin/true"});
  EXPECT_EQ(r.exit_status, 1) << r.err;
  EXPECT_TRUE(IsNullNode(node)) << "the agent removed the device node it was given";
}

// A command that cannot be run: one line naming it, and neither a new file
// nor a device node given as -o is removed or left behind wrongly.
TEST_F(AgentOutputTest, FailedLaunchLeavesNoFile) {
  auto r = testing::RunCommand({PROBE_AGENT, "-o", file_, "--", dir_ + "/nonexistent/cmd"});
  EXPECT_EQ(r.exit_status, 127) << r.err;
  EXPECT_NE(r.err.find("cannot run " + dir_ + "/nonexistent/cmd"), std::string::npos) << r.err;
  EXPECT_NE(access(file_.c_str(), F_OK), 0) << "a failed launch left " << file_ << " behind";

  const std::string node = MakeNullNode();
  r = testing::RunCommand({PROBE_AGENT, "-f", "-o", node, "--", dir_ + "/nonexistent/cmd"});
  EXPECT_EQ(r.exit_status, 127) << r.err;
  EXPECT_TRUE(IsNullNode(node));
}

// The start fails after the agent created its file: that file, and only
// that, is removed (the same device and inode check, unit-tested in
// proto/record_file_unittest.cc, keeps a replaced file).
TEST_F(AgentOutputTest, OwnHalfFileOfAFailedStartIsRemoved) {
  auto r = testing::RunCommand(
      {PROBE_AGENT, "-o", file_, "--preload-library", dir_ + "/nonexistent.so", "--", "/bin/true"});
  EXPECT_EQ(r.exit_status, 1) << r.err;
  EXPECT_NE(access(file_.c_str(), F_OK), 0) << "the agent's own half file was left behind";
}

// Runs the agent with stderr to a file; returns its pid.
pid_t StartAgent(const std::vector<std::string>& argv, const std::string& err_path) {
  pid_t pid = fork();
  if (pid == 0) {
    int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(e, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execv(args[0], args.data());
    _exit(127);
  }
  return pid;
}

// Waits up to timeout for pid; its shell-style status, or -1 if still running.
int WaitFor(pid_t pid, std::chrono::milliseconds timeout) {
  const auto end = std::chrono::steady_clock::now() + timeout;
  while (std::chrono::steady_clock::now() < end) {
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid)
      return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return -1;
}

// -o names a FIFO nobody reads: the agent says it waits for a reader, and
// SIGINT ends the wait at once with one line and exit 1 (it used to block in
// open() with SIGINT and SIGTERM blocked: only SIGKILL ended it).
TEST_F(AgentOutputTest, FifoWithoutReaderWaitsAndSigintEndsIt) {
  const std::string fifo = dir_ + "/fifo", err = dir_ + "/err";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  pid_t agent = StartAgent({PROBE_AGENT, "-f", "-o", fifo, "--", "/bin/true"}, err);
  std::this_thread::sleep_for(std::chrono::milliseconds(500));
  EXPECT_EQ(WaitFor(agent, std::chrono::milliseconds(0)), -1) << Slurp(err);
  kill(agent, SIGINT);
  int status = WaitFor(agent, std::chrono::seconds(5));
  if (status == -1) {
    kill(agent, SIGKILL);
    waitpid(agent, nullptr, 0);
    FAIL() << "SIGINT did not end an agent waiting for a FIFO reader";
  }
  EXPECT_EQ(status, 1) << Slurp(err);
  const std::string text = Slurp(err);
  EXPECT_NE(text.find("waiting for a reader on " + fifo), std::string::npos) << text;
  EXPECT_NE(text.find("stopped while waiting for a reader on " + fifo), std::string::npos) << text;
  struct stat st {};
  EXPECT_TRUE(lstat(fifo.c_str(), &st) == 0 && S_ISFIFO(st.st_mode)) << "the FIFO was removed";
}

// A reader that arrives later: the agent goes on and records the command.
TEST_F(AgentOutputTest, FifoReaderArrivingLaterGetsTheRecording) {
  const std::string fifo = dir_ + "/fifo", err = dir_ + "/err", copy = dir_ + "/copy";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  pid_t agent = StartAgent({PROBE_AGENT, "-f", "-o", fifo, "--", "/bin/true"}, err);
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  pid_t reader = fork();
  if (reader == 0) {
    int in = open(fifo.c_str(), O_RDONLY);
    int out = open(copy.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    char buf[65536];
    ssize_t n;
    while ((n = read(in, buf, sizeof(buf))) > 0)
      if (write(out, buf, size_t(n)) != n) _exit(1);
    _exit(n == 0 ? 0 : 1);
  }
  int status = WaitFor(agent, std::chrono::seconds(20));
  if (status == -1) kill(agent, SIGKILL), waitpid(agent, nullptr, 0);
  int rst = 0;
  waitpid(reader, &rst, 0);
  EXPECT_EQ(status, 0) << Slurp(err);
  EXPECT_TRUE(WIFEXITED(rst) && WEXITSTATUS(rst) == 0);
  auto records = ReadRecords(copy);
  ASSERT_FALSE(records.empty());
  EXPECT_TRUE(records.front().has_header());
  EXPECT_TRUE(records.back().has_trailer());
}

}  // namespace
}  // namespace probe
