// probe-report's outputs on one made-up file with known answers, read the
// way a user reads them: the text report, the HTML page and the CSV files
// must give the same percentiles, histogram rows must be told apart, idle
// timeouts must not crowd out the slow waits that were woken, run-queue
// delay is given per waker, and the CSV names the waker's syscall.
// PROBE_REPORT_UNDER_TEST runs them against another probe-report binary
// (e.g. an older build, to see them fail).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <regex>
#include <set>
#include <string>
#include <vector>

#include "record_file.h"
#include "record_writer.h"
#include "run_command.h"

namespace probe {
namespace {

using testing::RunCommand;
using testing::Slurp;

constexpr uint64_t kStart = 1'000'000'000;
constexpr int kPid = 100, kWorker = 201;

const char* Report() {
  const char* other = getenv("PROBE_REPORT_UNDER_TEST");
  return other && *other ? other : PROBE_REPORT;
}

v1::Record Wait(uint64_t start, uint64_t dur, bool woken, uint64_t run_queue = 0) {
  v1::Record r;
  auto* c = r.mutable_syscall();
  c->set_pid(kPid);
  c->set_tid(kPid);
  c->set_syscall(v1::SYSCALL_EPOLL_WAIT);
  c->set_start_time_ns(start);
  c->set_duration_ns(dur);
  c->set_fd(3);
  c->set_nfds(64);
  c->set_timeout_ns(100'000'000);
  c->set_timed_out(!woken);
  auto* b = c->mutable_breakdown();
  b->set_to_block_ns(1000);
  b->set_blocked_ns(dur - 2000 - run_queue);
  b->set_run_queue_ns(run_queue);
  b->set_return_ns(1000);
  b->set_woken(woken);
  if (woken) {
    b->mutable_waker()->set_pid(kPid);
    b->mutable_waker()->set_tid(kWorker);   // named by the ThreadName record
    b->mutable_waker()->set_syscall_nr(1);  // write
    b->mutable_waker()->set_fd(7);
  }
  return r;
}

v1::Record Wakeup(uint64_t on_cpu, uint64_t run_queue, bool by_worker) {
  v1::Record r;
  auto* w = r.mutable_wakeup();
  w->set_pid(kPid);
  w->set_tid(kPid);
  w->set_on_cpu_time_ns(on_cpu);
  w->set_wake_time_ns(on_cpu - run_queue);
  w->set_off_cpu_time_ns(on_cpu - run_queue - 1'000'000);
  w->set_off_cpu_ns(1'000'000);
  w->set_run_queue_ns(run_queue);
  w->set_state(v1::OFF_CPU_SLEEPING);
  auto* k = w->mutable_waker();
  if (by_worker) {
    k->set_pid(kPid);
    k->set_tid(kWorker);
    k->set_syscall_nr(1);
    k->set_fd(7);
  } else {
    k->set_pid(0);
    k->set_tid(0);
    k->set_comm("swapper/1");
    k->set_syscall_nr(-1);
  }
  return r;
}

class ReportOutputsTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = testing::MakeTempDir(); }
  void TearDown() override { (void)!system(("rm -rf " + dir_).c_str()); }

