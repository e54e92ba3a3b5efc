// probe-report on bad input: a clear one-line message, a non-zero exit where
// the file is unusable, and everything readable still reported.
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <iterator>
#include <regex>
#include <string>

#include "record_file.h"
#include "run_command.h"
#include "scratch_dir.h"

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
    auto w = CreateRecordFile(path, true, &error);
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
  // A directory: it said "warning: DIR is io error after 0 records: ...";
  // and nothing is written for it.
  const std::string html = dir_ + "/out.html";
  auto d = RunCommand({PROBE_REPORT, dir_, "--html", html});
  EXPECT_EQ(d.exit_status, 1);
  EXPECT_EQ(d.err, "probe-report: cannot read " + dir_ + ": read failed: Is a directory\n");
  EXPECT_NE(access(html.c_str(), F_OK), 0) << "an HTML page of nothing";
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

// The agent's stop line warns of wakeup records with a part unknown; the
// report's counter line must say it too (it showed only produced, written,
// sampled out and lost).
TEST_F(ReportCliTest, CounterLinesNameRecordsWithAnUnknownPart) {
  std::string path = dir_ + "/u.ptrace", error;
  auto w = CreateRecordFile(path, true, &error);
  ASSERT_TRUE(w) << error;
  v1::Record h;
  h.mutable_header()->set_format_version(1);
  w->Append(h);
  v1::Record t;
  t.mutable_trailer()->set_stop_reason("signal");
  auto* k = t.mutable_trailer()->add_counters();
  k->set_kind(v1::EVENT_KIND_WAKEUP);
  k->set_produced(10);
  k->set_written(10);
  k->set_switch_not_seen(2);
  k->set_wake_unseen(1);
  w->Append(t);
  w->Flush();
  auto r = RunCommand({PROBE_REPORT, path});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_NE(r.out.find("[written: no wakeup seen 1, an end not seen 2]"), std::string::npos)
      << r.out;
}

