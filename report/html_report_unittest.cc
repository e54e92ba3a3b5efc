// probe-report --html on records built in memory: the page's sections and
// plots, that it is self-contained, escaping of hostile names, bounds, and
// errors.
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
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

// Renders records to a temporary file and returns the page.
std::string Render(const std::vector<v1::Record>& records) {
  char path[] = "/tmp/probe_html_XXXXXX";
  const int fd = mkstemp(path);
  EXPECT_GE(fd, 0);
  close(fd);
  std::string error;
  Model m;
  auto e = MakeHtmlExporter(path, m.s, &error);
  EXPECT_TRUE(e) << error;
  if (!e) return "";
  for (const auto& r : records) m.Add(r, *e);
  EXPECT_TRUE(e->Finish(&error)) << error;
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  unlink(path);
  return ss.str();
}

size_t Count(const std::string& s, const std::string& what) {
  size_t n = 0;
  for (size_t at = s.find(what); at != std::string::npos; at = s.find(what, at + what.size())) ++n;
  return n;
}

v1::Record Header() {
  v1::Record r;
  auto* h = r.mutable_header();
  h->set_format_version(1);
  h->set_hostname("testhost");
  h->set_kernel_release("6.1.0-test");
  h->add_command_line("probe-agent");
  h->add_command_line("-o");
  h->add_command_line("run.ptrace");
  h->set_start_time_ns(1'000'000'000);
  h->set_wall_clock_offset_ns(1'700'000'000'000'000'000);
  h->add_events("process");
  h->add_events("syscalls");
  h->add_events("wakeups");
  return r;
}

v1::Record Process(int pid, int ppid, const std::string& comm, uint64_t fork, uint64_t exec,
                   uint64_t exit) {
  v1::Record r;
  auto* p = r.mutable_process();
  p->set_pid(pid);
  p->set_ppid(ppid);
  p->set_comm(comm);
  p->add_argv(comm);
  p->add_argv("--flag");
  p->set_fork_time_ns(fork);
  p->set_exec_time_ns(exec);
  p->set_exit_time_ns(exit);
  p->set_finished(true);
  return r;
}

v1::Record Call(int pid, int tid, uint64_t start, uint64_t dur, int waker_tid = 0) {
  v1::Record r;
  auto* c = r.mutable_syscall();
  c->set_pid(pid);
  c->set_tid(tid);
  c->set_syscall(v1::SYSCALL_PSELECT6);
  c->set_start_time_ns(start);
  c->set_duration_ns(dur);
  c->set_ret(1);
  if (waker_tid) {
    auto* b = c->mutable_breakdown();
    b->set_to_block_ns(dur / 10);
    b->set_blocked_ns(dur * 7 / 10);
    b->set_run_queue_ns(dur / 10);
    b->set_return_ns(dur - dur / 10 - dur * 7 / 10 - dur / 10);
    b->set_woken(true);
    b->mutable_waker()->set_pid(pid);
    b->mutable_waker()->set_tid(waker_tid);
    b->mutable_waker()->set_syscall_nr(1);  // write
    b->mutable_waker()->set_fd(3);
  }
  return r;
}

v1::Record Histogram(int pid, v1::Syscall s, std::vector<uint64_t> buckets) {
  v1::Record r;
  auto* h = r.mutable_syscall_histogram();
  h->set_pid(pid);
  h->set_syscall(s);
  uint64_t count = 0;
  for (uint64_t b : buckets) {
    h->add_log2_buckets(b);
    count += b;
  }
  h->set_count(count);
  h->set_sum_ns(count * 1000);
  h->set_min_ns(1);
  h->set_max_ns(uint64_t{1} << buckets.size());
  return r;
}

v1::Record Sched(int pid, v1::SchedHistogramKind kind) {
  v1::Record r;
  auto* h = r.mutable_sched_histogram();
  h->set_pid(pid);
  h->set_kind(kind);
  h->set_count(3);
  h->set_sum_ns(30000);
  h->set_min_ns(5000);
  h->set_max_ns(15000);
  for (uint64_t b : {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2, 1}) h->add_log2_buckets(b);
  return r;
}

v1::Record ThreadName(int pid, int tid, const std::string& comm) {
  v1::Record r;
  r.mutable_thread_name()->set_pid(pid);
  r.mutable_thread_name()->set_tid(tid);
  r.mutable_thread_name()->set_comm(comm);
  return r;
}

v1::Record Trailer() {
  v1::Record r;
  auto* t = r.mutable_trailer();
  t->set_time_ns(1'500'000'000);
  t->set_stop_reason("targets exited");
  auto* c = t->add_counters();
  c->set_kind(v1::EVENT_KIND_SYSCALL);
  c->set_produced(1234567);
  c->set_written(1234000);
  c->set_sampled_out(500);
  c->set_lost_ring_full(67);
  return r;
}

std::vector<v1::Record> SmallTrace() {
  std::vector<v1::Record> rs = {Header(), ThreadName(100, 102, "writer")};
  for (int i = 0; i < 60; ++i)
    rs.push_back(Call(100, 101, 1'010'000'000 + i * 5'000'000, 4'000'000 + i * 100'000, 102));
  rs.push_back(Histogram(100, v1::SYSCALL_PSELECT6, {0, 5}));  // superseded below
  rs.push_back(Histogram(100, v1::SYSCALL_PSELECT6,
                         {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 40, 20}));
  rs.push_back(Histogram(100, v1::SYSCALL_WRITE, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3, 7, 2}));
  rs.push_back(Sched(100, v1::SCHED_HISTOGRAM_RUN_QUEUE));
  rs.push_back(Sched(100, v1::SCHED_HISTOGRAM_OFF_CPU));
  rs.push_back(Process(101, 100, "child", 1'100'000'000, 1'101'000'000, 1'200'000'000));
  rs.push_back(Process(100, 1, "parent", 1'001'000'000, 1'002'000'000, 1'400'000'000));
  rs.push_back(Trailer());
  return rs;
}

TEST(HtmlReport, HasEverySectionAndPlot) {
  const std::string page = Render(SmallTrace());
  ASSERT_FALSE(page.empty());
  EXPECT_EQ(page.rfind("<!DOCTYPE html>", 0), 0u);
  for (const char* id : {"id=\"header\"", "id=\"counters\"", "id=\"syscall-histograms\"",
                         "id=\"sched-histograms\"", "id=\"slowest-waits\"", "id=\"process-tree\"",
                         "id=\"counters-table\"", "id=\"syscall-table\""})
    EXPECT_NE(page.find(id), std::string::npos) << id;
  // 2 syscall + 2 scheduler histograms, the waits timeline, the process chart.
  EXPECT_EQ(Count(page, "<svg class=\"plot\""), 6u);
  EXPECT_NE(page.find("data-plots=\"6\""), std::string::npos);
  EXPECT_EQ(Count(page, "data-kind=\"syscall-histogram\""), 2u);
  EXPECT_EQ(Count(page, "data-kind=\"sched-histogram\""), 2u);
  // Bars: 2 (pselect6, the last record) + 3 (write) + 2 + 2 (scheduler).
  EXPECT_EQ(Count(page, "<rect class=\"bar\""), 9u);
  // The 50 slowest of 60 calls, each in four segments on the axis and four in shares.
  EXPECT_EQ(Count(page, "<g class=\"wait\""), 50u);
  EXPECT_EQ(Count(page, "class=\"seg seg-blocked\""), 50u);
  EXPECT_EQ(Count(page, "class=\"share seg-runqueue\""), 50u);
  // The fastest 10 (the first, 4.00-4.90 ms) are not among them.
  EXPECT_EQ(page.find("4.90 ms at"), std::string::npos);
  EXPECT_NE(page.find("5.00 ms at"), std::string::npos);
  EXPECT_NE(page.find("9.90 ms at"), std::string::npos);
  // The waker's name comes from its ThreadName record.
  EXPECT_NE(page.find("woken by pid 100 tid 102 (writer) in write(fd 3)"), std::string::npos);
  // Processes: the child under its parent.
  EXPECT_EQ(Count(page, "<g class=\"proc\""), 2u);
  const size_t parent = page.find("<g class=\"proc\" data-pid=\"100\" data-depth=\"0\"");
  const size_t child = page.find("<g class=\"proc\" data-pid=\"101\" data-depth=\"1\"");
  ASSERT_NE(parent, std::string::npos);
  ASSERT_NE(child, std::string::npos);
  EXPECT_LT(parent, child);
  // Header and counters.
  EXPECT_NE(page.find("<code id=\"command-line\">probe-agent -o run.ptrace</code>"),
            std::string::npos);
  EXPECT_NE(page.find("testhost"), std::string::npos);
  EXPECT_NE(page.find("6.1.0-test"), std::string::npos);
  EXPECT_NE(page.find("<td>1234567</td>"), std::string::npos);
  EXPECT_NE(page.find("targets exited"), std::string::npos);
  EXPECT_NE(page.find("67 events were lost"), std::string::npos);
  // Ready marker and error banner, from the inline scripts.
  EXPECT_NE(page.find("document.body.dataset.ready = '1'"), std::string::npos);
  EXPECT_NE(page.find("window.onerror"), std::string::npos);
}

TEST(HtmlReport, IsSelfContained) {
  const std::string page = Render(SmallTrace());
  EXPECT_EQ(page.find("http://"), std::string::npos);
  EXPECT_EQ(page.find("https://"), std::string::npos);
  EXPECT_EQ(page.find(" src="), std::string::npos);
  EXPECT_EQ(page.find("<link"), std::string::npos);
  EXPECT_EQ(page.find("@import"), std::string::npos);
  EXPECT_EQ(page.find("url("), std::string::npos);
  EXPECT_NE(page.find("default-src 'none'"), std::string::npos);
}

TEST(HtmlReport, EscapesHostileNames) {
  const std::string evil = "</script><b>x&\"'";
  std::vector<v1::Record> rs = {Header()};
  rs[0].mutable_header()->set_hostname(evil);
  rs[0].mutable_header()->add_command_line(evil);
  rs.push_back(ThreadName(7, 8, evil));
  rs.push_back(Call(7, 7, 1'100'000'000, 5'000'000, 8));
  rs.push_back(Histogram(7, v1::SYSCALL_POLL, {1, 2, 3}));
  rs.push_back(Process(7, 1, evil, 1'000'000'000, 1'000'100'000, 1'300'000'000));
  rs.push_back(Process(9, 7, "bad\xff\xfe utf8\x01", 1'000'000'000, 0, 1'300'000'000));
  const std::string page = Render(rs);
  EXPECT_EQ(page.find("</script><b>"), std::string::npos);
  EXPECT_EQ(page.find("<b>x"), std::string::npos);
  EXPECT_EQ(page.find("x&\""), std::string::npos);
  EXPECT_NE(page.find("&lt;/script&gt;&lt;b&gt;x&amp;&quot;&#39;"), std::string::npos);
  // Only the page's own two scripts close.
  EXPECT_EQ(Count(page, "</script>"), 2u);
  // Bytes that are not UTF-8, and control characters, become U+FFFD.
  EXPECT_EQ(page.find("\xff"), std::string::npos);
  EXPECT_EQ(page.find("\x01"), std::string::npos);
  EXPECT_NE(page.find("bad\xEF\xBF\xBD\xEF\xBF\xBD utf8\xEF\xBF\xBD"), std::string::npos);
}

TEST(HtmlReport, BoundedWhateverTheInput) {
  std::vector<v1::Record> rs = {Header()};
  for (int i = 0; i < 2500; ++i)
    rs.push_back(Process(1000 + i, i ? 1000 + i - 1 : 1, "p", 1'000'000'000 + i, 0, 2'000'000'000));
  for (int i = 0; i < 100; ++i)
    rs.push_back(Histogram(5000 + i, v1::SYSCALL_POLL, {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4}));
  for (int i = 0; i < 20000; ++i)
    rs.push_back(Call(1000, 1000, 1'000'000'000 + i * 100, 50 + i % 997));
  const std::string page = Render(rs);
  EXPECT_EQ(Count(page, "<g class=\"proc\""), 2000u);
  EXPECT_NE(page.find("id=\"process-note\""), std::string::npos);
  EXPECT_NE(page.find("500 more process records were left out"), std::string::npos);
  EXPECT_EQ(Count(page, "<g class=\"wait\""), 50u);
  // 100 polls and pid 1000's pselect6 (built from its calls): the top 48 drawn.
  EXPECT_EQ(Count(page, "data-kind=\"syscall-histogram\""), 48u);
  EXPECT_NE(page.find("53 histograms with less total time are not drawn"), std::string::npos);
  // Deep chains are indented only so far.
  EXPECT_NE(page.find("data-depth=\"1999\""), std::string::npos);
  EXPECT_LT(page.size(), 4u << 20);
}

TEST(HtmlReport, EmptyInputIsAValidPage) {
  const std::string page = Render({});
  EXPECT_NE(page.find("No header record"), std::string::npos);
  EXPECT_NE(page.find("data-plots=\"0\""), std::string::npos);
  EXPECT_NE(page.find("</html>"), std::string::npos);
}

TEST(HtmlReport, UnwritablePathIsOneLineError) {
  std::string error;
  Model m;
  auto e = MakeHtmlExporter("/nonexistent-dir/sub/report.html", m.s, &error);
  EXPECT_FALSE(e);
  EXPECT_NE(error.find("/nonexistent-dir/sub/report.html"), std::string::npos);
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST(HtmlReport, WriteErrorFailsFinish) {
  std::string error;
  Model m;
  auto e = MakeHtmlExporter("/dev/full", m.s, &error);
  ASSERT_TRUE(e) << error;
  for (const auto& r : SmallTrace()) m.Add(r, *e);
  EXPECT_FALSE(e->Finish(&error));
  EXPECT_NE(error.find("/dev/full"), std::string::npos);
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace probe
