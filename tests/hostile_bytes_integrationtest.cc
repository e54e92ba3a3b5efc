// Names, argv and paths are bytes from the kernel, not UTF-8: real agent runs
// whose argv, waker comm and the agent's own command line hold bytes that are
// not UTF-8 must give a file that reads to its end with those bytes exact
// (issue 17, item 1: one such byte used to cut every later record off).
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <map>
#include <string>
#include <thread>

#include "agent_test.h"
#include "record_reader.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::RunCommand;

// Every record of path; fails the test unless the file ends cleanly.
std::vector<v1::Record> ReadWhole(const std::string& path) {
  std::vector<v1::Record> out;
  std::string error;
  auto reader = RecordReader::Open(path, &error);
  EXPECT_TRUE(reader) << error;
  if (!reader) return out;
  v1::Record r;
  ReadStatus s;
  while ((s = reader->Next(&r)) == ReadStatus::kRecord) out.push_back(r);
  EXPECT_EQ(s, ReadStatus::kEnd) << ReadStatusName(s) << " after " << out.size()
                                 << " records: " << reader->reason();
  return out;
}

bool HasTrailer(const std::vector<v1::Record>& records) {
  return !records.empty() && records.back().has_trailer();
}

class HostileBytesTest : public testing::AgentTest {};

TEST_F(HostileBytesTest, ArgvByteThatIsNotUtf8IsKeptExactAndTheFileReadsToItsEnd) {
  auto r = RunCommand(
      {PROBE_AGENT, "-o", file_, "--", "sh", "-c", "/bin/true \"$(printf '\\377')\"; sleep 0.1"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_EQ(r.err.find("libprotobuf"), std::string::npos) << r.err;
  auto records = ReadWhole(file_);
  EXPECT_TRUE(HasTrailer(records)) << records.size() << " records";
  int with_byte = 0, lifetimes = 0;
  for (const auto& rec : records) {
    if (!rec.has_process()) continue;
    ++lifetimes;
    const auto& argv = rec.process().argv();
    if (argv.size() == 2 && argv[0] == "/bin/true" && argv[1] == "\xff") ++with_byte;
  }
  EXPECT_EQ(with_byte, 1) << "of " << lifetimes << " process records";
  auto report = RunCommand({PROBE_REPORT, file_});
  EXPECT_EQ(report.exit_status, 0) << report.err;
  EXPECT_EQ(report.err.find("corrupt"), std::string::npos) << report.err;
  EXPECT_NE(report.out.find("/bin/true \\xff"), std::string::npos) << "the byte is shown escaped:\n"
                                                                   << report.out;
}

TEST_F(HostileBytesTest, AgentsOwnCommandLineByteIsKeptInTheHeader) {
  auto r = RunCommand({PROBE_AGENT, "-o", file_, "--", "/bin/echo",
                       "a\xfe\xff"
                       "b"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  auto records = ReadWhole(file_);
  ASSERT_FALSE(records.empty());
  ASSERT_TRUE(records.front().has_header());
  const auto& cmd = records.front().header().command_line();
  ASSERT_FALSE(cmd.empty());
  EXPECT_EQ(cmd[cmd.size() - 1],
            "a\xfe\xff"
            "b");
  EXPECT_TRUE(HasTrailer(records));
  EXPECT_EQ(r.err.find("libprotobuf"), std::string::npos) << r.err;
  auto report = RunCommand({PROBE_REPORT, file_});
  EXPECT_EQ(report.exit_status, 0) << report.err;
  EXPECT_NE(report.out.find("/bin/echo a\\xfe\\xffb\n"), std::string::npos) << report.out;
}

// An untraced process renamed to bytes that are not UTF-8 wakes a traced
// thread: its name reaches the file in a ThreadName record, exact.
TEST_F(HostileBytesTest, UntracedWakerWithANameThatIsNotUtf8IsNamedExactly) {
  const std::string fifo = dir_ + "/fifo";
  ASSERT_EQ(mkfifo(fifo.c_str(), 0600), 0);
  const char kName[] =
      "\xff\xfe"
      "evil\x1b[31m";  // 11 bytes, under TASK_COMM_LEN
  pid_t waker = fork();
  ASSERT_GE(waker, 0);
  if (waker == 0) {
    prctl(PR_SET_NAME, kName, 0, 0, 0);
    // Blocks until the traced shell opens the FIFO, then lets it block in
    // read() before waking it with the write.
    int fd = open(fifo.c_str(), O_WRONLY);
    if (fd < 0) _exit(1);
    usleep(300 * 1000);
    _exit(write(fd, "x\n", 2) == 2 ? 0 : 2);
  }
  auto r =
      RunCommand({PROBE_AGENT, "-o", file_, "--", "sh", "-c", "read x < " + fifo + "; sleep 0.1"});
  int status = 0;
  waitpid(waker, &status, 0);
  ASSERT_EQ(r.exit_status, 0) << r.err;
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_EQ(r.err.find("libprotobuf"), std::string::npos) << r.err;
  auto records = ReadWhole(file_);
  EXPECT_TRUE(HasTrailer(records)) << records.size() << " records";
  std::map<int, std::string> names;
  bool woken_by_it = false;
  for (const auto& rec : records) {
    if (rec.has_thread_name()) names[rec.thread_name().tid()] = rec.thread_name().comm();
    if (rec.has_wakeup() && rec.wakeup().waker().tid() == waker) woken_by_it = true;
  }
  EXPECT_TRUE(woken_by_it) << "a wakeup record names the untraced waker";
  ASSERT_TRUE(names.count(waker)) << "no ThreadName for the waker " << waker;
  EXPECT_EQ(names[waker], std::string(kName));
  auto report = RunCommand({PROBE_REPORT, file_});
  EXPECT_EQ(report.exit_status, 0) << report.err;
  EXPECT_EQ(report.out.find('\x1b'), std::string::npos) << "escape reached the terminal";
}

}  // namespace
}  // namespace probe
