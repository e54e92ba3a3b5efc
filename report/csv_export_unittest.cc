#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

#include "exporter.h"

namespace probe {
namespace {

// The model probe-report feeds before each record reaches an exporter.
struct Model {
  TraceSummary s;
  void Add(const v1::Record& r, Exporter& e) {
    AddRecord(r, &s);
    e.Add(r);
  }
};

namespace fs = std::filesystem;
using Row = std::vector<std::string>;

// A strict RFC 4180 parser: fields separated by commas, rows by LF or CRLF,
// quoted fields may hold commas, quotes (doubled) and line breaks.
bool ParseCsv(const std::string& text, std::vector<Row>* rows, std::string* error) {
  rows->clear();
  Row row;
  std::string field;
  size_t i = 0;
  bool at_field_start = true;
  while (i < text.size()) {
    char c = text[i];
    if (at_field_start && c == '"') {
      ++i;
      for (;;) {
        if (i >= text.size()) {
          *error = "unterminated quoted field";
          return false;
        }
        if (text[i] == '"') {
          if (i + 1 < text.size() && text[i + 1] == '"') {
            field += '"';
            i += 2;
            continue;
          }
          ++i;
          break;
        }
        field += text[i++];
      }
      if (i < text.size() && text[i] != ',' && text[i] != '\n' && text[i] != '\r') {
        *error = "text after a closing quote at " + std::to_string(i);
        return false;
      }
      at_field_start = false;
      continue;
    }
    if (c == ',') {
      row.push_back(field);
      field.clear();
      at_field_start = true;
      ++i;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && (i + 1 >= text.size() || text[i + 1] != '\n')) {
        *error = "bare CR at " + std::to_string(i);
        return false;
      }
      i += c == '\r' ? 2 : 1;
      row.push_back(field);
      field.clear();
      rows->push_back(row);
      row.clear();
      at_field_start = true;
    } else if (c == '"') {
      *error = "quote inside an unquoted field at " + std::to_string(i);
      return false;
    } else {
      field += c;
      at_field_start = false;
      ++i;
    }
  }
  if (!at_field_start || !row.empty()) {
    *error = "last row does not end with a line break";
    return false;
  }
  return true;
}

// A parsed file: header + rows, every row as wide as the header.
struct Table {
  Row header;
  std::vector<Row> rows;
  std::string Get(size_t row, const std::string& column) const {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == column) return rows.at(row).at(i);
    ADD_FAILURE() << "no column " << column;
    return "";
  }
};

Table ReadTable(const fs::path& path) {
  Table t;
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  std::stringstream ss;
  ss << in.rdbuf();
  std::vector<Row> rows;
  std::string error;
  EXPECT_TRUE(ParseCsv(ss.str(), &rows, &error)) << path << ": " << error;
  if (rows.empty()) {
    ADD_FAILURE() << path << " has no header";
    return t;
  }
  t.header = rows[0];
  t.rows.assign(rows.begin() + 1, rows.end());
  for (const Row& r : t.rows) EXPECT_EQ(r.size(), t.header.size()) << path;
  return t;
}

class CsvExportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/probe_csv_test_XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override {
    std::error_code ec;
    fs::permissions(root_, fs::perms::owner_all, fs::perm_options::add, ec);
    fs::remove_all(root_, ec);
  }
  fs::path root_;
};

v1::Record ThreadNameRecord(int32_t pid, int32_t tid, const std::string& comm) {
  v1::Record r;
  auto* t = r.mutable_thread_name();
  t->set_pid(pid);
  t->set_tid(tid);
  t->set_comm(comm);
  return r;
}

v1::Record MarkerRecord(const std::string& name, v1::MarkerType type, uint64_t time) {
  v1::Record r;
  auto* m = r.mutable_marker();
  m->set_pid(10);
  m->set_tid(11);
  m->set_type(type);
  m->set_name(name);
  m->set_time_ns(time);
  m->set_arg0(-5);
  m->set_arg1(7);
  return r;
}

