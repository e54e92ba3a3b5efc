#include "clickhouse_test_files.h"

#include <gtest/gtest.h>

#include <cctype>

#include "histogram.h"
#include "record_file.h"
#include "record_reader.h"
#include "text_escape.h"

namespace probe::testing {
namespace {

std::string Lower(std::string s) {
  for (char& c : s) c = char(std::tolower((unsigned char)c));
  return s;
}

}  // namespace

const char* const kTables[8] = {"processes",        "syscalls",   "wakeups", "syscall_histograms",
                                "sched_histograms", "shim_calls", "markers", "counters"};

std::string SyscallText(int s) { return Lower(v1::Syscall_Name(v1::Syscall(s)).substr(8)); }

FileTruth Read(const std::string& path, const std::string& host) {
  FileTruth t;
  t.path = path;
  t.host = host;
  std::string error;
  auto reader = RecordReader::Open(path, &error);
  EXPECT_TRUE(reader) << error;
  v1::Record r;
  while (reader && reader->Next(&r) == ReadStatus::kRecord) {
    if (r.has_header()) {
      t.run_id = r.header().run_id();
      t.sequence = r.header().sequence();
      for (const auto& tag : r.header().tags())
        if (tag.key() == "release") t.release = tag.value();
      if (t.host.empty()) t.host = Utf8Text(r.header().hostname());
    }
    if (r.has_process() || r.has_snapshot()) ++t.rows["processes"];
    if (r.has_wakeup()) ++t.rows["wakeups"];
    if (r.has_shim_call()) ++t.rows["shim_calls"];
    if (r.has_marker()) ++t.rows["markers"];
    if (r.has_stats()) t.rows["counters"] += r.stats().counters_size();
    if (r.has_trailer()) t.rows["counters"] += r.trailer().counters_size();
    if (r.has_syscall()) {
      ++t.rows["syscalls"];
      const auto& c = r.syscall();
      if (c.has_breakdown()) {
        const auto& b = c.breakdown();
        ++t.blocked_calls;
        t.blocked_total_ns += c.duration_ns();
        t.to_block_ns += b.to_block_ns();
        t.blocked_ns += b.total_blocked_ns() ? b.total_blocked_ns() : b.blocked_ns();
        t.run_queue_ns += b.run_queue_ns();
        t.return_ns += b.return_ns();
      }
    }
    if (r.has_syscall_histogram()) {
      ++t.rows["syscall_histograms"];
      const auto& h = r.syscall_histogram();
      t.syscall_final[{h.pid(), h.syscall()}] = h;
    }
    if (r.has_sched_histogram()) {
      ++t.rows["sched_histograms"];
      const auto& h = r.sched_histogram();
      if (h.kind() == v1::SCHED_HISTOGRAM_RUN_QUEUE) t.run_queue_final[h.pid()] = h;
    }
  }
  return t;
}

void Merge(v1::SyscallHistogram* into, const v1::SyscallHistogram& h) {
  if (h.count() == 0) return;
  if (into->count() == 0 || h.min_ns() < into->min_ns()) into->set_min_ns(h.min_ns());
  into->set_max_ns(std::max(into->max_ns(), h.max_ns()));
  into->set_count(into->count() + h.count());
  into->set_sum_ns(into->sum_ns() + h.sum_ns());
  for (int i = 0; i < h.log2_buckets_size(); ++i) {
    while (into->log2_buckets_size() <= i) into->add_log2_buckets(0);
    into->set_log2_buckets(i, into->log2_buckets(i) + h.log2_buckets(i));
  }
}

uint64_t Total(const v1::SyscallHistogram& h) {
  uint64_t n = 0;
  for (uint64_t b : h.log2_buckets()) n += b;
  return n;
}

int RankBucket(const v1::SyscallHistogram& h, double q) {
  const double rank = q * double(Total(h));
  uint64_t run = 0;
  for (int i = 0; i < h.log2_buckets_size(); ++i) {
    run += h.log2_buckets(i);
    if (double(run) >= rank) return i;
  }
  return -1;
}

const std::string kHostileComm = std::string("c\xff\xfe\x01") + "\xc3\xa9";
const std::string kHostileArg =
    "a\xff"
    "b";
const std::string kHostileMarker = std::string("m\xfe\x01") + "\xe2\x80\xae" + "z";

void WriteSynthetic(const std::string& path, const Synthetic& s) {
  std::string error;
  auto w = CreateRecordFile(path, true, &error);
  ASSERT_TRUE(w) << error;
  v1::Record r;
  auto* h = r.mutable_header();
  h->set_format_version(1);
  h->set_hostname(s.hostname);
  h->set_run_id(s.run_id);
  h->set_sequence(s.sequence);
  h->set_start_time_ns(1'000'000'000);
  h->set_wall_clock_offset_ns(1'765'000'000'000'000'000);
  auto* tag = h->add_tags();
  tag->set_key("release");
  tag->set_value(s.release);
  w->Append(r);
  r.Clear();
  auto* snap = r.mutable_snapshot();
  snap->set_pid(100);
  snap->set_comm(kHostileComm);
  snap->add_argv("prog");
  snap->add_argv(kHostileArg);
  snap->add_threads()->set_tid(101);
  w->Append(r);
  uint32_t x = s.seed * 2654435761u + 1;
  auto next = [&]() { return x = x * 1664525u + 1013904223u; };
  std::map<std::pair<int, int>, v1::SyscallHistogram> hist;
  std::map<int, v1::SyscallHistogram> rq;
  auto flush_histograms = [&]() {
    for (const auto& [key, sh] : hist) {
      v1::Record hr;
      *hr.mutable_syscall_histogram() = sh;
      w->Append(hr);
    }
    for (const auto& [pid, q] : rq) {
      v1::Record hr;
      auto* sched = hr.mutable_sched_histogram();
      sched->set_pid(pid);
      sched->set_kind(v1::SCHED_HISTOGRAM_RUN_QUEUE);
      sched->set_count(q.count());
      sched->set_sum_ns(q.sum_ns());
      sched->set_min_ns(q.min_ns());
      sched->set_max_ns(q.max_ns());
      *sched->mutable_log2_buckets() = q.log2_buckets();
      w->Append(hr);
    }
  };
  for (int i = 0; i < s.calls; ++i) {
    const int pid = 100 + i % 3;
    v1::Record c;
    auto* call = c.mutable_syscall();
    call->set_pid(pid);
    call->set_tid(pid + 1);
    call->set_syscall(i % 2 ? v1::SYSCALL_POLL : v1::SYSCALL_EPOLL_WAIT);
    call->set_start_time_ns(2'000'000'000 + uint64_t(i) * 1'000'000);
    const uint64_t d = (uint64_t{1} << (4 + next() % 20)) + next() % 1000;
    call->set_duration_ns(d);
    if (i % 2 == 0) {
      auto* b = call->mutable_breakdown();
      b->set_to_block_ns(d / 10);
      b->set_blocked_ns(d / 2);
      b->set_run_queue_ns(d / 5);
      b->set_return_ns(d - d / 10 - d / 2 - d / 5);
      b->set_woken(true);
      b->mutable_waker()->set_pid(7);
      b->mutable_waker()->set_tid(8);
      b->mutable_waker()->set_comm(kHostileComm);
      b->mutable_waker()->set_syscall_nr(1);
    }
    w->Append(c);
    v1::SyscallHistogram& sh = hist[{pid, call->syscall()}];
    sh.set_pid(pid);
    sh.set_syscall(call->syscall());
    AddCallToHistogram(*call, &sh);
    v1::Record wk;
    auto* wake = wk.mutable_wakeup();
    wake->set_pid(pid);
    wake->set_tid(pid + 1);
    wake->set_state(v1::OFF_CPU_SLEEPING);
    wake->set_run_queue_ns(next() % 100000);
    w->Append(wk);
    AddToHistogram(wake->run_queue_ns(), &rq[pid]);
    if (i % 100 == 99) flush_histograms();  // cumulative: later ones supersede
    if (i == s.calls / 2) {
      v1::Record st;
      st.mutable_stats()->set_time_ns(3'000'000'000);
      st.mutable_stats()->add_counters()->set_kind(v1::EVENT_KIND_SYSCALL);
      st.mutable_stats()->add_counters()->set_kind(v1::EVENT_KIND_WAKEUP);
      w->Append(st);
      v1::Record m;
      m.mutable_marker()->set_name(kHostileMarker);
      m.mutable_marker()->set_pid(100);
      w->Append(m);
      v1::Record sc;
      sc.mutable_shim_call()->set_function(v1::SHIM_POLL);
      w->Append(sc);
      v1::Record p;
      p.mutable_process()->set_pid(102);
      p.mutable_process()->set_comm(kHostileComm);
      p.mutable_process()->add_argv(kHostileArg);
      p.mutable_process()->set_fork_time_ns(2'500'000'000);
      w->Append(p);
    }
  }
  flush_histograms();
  if (s.trailer) {
    v1::Record t;
    t.mutable_trailer()->set_time_ns(9'000'000'000);
    t.mutable_trailer()->set_stop_reason("signal");
    t.mutable_trailer()->add_counters()->set_kind(v1::EVENT_KIND_SYSCALL);
    w->Append(t);
  }
  ASSERT_TRUE(w->Flush());
}

}  // namespace probe::testing