  // 20 epoll_waits woken by the worker's eventfd write (1..20 ms), 5 idle
  // timeouts of 100 ms; wakeups: 10 by the worker (run queue 10..100 us), 4
  // by an interrupt (2 us). all_calls = false leaves 5 woken calls out of the
  // file while the histogram still counts them (as --min-latency would).
  std::string Write(bool all_calls) {
    const std::string path = dir_ + (all_calls ? "/all.ptrace" : "/some.ptrace");
    std::string error;
    auto w = CreateRecordFile(path, true, &error);
    EXPECT_TRUE(w) << error;
    v1::Record h;
    h.mutable_header()->set_format_version(1);
    h.mutable_header()->set_start_time_ns(kStart);
    h.mutable_header()->set_hostname("testhost");
    w->Append(h);
    v1::Record p;
    p.mutable_process()->set_pid(kPid);
    p.mutable_process()->set_ppid(1);
    p.mutable_process()->set_comm("server");
    p.mutable_process()->set_exec_time_ns(kStart);
    w->Append(p);
    v1::Record n;
    n.mutable_thread_name()->set_pid(kPid);
    n.mutable_thread_name()->set_tid(kWorker);
    n.mutable_thread_name()->set_comm("worker");
    w->Append(n);
    v1::SyscallHistogram hist;
    hist.set_pid(kPid);
    hist.set_syscall(v1::SYSCALL_EPOLL_WAIT);
    uint64_t t = kStart + 1'000'000;
    auto count = [&](uint64_t dur, bool timed_out) {
      hist.set_count(hist.count() + 1);
      hist.set_sum_ns(hist.sum_ns() + dur);
      if (hist.count() == 1 || dur < hist.min_ns()) hist.set_min_ns(dur);
      hist.set_max_ns(std::max(hist.max_ns(), dur));
      if (timed_out) hist.set_timeouts(hist.timeouts() + 1);
      int b = 63 - __builtin_clzll(dur);
      while (hist.log2_buckets_size() <= b) hist.add_log2_buckets(0);
      hist.set_log2_buckets(b, hist.log2_buckets(b) + 1);
    };
    for (int i = 1; i <= 20; ++i) {
      const uint64_t dur = i * 1'000'000ull + 333'333ull * (i % 3);
      count(dur, false);
      if (all_calls || i % 4 != 0) w->Append(Wait(t, dur, true, 10'000 * (1 + i % 10)));
      t += dur + 1000;
    }
    for (int i = 0; i < 5; ++i) {
      count(100'000'000, true);
      w->Append(Wait(t, 100'000'000, false));
      t += 100'000'000 + 1000;
    }
    // Short calls too, so the ms histogram has buckets below 10 us.
    for (uint64_t dur : {1500ull, 3000ull, 6000ull, 700'000ull}) {
      count(dur, false);
      v1::Record r = Wait(t, dur, true, 0);
      r.mutable_syscall()->mutable_breakdown()->set_blocked_ns(dur - 2000);
      if (all_calls) w->Append(r);
      t += dur + 1000;
    }
    hist.set_time_ns(t);
    for (int i = 1; i <= 10; ++i) w->Append(Wakeup(t + i * 1'000'000, i * 10'000, true));
    for (int i = 1; i <= 4; ++i) w->Append(Wakeup(t + 20'000'000 + i * 1'000'000, 2'000, false));
    v1::Record hr;
    *hr.mutable_syscall_histogram() = hist;
    w->Append(hr);
    v1::Record tr;
    tr.mutable_trailer()->set_stop_reason("targets exited");
    tr.mutable_trailer()->set_time_ns(t + 100'000'000);
    w->Append(tr);
    w->Flush();
    return path;
  }

  std::string dir_;
};

// The epoll_wait row's P50, P90, P99 cells of the text report.
std::vector<std::string> TextPercentiles(const std::string& text) {
  std::smatch m;
  std::regex row(R"(\n +100 server +epoll_wait +\S+ +\S+ +\S+ +(\S+ \S+) +(\S+ \S+) +(\S+ \S+) )");
  if (!std::regex_search(text, m, row)) return {};
  return {m[1], m[2], m[3]};
}

// The syscall table's p50, p90, p99 cells of the HTML page.
std::vector<std::string> HtmlPercentiles(const std::string& page) {
  std::smatch m;
  std::regex row(
      R"(<td>100</td><td>server</td><td>epoll_wait</td>(?:<td>[^<]*</td>){3}<td>([^<]*)</td><td>([^<]*)</td><td>([^<]*)</td>)");
  if (!std::regex_search(page, m, row)) return {};
  return {m[1], m[2], m[3]};
}

TEST_F(ReportOutputsTest, TextAndHtmlGiveTheSamePercentilesExactOrMarked) {
  for (bool all : {true, false}) {
    SCOPED_TRACE(all ? "every call recorded" : "calls missing from the file");
    const std::string file = Write(all), html = dir_ + "/page.html";
    auto r = RunCommand({Report(), file, "--no-progress", "--html", html});
    ASSERT_EQ(r.exit_status, 0) << r.err;
    const auto text = TextPercentiles(r.out);
    const auto page = HtmlPercentiles(Slurp(html));
    ASSERT_EQ(text.size(), 3u) << r.out;
    EXPECT_EQ(page, text);
    for (const std::string& p : text) EXPECT_EQ(p[0] == '~', !all) << p;
  }
  // Exact: the nearest-rank p50 of the 29 calls is the 15th shortest
  // (11 ms + 2/3 ms), and the CSV gives the same ns.
  const std::string csv = dir_ + "/csv";
  auto r = RunCommand({Report(), Write(true), "--no-progress", "--csv", csv});
  EXPECT_EQ(TextPercentiles(r.out)[0], "11.67 ms") << r.out;
  const std::string rows = Slurp(csv + "/syscall_percentiles.csv");
  EXPECT_NE(rows.find("pid,syscall,count,p50_ns,p90_ns,p99_ns,max_ns,exact\n"
                      "100,epoll_wait,29,11666666,100000000,100000000,100000000,true\n"),
            std::string::npos)
      << rows;
}

TEST_F(ReportOutputsTest, HistogramRowsInMillisecondsAreToldApart) {
  auto r = RunCommand({Report(), Write(true), "--no-progress"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const size_t at = r.out.find("epoll_wait, pid 100");
  ASSERT_NE(at, std::string::npos) << r.out;
  const std::string hist = r.out.substr(at, r.out.find("\n\n", at) - at);
  ASSERT_NE(hist.find("msecs"), std::string::npos) << hist;
  std::regex row(R"(\n +(\S+) -> (\S+) +:)");
  std::set<std::string> labels;
  int rows = 0;
  for (auto it = std::sregex_iterator(hist.begin(), hist.end(), row); it != std::sregex_iterator();
       ++it, ++rows) {
    const std::string label = (*it)[1].str() + " -> " + (*it)[2].str();
    EXPECT_NE((*it)[1].str(), (*it)[2].str()) << label;
    EXPECT_TRUE(labels.insert(label).second) << "twice: " << label << "\n" << hist;
  }
  EXPECT_GT(rows, 15) << hist;  // from 1 us to 100 ms
  EXPECT_NE(hist.find("1.02us -> 2.05us"), std::string::npos) << hist;
}

TEST_F(ReportOutputsTest, SlowestWokenWaitsAreListedApartFromTimeouts) {
  auto r = RunCommand({Report(), Write(true), "--no-progress"});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const size_t woken = r.out.find("\nslowest calls that did not time out (10 of 29 recorded):\n");
  ASSERT_NE(woken, std::string::npos) << r.out;
  // The slowest woken wait first (20 ms + 2/3 ms), by the worker's write.
  const std::string first = r.out.substr(woken, 400);
  EXPECT_NE(first.find("20.67 ms  100/100"), std::string::npos) << first;
  EXPECT_NE(first.find("woken by tid 201 (worker) in write(fd 7)"), std::string::npos) << first;
  const size_t timeouts = r.out.find("\nslowest timeouts (5 of 29 recorded):\n");
  ASSERT_NE(timeouts, std::string::npos) << r.out;
  EXPECT_NE(r.out.find("100.00 ms", timeouts), std::string::npos);
  // No timeout among the woken ones.
  EXPECT_EQ(r.out.substr(woken, timeouts - woken).find("timed out"), std::string::npos)
      << r.out.substr(woken, timeouts - woken);
}

TEST_F(ReportOutputsTest, RunQueueDelayByWaker) {
  const std::string html = dir_ + "/page.html";
  auto r = RunCommand({Report(), Write(true), "--no-progress", "--html", html});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const size_t at = r.out.find("\nrun-queue delay by waker");
  ASSERT_NE(at, std::string::npos) << r.out;
  // 10..100 us by the worker's write: nearest-rank p50 50 us, p90 90 us, exact.
  std::regex worker(
      R"(\n +100 server +worker in write +10 +50\.0 us +90\.0 us +100\.0 us +100\.0 us)");
  EXPECT_TRUE(std::regex_search(r.out.substr(at), worker)) << r.out.substr(at);
  std::regex irq(R"(\n +100 server +an interrupt on an idle CPU +4 +2\.0 us)");
  EXPECT_TRUE(std::regex_search(r.out.substr(at), irq)) << r.out.substr(at);
  // The page gives the same numbers.
  EXPECT_NE(Slurp(html).find("<td>worker in write</td><td>10</td><td>50.0 us</td><td>90.0 us</td>"
                             "<td>100.0 us</td><td>100.0 us</td>"),
            std::string::npos);
}

TEST_F(ReportOutputsTest, CsvNamesTheWakersSyscall) {
  const std::string csv = dir_ + "/csv";
  auto r = RunCommand({Report(), Write(true), "--no-progress", "--csv", csv});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  for (const char* file : {"/syscalls.csv", "/wakeups.csv"}) {
    const std::string text = Slurp(csv + file);
    const std::string header = text.substr(0, text.find('\n'));
    ASSERT_NE(header.find(",waker_syscall_nr,waker_fd,waker_syscall"), std::string::npos)
        << file << ": " << header;
    EXPECT_NE(text.find(",worker,1,7,write,task,\n"), std::string::npos) << file << "\n" << text;
  }
  // A kernel waker has no syscall: an empty field.
  EXPECT_NE(Slurp(csv + "/wakeups.csv").find(",swapper/1,-1,,,task,\n"), std::string::npos);
}

// What woke a thread when it was not a task: the text report says "its own
// timeout" or "softirq NET_RX"; the CSV said only which task the interrupt
// happened to land in (often swapper), as if that task had woken it.
TEST_F(ReportOutputsTest, CsvSaysWhatWokeAThreadWhenItWasNotATask) {
  const std::string path = dir_ + "/contexts.ptrace";
  std::string error;
  auto w = CreateRecordFile(path, true, &error);
  ASSERT_TRUE(w) << error;
  v1::Record h;
  h.mutable_header()->set_format_version(1);
  h.mutable_header()->set_start_time_ns(kStart);
  w->Append(h);
  auto wakeup = [&](uint64_t on, const v1::Waker& k) {
    v1::Record r = Wakeup(on, 1000, false);
    *r.mutable_wakeup()->mutable_waker() = k;
    w->Append(r);
  };
  v1::Waker timeout;  // a bystander: the idle task the timer interrupted
  timeout.set_comm("swapper/0");
  timeout.set_syscall_nr(-1);
  timeout.set_context(v1::WAKER_CONTEXT_OWN_TIMEOUT);
  timeout.set_timer_function(0xffffffff81234560ull);
  timeout.set_timer_function_name("hrtimer_wakeup");
  wakeup(kStart + 1'000'000, timeout);
  v1::Waker net = timeout;
  net.set_context(v1::WAKER_CONTEXT_SOFTIRQ);
  net.set_softirq(3);
  net.set_softirq_name("NET_RX");
  wakeup(kStart + 2'000'000, net);
  v1::Waker irq = timeout;
  irq.set_context(v1::WAKER_CONTEXT_HARDIRQ);
  irq.set_irq(24);  // no name known: the number
  wakeup(kStart + 3'000'000, irq);
  v1::Record call = Wait(kStart + 4'000'000, 5'000'000, true);
  *call.mutable_syscall()->mutable_breakdown()->mutable_waker() = timeout;
  w->Append(call);
  ASSERT_TRUE(w->Flush());
  const std::string csv = dir_ + "/csv";
  auto r = RunCommand({Report(), path, "--no-progress", "--csv", csv});
  ASSERT_EQ(r.exit_status, 0) << r.err;
  const std::string wakeups = Slurp(csv + "/wakeups.csv");
  EXPECT_NE(wakeups.find(",waker_syscall,waker_context,waker_context_detail\n"), std::string::npos)
      << wakeups;
  EXPECT_NE(wakeups.find(",swapper/0,-1,,,own_timeout,hrtimer_wakeup\n"), std::string::npos)
      << wakeups;
  EXPECT_NE(wakeups.find(",swapper/0,-1,,,softirq,NET_RX\n"), std::string::npos) << wakeups;
  EXPECT_NE(wakeups.find(",swapper/0,-1,,,hardirq,24\n"), std::string::npos) << wakeups;
  const std::string calls = Slurp(csv + "/syscalls.csv");
  EXPECT_NE(calls.find(",own_timeout,hrtimer_wakeup\n"), std::string::npos) << calls;
}

}  // namespace
}  // namespace probe