std::vector<v1::Record> SampleRecords() {
  std::vector<v1::Record> out;
  v1::Record r;
  r.mutable_header()->set_format_version(1);
  out.push_back(r);

  r.Clear();
  auto* s = r.mutable_snapshot();
  s->set_pid(10);
  s->set_ppid(1);
  s->set_comm("server");
  s->add_argv("./server");
  s->add_argv("--name=a b");
  s->set_start_time_ns(500);
  s->set_user_time_ns(7000);
  s->set_system_time_ns(300);
  auto* th = s->add_threads();
  th->set_tid(10);
  th->set_comm("server");
  th = s->add_threads();
  th->set_tid(11);
  th->set_comm("worker");
  out.push_back(r);

  out.push_back(ThreadNameRecord(20, 21, "waker,\"one\""));

  // A call woken by tid 21, whose comm came in the ThreadName record.
  r.Clear();
  auto* c = r.mutable_syscall();
  c->set_pid(10);
  c->set_tid(11);
  c->set_syscall(v1::SYSCALL_PSELECT6);
  c->set_start_time_ns(1000);
  c->set_duration_ns(900);
  c->set_ret(1);
  c->set_nfds(4);
  c->set_has_timeout(true);
  c->set_timeout_ns(5000);
  auto* b = c->mutable_breakdown();
  b->set_to_block_ns(100);
  b->set_blocked_ns(600);
  b->set_run_queue_ns(150);
  b->set_return_ns(50);
  b->set_woken(true);
  b->mutable_waker()->set_pid(20);
  b->mutable_waker()->set_tid(21);
  b->mutable_waker()->set_syscall_nr(1);
  b->mutable_waker()->set_fd(3);
  out.push_back(r);

  // A call that never blocked: no breakdown.
  r.Clear();
  c = r.mutable_syscall();
  c->set_pid(10);
  c->set_tid(10);
  c->set_syscall(v1::SYSCALL_WRITE);
  c->set_start_time_ns(2000);
  c->set_duration_ns(30);
  c->set_ret(8);
  c->set_fd(3);
  c->set_has_value(true);
  c->set_value(1);
  out.push_back(r);

  r.Clear();
  auto* h = r.mutable_syscall_histogram();
  h->set_pid(10);
  h->set_syscall(v1::SYSCALL_SELECT);
  h->set_count(3);
  h->add_log2_buckets(0);
  h->add_log2_buckets(2);
  h->add_log2_buckets(1);
  out.push_back(r);

  // Woken by tid 21 (comm resolved); then preempted (no waker).
  r.Clear();
  auto* w = r.mutable_wakeup();
  w->set_pid(10);
  w->set_tid(11);
  w->set_state(v1::OFF_CPU_SLEEPING);
  w->set_run_queue_ns(150);
  w->mutable_waker()->set_pid(20);
  w->mutable_waker()->set_tid(21);
  w->mutable_waker()->set_syscall_nr(-1);
  out.push_back(r);
  r.Clear();
  w = r.mutable_wakeup();
  w->set_pid(10);
  w->set_tid(10);
  w->set_state(v1::OFF_CPU_PREEMPTED);
  out.push_back(r);

  r.Clear();
  auto* sh = r.mutable_sched_histogram();
  sh->set_pid(10);
  sh->set_kind(v1::SCHED_HISTOGRAM_RUN_QUEUE);
  sh->add_log2_buckets(4);
  out.push_back(r);

  r.Clear();
  auto* shim = r.mutable_shim_call();
  shim->set_pid(10);
  shim->set_tid(11);
  shim->set_function(v1::SHIM_EVENTFD_READ);
  shim->set_fd(3);
  shim->set_result(-1);
  shim->set_error(11);
  out.push_back(r);

  out.push_back(MarkerRecord("a, \"quoted\"\nname\r\nend", v1::MARKER_BEGIN, 3000));
  out.push_back(MarkerRecord("plain", v1::MARKER_INSTANT, 3100));

  r.Clear();
  auto* st = r.mutable_stats();
  st->set_time_ns(4000);
  st->set_bytes_written(123);
  auto* k = st->add_counters();
  k->set_kind(v1::EVENT_KIND_SYSCALL);
  k->set_produced(10);
  k->set_written(9);
  k->set_lost_ring_full(1);
  auto* loss = k->add_cpu_losses();
  loss->set_cpu(2);
  loss->set_lost_ring_full(1);
  st->add_counters()->set_kind(v1::EVENT_KIND_WAKEUP);
  out.push_back(r);

  r.Clear();
  auto* p = r.mutable_process();
  p->set_pid(12);
  p->set_ppid(10);
  p->set_comm("child");
  p->set_exit_code(3);
  p->set_finished(true);
  p->set_user_time_ns(9000);
  p->set_user_time_before_ns(7000);
  p->set_system_time_before_ns(300);
  out.push_back(r);

  r.Clear();
  auto* tr = r.mutable_trailer();
  tr->set_time_ns(5000);
  tr->set_stop_reason("targets exited");
  tr->add_counters()->set_kind(v1::EVENT_KIND_SYSCALL);
  tr->add_counters()->set_kind(v1::EVENT_KIND_WAKEUP);
  tr->add_counters()->set_kind(v1::EVENT_KIND_PROCESS);
  out.push_back(r);
  return out;
}

