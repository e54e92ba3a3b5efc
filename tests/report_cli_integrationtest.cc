// probe-report on bad input: a clear one-line message, a non-zero exit where
// the file is unusable, and everything readable still reported.
#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <string>

#include "record_writer.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::RunCommand;
using testing::Slurp;

class ReportCliTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir(); }
  void TearDown() override { (void)!system(("rm -rf " + dir_).c_str()); }

  // A small valid file: header (format version), 3 syscalls, a trailer.
  std::string WriteFile(const std::string& name, uint32_t version, bool trailer = true) {
    std::string path = dir_ + "/" + name, error;
    auto w = RecordWriter::Create(path, true, &error);
    EXPECT_TRUE(w) << error;
    v1::Record r;
    r.mutable_header()->set_format_version(version);
    r.mutable_header()->set_start_time_ns(1000);
    w->Append(r);
    for (int i = 0; i < 3; ++i) {
      v1::Record c;
      c.mutable_syscall()->set_pid(42);
      c.mutable_syscall()->set_tid(42);
      c.mutable_syscall()->set_syscall(v1::SYSCALL_PSELECT6);
      c.mutable_syscall()->set_start_time_ns(2000 + i);
      c.mutable_syscall()->set_duration_ns(5'000'000);
      w->Append(c);
    }
    if (trailer) {
      v1::Record t;
      t.mutable_trailer()->set_stop_reason("signal");
      w->Append(t);
    }
    w->Flush();
    return path;
  }
  void Spit(const std::string& path, const std::string& bytes) {
    std::ofstream(path, std::ios::binary) << bytes;
  }
  std::string dir_;
};

bool OneLine(const std::string& err) { return !err.empty() && err.find('\n') == err.size() - 1; }

TEST_F(ReportCliTest, CutOffFileReportsEveryWholeRecordAndSaysSo) {
  std::string full = Slurp(WriteFile("full.ptrace", 1));
  std::string cut = dir_ + "/cut.ptrace";
  Spit(cut, full.substr(0, full.size() - 5));  // inside the trailer
  auto r = RunCommand({PROBE_REPORT, cut});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("pselect6"), std::string::npos) << "what was whole is reported";
  EXPECT_NE(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST_F(ReportCliTest, CorruptFileSaysWhereAndReportsWhatCameBefore) {
  std::string bytes = Slurp(WriteFile("ok.ptrace", 1));
  std::string bad = dir_ + "/bad.ptrace";
  bytes[bytes.size() / 2] = '\xff';
  bytes[bytes.size() / 2 + 1] = '\xff';
  Spit(bad, bytes);
  auto r = RunCommand({PROBE_REPORT, bad});
  EXPECT_NE(r.exit_status, 0);
  EXPECT_NE(r.err.find("corrupt"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("probe trace"), std::string::npos) << "the header before it is reported";
}

TEST_F(ReportCliTest, AnotherFormatEmptyAndMissingFiles) {
  auto elf = RunCommand({PROBE_REPORT, "/bin/true"});
  EXPECT_NE(elf.exit_status, 0);
  EXPECT_TRUE(OneLine(elf.err)) << elf.err;
  std::string empty = dir_ + "/empty.ptrace";
  Spit(empty, "");
  auto e = RunCommand({PROBE_REPORT, empty});
  EXPECT_NE(e.exit_status, 0);
  EXPECT_NE(e.err.find("empty"), std::string::npos) << e.err;
  auto m = RunCommand({PROBE_REPORT, dir_ + "/missing.ptrace"});
  EXPECT_NE(m.exit_status, 0);
  EXPECT_TRUE(OneLine(m.err)) << m.err;
}

TEST_F(ReportCliTest, NewerFormatIsReadWithAWarning) {
  auto r = RunCommand({PROBE_REPORT, WriteFile("new.ptrace", 99)});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.err.find("newer probe (format 99"), std::string::npos) << r.err;
  EXPECT_NE(r.out.find("pselect6"), std::string::npos);
}

TEST_F(ReportCliTest, NoTrailerIsToldApartFromTruncated) {
  auto r = RunCommand({PROBE_REPORT, WriteFile("killed.ptrace", 1, false)});
  EXPECT_EQ(r.exit_status, 0);
  EXPECT_NE(r.err.find("no trailer"), std::string::npos) << r.err;
  EXPECT_EQ(r.err.find("truncated"), std::string::npos) << r.err;
}

TEST_F(ReportCliTest, IntervalAndFiltersFromTheCommandLine) {
  std::string path = WriteFile("f.ptrace", 1);
  auto none = RunCommand({PROBE_REPORT, "--pid", "7", path});
  EXPECT_EQ(none.exit_status, 0) << none.err;
  EXPECT_EQ(none.out.find("pselect6"), std::string::npos) << "pid 42 filtered out";
  auto bad = RunCommand({PROBE_REPORT, "--interval", "nodots", path});
  EXPECT_EQ(bad.exit_status, 2);
  EXPECT_TRUE(OneLine(bad.err)) << bad.err;
}

}  // namespace
}  // namespace probe