// A time window cuts records, not cumulative histograms: the report says
// so (it showed CALLS from the whole recording beside RECORDED 0 without a
// word), and a process that lived only after the window still names its
// histogram's row (it was "?": its lifetime record was cut away).
TEST_F(ReportCliTest, ATimeWindowNamesItsProcessesAndSaysWhatItCannotCut) {
  std::string path = dir_ + "/w.ptrace", error;
  auto w = CreateRecordFile(path, true, &error);
  ASSERT_TRUE(w) << error;
  v1::Record h;
  h.mutable_header()->set_format_version(1);
  h.mutable_header()->set_start_time_ns(1'000'000'000);
  w->Append(h);
  v1::Record c;  // 2 s in, after the window
  c.mutable_syscall()->set_pid(42);
  c.mutable_syscall()->set_tid(42);
  c.mutable_syscall()->set_syscall(v1::SYSCALL_PSELECT6);
  c.mutable_syscall()->set_start_time_ns(3'000'000'000);
  c.mutable_syscall()->set_duration_ns(5'000'000);
  w->Append(c);
  v1::Record hist;
  hist.mutable_syscall_histogram()->set_pid(42);
  hist.mutable_syscall_histogram()->set_syscall(v1::SYSCALL_PSELECT6);
  hist.mutable_syscall_histogram()->set_count(1);
  hist.mutable_syscall_histogram()->set_sum_ns(5'000'000);
  hist.mutable_syscall_histogram()->set_min_ns(5'000'000);
  hist.mutable_syscall_histogram()->set_max_ns(5'000'000);
  hist.mutable_syscall_histogram()->set_time_ns(3'100'000'000);
  w->Append(hist);
  v1::Record p;  // lives from 1.9 s to 2.5 s in
  p.mutable_process()->set_pid(42);
  p.mutable_process()->set_comm("webserver");
  p.mutable_process()->set_fork_time_ns(2'900'000'000);
  p.mutable_process()->set_exec_time_ns(2'900'000'000);
  p.mutable_process()->set_exit_time_ns(3'500'000'000);
  p.mutable_process()->set_finished(true);
  w->Append(p);
  w->Flush();
  const std::string html = dir_ + "/w.html", whole_html = dir_ + "/whole.html";
  auto r = RunCommand({PROBE_REPORT, "--from", "0s", "--to", "0.1s", path, "--html", html});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  EXPECT_TRUE(std::regex_search(r.out, std::regex(R"(\n +42 webserver +pselect6 +1 )"))) << r.out;
  EXPECT_NE(r.out.find("cannot be cut in time"), std::string::npos) << r.out;
  EXPECT_NE(probe::test_files::ReadBytes(html).find("cannot be cut in time"), std::string::npos)
      << "the HTML page says it too";
  auto whole = RunCommand({PROBE_REPORT, path, "--html", whole_html});
  EXPECT_EQ(whole.out.find("cannot be cut in time"), std::string::npos) << "no window, no note";
  EXPECT_EQ(probe::test_files::ReadBytes(whole_html).find("cannot be cut in time"),
            std::string::npos);
}

// Issue 17 item 12: bytes without a valid header record are not a recording,
// whatever follows; a file cut inside its first record has nothing to report.
TEST_F(ReportCliTest, FileWithoutAValidHeaderIsNotARecording) {
  std::string five = dir_ + "/five.bin";
  Spit(five, std::string("\x0a\xff\xff\xff\x07", 5));
  auto r = RunCommand({PROBE_REPORT, five});
  EXPECT_EQ(r.exit_status, 1) << r.err;
  EXPECT_NE(r.err.find("not a probe record file"), std::string::npos) << r.err;
  EXPECT_TRUE(OneLine(r.err)) << r.err;

  std::string full = Slurp(WriteFile("full.ptrace", 1));
  std::string cut = dir_ + "/cut_in_header.ptrace";
  Spit(cut, full.substr(0, 5));
  auto c = RunCommand({PROBE_REPORT, cut});
  EXPECT_EQ(c.exit_status, 1) << c.err;
  EXPECT_NE(c.err.find("not a probe record file"), std::string::npos) << c.err;
  EXPECT_NE(c.err.find("first record"), std::string::npos) << c.err;
  EXPECT_TRUE(OneLine(c.err)) << c.err;

  // A well-formed record that is not a header, first.
  std::string headless = dir_ + "/headless.ptrace";
  Spit(headless, full.substr(full.find('\x0a', 2)));
  auto h = RunCommand({PROBE_REPORT, "--json", headless});
  EXPECT_EQ(h.exit_status, 1) << h.err;
  EXPECT_NE(h.err.find("not a probe record file"), std::string::npos) << h.err;
}

// Issue 17 item 10: outputs are never written through a symlink nor truncated
// in place (a hard link to another file keeps that file's bytes).
TEST_F(ReportCliTest, OutputsAreNeverFollowedNorTruncatedInPlace) {
  const std::string in = WriteFile("in.ptrace", 1);
  const std::string victim = dir_ + "/victim";
  Spit(victim, "precious");
  for (const char* flag : {"--html", "--chrome"}) {
    const std::string sym = dir_ + "/link_" + std::string(flag + 2);
    ASSERT_EQ(symlink(victim.c_str(), sym.c_str()), 0);
    auto r = RunCommand({PROBE_REPORT, flag, sym, in});
    EXPECT_EQ(r.exit_status, 1) << flag;
    EXPECT_NE(r.err.find("symbolic link"), std::string::npos) << flag << ": " << r.err;
    EXPECT_TRUE(OneLine(r.err)) << r.err;
    EXPECT_EQ(Slurp(victim), "precious") << flag << " wrote through the link";
    const std::string hard = dir_ + "/hard_" + std::string(flag + 2);
    ASSERT_EQ(link(victim.c_str(), hard.c_str()), 0);
    auto h = RunCommand({PROBE_REPORT, flag, hard, in});
    EXPECT_EQ(h.exit_status, 0) << flag << ": " << h.err;
    EXPECT_EQ(Slurp(victim), "precious") << flag << " truncated a hard link in place";
    EXPECT_NE(Slurp(hard), "precious") << flag << " did not replace the file";
    auto dev = RunCommand({PROBE_REPORT, flag, "/dev/null", in});
    EXPECT_EQ(dev.exit_status, 0) << flag << " to a device: " << dev.err;
  }
  const std::string csv = dir_ + "/csv";
  ASSERT_EQ(mkdir(csv.c_str(), 0700), 0);
  ASSERT_EQ(symlink(victim.c_str(), (csv + "/syscalls.csv").c_str()), 0);
  auto c = RunCommand({PROBE_REPORT, "--csv", csv, in});
  EXPECT_EQ(c.exit_status, 1);
  EXPECT_NE(c.err.find("symbolic link"), std::string::npos) << c.err;
  EXPECT_EQ(Slurp(victim), "precious") << "--csv wrote through the link";
  const std::string csv_link = dir_ + "/csv_link";
  ASSERT_EQ(symlink(csv.c_str(), csv_link.c_str()), 0);
  auto d = RunCommand({PROBE_REPORT, "--csv", csv_link, in});
  EXPECT_EQ(d.exit_status, 1) << "a symlinked --csv directory is not followed";
  EXPECT_NE(d.err.find("symbolic link"), std::string::npos) << d.err;
}

// Issue 17 item 11: names and arguments reach the terminal escaped, one row
// per process.
TEST_F(ReportCliTest, NamesAndArgumentsAreEscapedForTheTerminal) {
  std::string path = dir_ + "/hostile.ptrace", error;
  {
    auto w = CreateRecordFile(path, true, &error);
    ASSERT_TRUE(w) << error;
    v1::Record h;
    h.mutable_header()->set_format_version(1);
    h.mutable_header()->set_hostname("host\x1b]0;HOST\x07");
    h.mutable_header()->add_command_line("probe-agent");
    h.mutable_header()->add_command_line("\x1b[2J\xff");
    w->Append(h);
    v1::Record p;
    auto* l = p.mutable_process();
    l->set_pid(4242);
    l->set_ppid(1);
    l->set_comm("e\x1b[31mv\nl");
    l->add_argv("e\x1b[31mv\nl");
    l->add_argv("\x1b]0;PWNED\x07\x1b[2J");
    l->set_finished(true);
    l->set_exec_time_ns(10);
    l->set_exit_time_ns(20);
    w->Append(p);
    v1::Record c;
    c.mutable_syscall()->set_pid(4242);
    c.mutable_syscall()->set_tid(4242);
    c.mutable_syscall()->set_syscall(v1::SYSCALL_PSELECT6);
    c.mutable_syscall()->set_duration_ns(5'000'000);
    c.mutable_syscall()->mutable_breakdown()->set_woken(true);
    c.mutable_syscall()->mutable_breakdown()->set_blocked_ns(4'000'000);
    c.mutable_syscall()->mutable_breakdown()->mutable_waker()->set_pid(99);
    c.mutable_syscall()->mutable_breakdown()->mutable_waker()->set_tid(99);
    c.mutable_syscall()->mutable_breakdown()->mutable_waker()->set_comm("w\x1b[1m\r");
    w->Append(c);
    v1::Record m;
    m.mutable_marker()->set_pid(4242);
    m.mutable_marker()->set_tid(4242);
    m.mutable_marker()->set_name("mark\x1b[5m\x9b");
    w->Append(m);
    v1::Record t;
    t.mutable_trailer()->set_stop_reason("targets exited");
    w->Append(t);
  }
  auto r = RunCommand({PROBE_REPORT, path});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  for (char bad : {'\x1b', '\x07', '\r'})
    EXPECT_EQ(r.out.find(bad), std::string::npos) << "control byte " << int(bad) << " in\n"
                                                  << r.out;
  EXPECT_NE(r.out.find("e\\x1b[31mv\\nl"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\\x1b]0;PWNED\\x07\\x1b[2J"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\\x1b[2J\\xff"), std::string::npos) << "command line: " << r.out;
  // The process table keeps the process on one line: pid, comm, command.
  const size_t pwned = r.out.find("PWNED");
  ASSERT_NE(pwned, std::string::npos);
  const size_t bol = r.out.rfind('\n', pwned) + 1;
  const std::string row = r.out.substr(bol, r.out.find('\n', pwned) - bol);
  EXPECT_EQ(row.rfind("    4242        1 e\\x1b[31mv\\nl", 0), 0u) << row;
  EXPECT_NE(row.find("exit 0"), std::string::npos) << row;
}

}  // namespace
}  // namespace probe