void Export(const fs::path& dir, const std::vector<v1::Record>& records) {
  std::string error;
  Model m;
  auto e = MakeCsvExporter(dir.string(), m.s, &error);
  ASSERT_NE(e, nullptr) << error;
  for (const v1::Record& r : records) m.Add(r, *e);
  ASSERT_TRUE(e->Finish(&error)) << error;
}

TEST_F(CsvExportTest, OneFilePerKindWithMatchingRowCounts) {
  fs::path dir = root_ / "a" / "b";  // created, parents too
  Export(dir, SampleRecords());
  std::map<std::string, size_t> want = {
      {"processes.csv", 2},
      {"syscalls.csv", 2},
      {"syscall_histograms.csv", 1},
      {"wakeups.csv", 2},
      {"sched_histograms.csv", 1},
      {"shim_calls.csv", 1},
      {"markers.csv", 2},
      {"thread_names.csv", 1},
      {"counters.csv", 5},
      {"syscall_percentiles.csv", 3},  // one per (pid, syscall): 2 of calls, 1 of a histogram
  };
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(dir)) {
    ++files;
    std::string name = entry.path().filename().string();
    ASSERT_TRUE(want.count(name)) << "unexpected file " << name;
    EXPECT_EQ(ReadTable(entry.path()).rows.size(), want[name]) << name;
  }
  EXPECT_EQ(files, want.size());
}

TEST_F(CsvExportTest, FieldsAndEnumNames) {
  Export(root_, SampleRecords());
  Table sys = ReadTable(root_ / "syscalls.csv");
  ASSERT_EQ(sys.rows.size(), 2u);
  EXPECT_EQ(sys.header.front(), "pid");
  EXPECT_EQ(sys.Get(0, "syscall"), "pselect6");
  EXPECT_EQ(sys.Get(0, "duration_ns"), "900");
  EXPECT_EQ(sys.Get(0, "timeout_ns"), "5000");
  EXPECT_EQ(sys.Get(0, "fd"), "");
  EXPECT_EQ(sys.Get(0, "to_block_ns"), "100");
  EXPECT_EQ(sys.Get(0, "blocked_ns"), "600");
  EXPECT_EQ(sys.Get(0, "run_queue_ns"), "150");
  EXPECT_EQ(sys.Get(0, "return_ns"), "50");
  EXPECT_EQ(sys.Get(0, "total_blocked_ns"), "600");  // blocked once
  EXPECT_EQ(sys.Get(0, "waker_pid"), "20");
  EXPECT_EQ(sys.Get(0, "waker_tid"), "21");
  EXPECT_EQ(sys.Get(0, "waker_syscall_nr"), "1");
  EXPECT_EQ(sys.Get(0, "waker_fd"), "3");
  EXPECT_EQ(sys.Get(1, "syscall"), "write");
  EXPECT_EQ(sys.Get(1, "fd"), "3");
  EXPECT_EQ(sys.Get(1, "value"), "1");
  EXPECT_EQ(sys.Get(1, "timeout_ns"), "");
  EXPECT_EQ(sys.Get(1, "blocked_ns"), "");
  EXPECT_EQ(sys.Get(1, "waker_comm"), "");

  Table hist = ReadTable(root_ / "syscall_histograms.csv");
  EXPECT_EQ(hist.Get(0, "syscall"), "select");
  EXPECT_EQ(hist.Get(0, "log2_buckets"), "0;2;1");
  Table sched = ReadTable(root_ / "sched_histograms.csv");
  EXPECT_EQ(sched.Get(0, "kind"), "run_queue");
  EXPECT_EQ(sched.Get(0, "log2_buckets"), "4");

  Table wake = ReadTable(root_ / "wakeups.csv");
  EXPECT_EQ(wake.Get(0, "state"), "sleeping");
  EXPECT_EQ(wake.Get(0, "waker_syscall_nr"), "-1");
  EXPECT_EQ(wake.Get(1, "state"), "preempted");
  EXPECT_EQ(wake.Get(1, "waker_tid"), "");

  Table shim = ReadTable(root_ / "shim_calls.csv");
  EXPECT_EQ(shim.Get(0, "function"), "eventfd_read");
  EXPECT_EQ(shim.Get(0, "result"), "-1");
  EXPECT_EQ(shim.Get(0, "error"), "11");

  Table procs = ReadTable(root_ / "processes.csv");
  EXPECT_EQ(procs.Get(0, "snapshot"), "true");
  EXPECT_EQ(procs.Get(0, "argv"), "./server '--name=a b'");
  EXPECT_EQ(procs.Get(0, "threads"), "10:server;11:worker");
  EXPECT_EQ(procs.Get(0, "exit_code"), "");
  EXPECT_EQ(procs.Get(0, "user_time_ns"), "7000") << "a snapshot's CPU time then";
  EXPECT_EQ(procs.Get(0, "system_time_ns"), "300");
  EXPECT_EQ(procs.Get(0, "user_time_before_ns"), "");
  EXPECT_EQ(procs.Get(1, "snapshot"), "false");
  EXPECT_EQ(procs.Get(1, "comm"), "child");
  EXPECT_EQ(procs.Get(1, "exit_code"), "3");
  EXPECT_EQ(procs.Get(1, "finished"), "true");
  EXPECT_EQ(procs.Get(1, "user_time_ns"), "9000") << "since its own start";
  EXPECT_EQ(procs.Get(1, "user_time_before_ns"), "7000");
  EXPECT_EQ(procs.Get(1, "system_time_before_ns"), "300");

  Table counters = ReadTable(root_ / "counters.csv");
  ASSERT_EQ(counters.rows.size(), 5u);
  EXPECT_EQ(counters.Get(0, "time_ns"), "4000");
  EXPECT_EQ(counters.Get(0, "final"), "false");
  EXPECT_EQ(counters.Get(0, "kind"), "syscall");
  EXPECT_EQ(counters.Get(0, "produced"), "10");
  EXPECT_EQ(counters.Get(0, "lost_ring_full"), "1");
  EXPECT_EQ(counters.Get(0, "cpu_losses"), "2:1");
  EXPECT_EQ(counters.Get(0, "bytes_written"), "123");
  EXPECT_EQ(counters.Get(1, "kind"), "wakeup");
  for (size_t i = 2; i < 5; ++i) {
    EXPECT_EQ(counters.Get(i, "final"), "true");
    EXPECT_EQ(counters.Get(i, "time_ns"), "5000");
  }
  EXPECT_EQ(counters.Get(4, "kind"), "process");
}

// A process still running when the recording stopped has no exit: its
// exit fields are empty, not 0 (which a spreadsheet would average in), and
// so are the exec fields of a process whose exec was not seen.
TEST_F(CsvExportTest, UnknownLifetimeFieldsAreEmptyNotZero) {
  v1::Record running;
  running.mutable_process()->set_pid(20);
  running.mutable_process()->set_comm("server");
  running.mutable_process()->set_fork_time_ns(100);
  running.mutable_process()->set_exec_time_ns(200);
  running.mutable_process()->set_fork_to_exec_ns(100);
  running.mutable_process()->set_finished(false);
  v1::Record no_exec;
  no_exec.mutable_process()->set_pid(21);
  no_exec.mutable_process()->set_fork_time_ns(100);
  no_exec.mutable_process()->set_exit_time_ns(900);
  no_exec.mutable_process()->set_finished(true);
  Export(root_, {running, no_exec});
  Table procs = ReadTable(root_ / "processes.csv");
  ASSERT_EQ(procs.rows.size(), 2u);
  EXPECT_EQ(procs.Get(0, "exec_time_ns"), "200");
  EXPECT_EQ(procs.Get(0, "fork_to_exec_ns"), "100");
  for (const char* column :
       {"exit_time_ns", "exec_to_exit_ns", "exit_code", "exit_signal", "core_dumped"})
    EXPECT_EQ(procs.Get(0, column), "") << column;
  EXPECT_EQ(procs.Get(0, "finished"), "false");
  EXPECT_EQ(procs.Get(1, "exec_time_ns"), "");
  EXPECT_EQ(procs.Get(1, "exec_to_exit_ns"), "");
  EXPECT_EQ(procs.Get(1, "fork_to_exec_ns"), "");
  EXPECT_EQ(procs.Get(1, "exit_time_ns"), "900");
  EXPECT_EQ(procs.Get(1, "exit_code"), "0");
}

TEST_F(CsvExportTest, QuotedMarkerNameRoundTrips) {
  Export(root_, SampleRecords());
  Table markers = ReadTable(root_ / "markers.csv");
  ASSERT_EQ(markers.rows.size(), 2u);
  EXPECT_EQ(markers.Get(0, "name"), "a, \"quoted\"\nname\r\nend");
  EXPECT_EQ(markers.Get(0, "type"), "begin");
  EXPECT_EQ(markers.Get(0, "arg0"), "-5");
  EXPECT_EQ(markers.Get(1, "name"), "plain");
  EXPECT_EQ(markers.Get(1, "type"), "instant");
  // Only the fields that need it are quoted.
  std::ifstream in(root_ / "markers.csv");
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_NE(ss.str().find(",\"a, \"\"quoted\"\"\nname\r\nend\","), std::string::npos);
  EXPECT_NE(ss.str().find(",instant,plain,3100,"), std::string::npos);
}

TEST_F(CsvExportTest, WakerCommResolvedFromThreadName) {
  std::vector<v1::Record> records = SampleRecords();
  // A later rename of tid 21 applies to later records only.
  records.push_back(ThreadNameRecord(20, 21, "renamed"));
  v1::Record r;
  auto* w = r.mutable_wakeup();
  w->set_tid(11);
  w->mutable_waker()->set_pid(20);
  w->mutable_waker()->set_tid(21);
  records.push_back(r);
  // An inline comm (tid 0, the idle task) wins.
  r.Clear();
  w = r.mutable_wakeup();
  w->set_tid(11);
  w->mutable_waker()->set_tid(0);
  w->mutable_waker()->set_comm("swapper/3");
  records.push_back(r);
  Export(root_, records);

  Table sys = ReadTable(root_ / "syscalls.csv");
  EXPECT_EQ(sys.Get(0, "waker_comm"), "waker,\"one\"");
  Table wake = ReadTable(root_ / "wakeups.csv");
  ASSERT_EQ(wake.rows.size(), 4u);
  EXPECT_EQ(wake.Get(0, "waker_comm"), "waker,\"one\"");
  EXPECT_EQ(wake.Get(2, "waker_comm"), "renamed");
  EXPECT_EQ(wake.Get(3, "waker_comm"), "swapper/3");
  EXPECT_EQ(ReadTable(root_ / "thread_names.csv").rows.size(), 2u);
}

TEST_F(CsvExportTest, FilesOnlyForKindsPresent) {
  Export(root_, {MarkerRecord("x", v1::MARKER_INSTANT, 1)});
  size_t files = 0;
  for (const auto& entry : fs::directory_iterator(root_)) {
    ++files;
    EXPECT_EQ(entry.path().filename(), "markers.csv");
  }
  EXPECT_EQ(files, 1u);
}

TEST_F(CsvExportTest, StreamsManyRows) {
  std::string error;
  Model m;
  auto e = MakeCsvExporter(root_.string(), m.s, &error);
  ASSERT_NE(e, nullptr) << error;
  constexpr int kRows = 50000;  // several buffer flushes
  for (int i = 0; i < kRows; ++i)
    m.Add(MarkerRecord("m" + std::to_string(i), v1::MARKER_INSTANT, i), *e);
  ASSERT_TRUE(e->Finish(&error)) << error;
  Table t = ReadTable(root_ / "markers.csv");
  ASSERT_EQ(t.rows.size(), static_cast<size_t>(kRows));
  EXPECT_EQ(t.Get(kRows - 1, "name"), "m" + std::to_string(kRows - 1));
}

TEST_F(CsvExportTest, UnusableDirectoryIsAnError) {
  fs::path file = root_ / "plain_file";
  std::ofstream(file) << "x";
  std::string error;
  Model m;
  EXPECT_EQ(MakeCsvExporter(file.string(), m.s, &error), nullptr);
  EXPECT_NE(error.find("not a directory"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);

  error.clear();
  EXPECT_EQ(MakeCsvExporter((file / "sub").string(), m.s, &error), nullptr);
  EXPECT_NE(error.find("cannot create directory"), std::string::npos) << error;

  error.clear();
  EXPECT_EQ(MakeCsvExporter("", m.s, &error), nullptr);
  EXPECT_FALSE(error.empty());

  if (geteuid() != 0) {  // root writes anywhere
    fs::path ro = root_ / "ro";
    fs::create_directory(ro);
    fs::permissions(ro, fs::perms::owner_read | fs::perms::owner_exec);
    error.clear();
    Model m;
    EXPECT_EQ(MakeCsvExporter(ro.string(), m.s, &error), nullptr);
    EXPECT_FALSE(error.empty());
  }
}

TEST_F(CsvExportTest, WriteErrorFailsFinish) {
  std::string error;
  Model m;
  auto e = MakeCsvExporter(root_.string(), m.s, &error);
  ASSERT_NE(e, nullptr) << error;
  fs::create_directory(root_ / "markers.csv");  // the file cannot be created
  m.Add(MarkerRecord("x", v1::MARKER_INSTANT, 1), *e);
  m.Add(ThreadNameRecord(1, 2, "ok"), *e);
  EXPECT_FALSE(e->Finish(&error));
  EXPECT_NE(error.find("markers.csv"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST_F(CsvExportTest, FullDiskFailsFinish) {
  if (!fs::exists("/dev/full")) GTEST_SKIP() << "no /dev/full";
  std::string error;
  Model m;
  auto e = MakeCsvExporter(root_.string(), m.s, &error);
  ASSERT_NE(e, nullptr) << error;
  fs::create_symlink("/dev/full", root_ / "markers.csv");  // every write fails with ENOSPC
  m.Add(MarkerRecord("x", v1::MARKER_INSTANT, 1), *e);
  EXPECT_FALSE(e->Finish(&error));
  EXPECT_NE(error.find("cannot write"), std::string::npos) << error;
}

}  // namespace
}  // namespace probe
