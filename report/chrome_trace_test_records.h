// The Chrome trace tests' records (a small story of a traced run) and the
// checks every exported trace must pass. Included by chrome_trace_unittest.cc
// only.
#pragma once
#include <gtest/gtest.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "exporter.h"
#include "json_test_parser.h"
#include "probe.pb.h"

namespace probe {
namespace {

using testing::Json;
using testing::JsonParser;

// The model probe-report feeds before each record reaches an exporter.
struct Model {
  TraceSummary s;
  void Add(const v1::Record& r, Exporter& e) {
    AddRecord(r, &s);
    e.Add(r);
  }
};

// ---- helpers ----------------------------------------------------------------

// "1234.567" (microseconds) -> 1234567 ns, exactly.
int64_t Ns(const Json& v) {
  EXPECT_EQ(v.type, Json::kNumber);
  const std::string& t = v.text;
  const size_t dot = t.find('.');
  int64_t ns = std::stoll(t.substr(0, dot)) * 1000;
  if (dot != std::string::npos) {
    std::string frac = t.substr(dot + 1);
    EXPECT_LE(frac.size(), 3u) << t;
    frac.resize(3, '0');
    ns += std::stoll(frac);
  }
  return ns;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/probe_chrome_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string File(const std::string& name) {
    files_.push_back(dir_ + "/" + name);
    return files_.back();
  }

 private:
  std::string dir_;
  std::vector<std::string> files_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr uint64_t kStart = 5'000'000'000;  // Header.start_time_ns
constexpr int32_t kPid = 100;
constexpr int32_t kTid = 101;       // the thread in select
constexpr int32_t kWakerTid = 102;  // writes the eventfd
constexpr int32_t kAgentPid = 50;
const std::string kOddName = "wor\"ker\\\n\x01 \xc3\xa9\xe2\x9c\x93";  // quotes, newline, UTF-8

v1::Record Header() {
  v1::Record r;
  auto* h = r.mutable_header();
  h->set_format_version(1);
  h->set_hostname("host \"one\"");
  h->set_start_time_ns(kStart);
  h->set_agent_pid(kAgentPid);
  h->add_command_line("probe-agent");
  h->add_command_line("--");
  h->add_command_line("./server");
  return r;
}

// The story of one 5 ms select(): the shim's select around the kernel's
// pselect6, woken by the waker thread's write; markers around it.
std::vector<v1::Record> Story() {
  std::vector<v1::Record> rs;
  rs.push_back(Header());
  {
    v1::Record r;
    auto* s = r.mutable_snapshot();
    s->set_pid(kPid);
    s->set_comm("server");
    s->set_start_time_ns(kStart - 1'000'000);  // before the agent: clamped
    auto* t = s->add_threads();
    t->set_tid(kPid);
    t->set_comm("server");
    t = s->add_threads();
    t->set_tid(kTid);
    t->set_comm(kOddName);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* n = r.mutable_thread_name();
    n->set_pid(kPid);
    n->set_tid(kWakerTid);
    n->set_comm("waker");
    rs.push_back(r);
  }
  auto marker = [&](v1::MarkerType type, const std::string& name, uint64_t t, int64_t a0) {
    v1::Record r;
    auto* m = r.mutable_marker();
    m->set_pid(kPid);
    m->set_tid(kTid);
    m->set_type(type);
    m->set_name(name);
    m->set_time_ns(kStart + t);
    m->set_arg0(a0);
    m->set_arg1(-a0);
    return r;
  };
  rs.push_back(marker(v1::MARKER_BEGIN, "wait", 200, 7));
  rs.push_back(marker(v1::MARKER_INSTANT, "BEFORE_SELECT", 300, 1));
  {
    // The wakeup comes before the call's record: the call is written at return.
    v1::Record r;
    auto* w = r.mutable_wakeup();
    w->set_pid(kPid);
    w->set_tid(kTid);
    w->set_off_cpu_time_ns(kStart + 2'000);
    w->set_wake_time_ns(kStart + 4'992'000);
    w->set_on_cpu_time_ns(kStart + 4'997'000);
    w->set_cpu(1);
    w->set_state(v1::OFF_CPU_SLEEPING);
    w->set_off_cpu_ns(4'990'000);
    w->set_run_queue_ns(5'000);
    auto* k = w->mutable_waker();
    k->set_pid(kPid);
    k->set_tid(kWakerTid);
    k->set_syscall_nr(1);
    k->set_fd(3);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* c = r.mutable_syscall();
    c->set_pid(kPid);
    c->set_tid(kTid);
    c->set_syscall(v1::SYSCALL_PSELECT6);
    c->set_start_time_ns(kStart + 1'000);
    c->set_duration_ns(5'000'000);
    c->set_ret(1);
    c->set_nfds(4);
    auto* b = c->mutable_breakdown();
    b->set_to_block_ns(1'000);
    b->set_blocked_ns(4'990'000);
    b->set_run_queue_ns(5'000);
    b->set_return_ns(4'000);
    b->set_woken(true);
    auto* k = b->mutable_waker();
    k->set_pid(kPid);
    k->set_tid(kWakerTid);  // comm empty: from the ThreadName record
    k->set_syscall_nr(1);
    k->set_fd(3);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* c = r.mutable_syscall();
    c->set_pid(kPid);
    c->set_tid(kWakerTid);
    c->set_syscall(v1::SYSCALL_WRITE);
    c->set_start_time_ns(kStart + 4'991'500);
    c->set_duration_ns(1'500);
    c->set_ret(8);
    c->set_fd(3);
    c->set_has_value(true);
    c->set_value(1);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* c = r.mutable_shim_call();
    c->set_pid(kPid);
    c->set_tid(kTid);
    c->set_function(v1::SHIM_SELECT);
    c->set_entry_ns(kStart + 500);
    c->set_duration_ns(5'001'000);
    c->set_result(1);
    c->set_fd(4);
    rs.push_back(r);
  }
  rs.push_back(marker(v1::MARKER_END, "wait", 5'002'000, 8));
  rs.push_back(marker(v1::MARKER_END, "never begun", 5'003'000, 0));
  rs.push_back(marker(v1::MARKER_BEGIN, "never ended", 5'004'000, 0));
  rs.push_back(marker(v1::MARKER_INSTANT, "odd \x02 \"name\" \xff", 5'005'000, 0));
  {
    // Woken from an interrupt on an idle CPU, straight onto the CPU.
    v1::Record r;
    auto* w = r.mutable_wakeup();
    w->set_pid(kPid);
    w->set_tid(kWakerTid);
    w->set_wake_time_ns(kStart + 6'000'000);
    w->set_on_cpu_time_ns(kStart + 6'000'000);
    w->set_state(v1::OFF_CPU_SLEEPING);
    auto* k = w->mutable_waker();
    k->set_pid(0);
    k->set_tid(0);
    k->set_comm("swapper/1");
    k->set_syscall_nr(-1);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* h = r.mutable_syscall_histogram();
    h->set_pid(kPid);
    h->set_syscall(v1::SYSCALL_PSELECT6);
    h->set_time_ns(kStart + 7'000'000);
    h->set_count(21);
    h->set_sum_ns(102'240'000);
    h->set_timeouts(1);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* h = r.mutable_sched_histogram();
    h->set_pid(kPid);
    h->set_kind(v1::SCHED_HISTOGRAM_RUN_QUEUE);
    h->set_time_ns(kStart + 7'000'000);
    h->set_count(3);
    h->set_sum_ns(12'000);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* s = r.mutable_stats();
    s->set_time_ns(kStart + 8'000'000);
    auto* c = s->add_counters();
    c->set_kind(v1::EVENT_KIND_SYSCALL);
    c->set_produced(30);
    c->set_written(25);
    c->set_sampled_out(3);
    c->set_lost_ring_full(2);
    auto* shim = s->add_shim();
    shim->set_pid(kPid);
    shim->set_produced(12);
    shim->set_written(10);
    shim->set_lost_buffer_full(2);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* p = r.mutable_process();
    p->set_pid(kPid);
    p->set_ppid(1);
    p->set_comm("server");
    p->set_exe("/usr/bin/server");
    p->add_argv("server");
    p->add_argv("--flag");
    p->set_fork_time_ns(kStart + 50);
    p->set_exec_time_ns(kStart + 100);
    p->set_exit_time_ns(kStart + 9'000'000);
    p->set_finished(true);
    rs.push_back(r);
  }
  {
    v1::Record r;
    r.mutable_trailer()->set_time_ns(kStart + 9'500'000);
    r.mutable_trailer()->set_stop_reason("targets exited");
    rs.push_back(r);
  }
  return rs;
}

// Writes records through the exporter and parses the file back.
Json Export(const std::vector<v1::Record>& records, const std::string& path,
            std::string* raw = nullptr) {
  std::string error;
  Model m;
  auto e = MakeChromeTraceExporter(path, m.s.names, &error);
  EXPECT_NE(e, nullptr) << error;
  if (!e) return Json();
  for (const v1::Record& r : records) m.Add(r, *e);
  EXPECT_TRUE(e->Finish(&error)) << error;
  const std::string text = ReadFile(path);
  if (raw) *raw = text;
  Json doc;
  std::string perror;
  EXPECT_TRUE(JsonParser(text).Parse(&doc, &perror)) << perror;
  return doc;
}

// The Trace Event Format's rules every output must follow.
void CheckFormatRules(const Json& doc) {
  ASSERT_EQ(doc.type, Json::kObject);
  ASSERT_EQ(doc["traceEvents"].type, Json::kArray);
  EXPECT_EQ(doc["displayTimeUnit"].Str(), "ns");
  EXPECT_EQ(doc["metadata"].type, Json::kObject);

  std::set<int64_t> named_pids;
  std::set<std::pair<int64_t, int64_t>> named_threads;
  std::set<int64_t> used_pids;
  std::set<std::pair<int64_t, int64_t>> used_threads;
  std::map<std::pair<int64_t, int64_t>, int> open_be;
  std::map<std::string, std::pair<int, int>> flows;  // id -> (starts, ends)
  for (const Json& ev : doc["traceEvents"].items) {
    ASSERT_EQ(ev.type, Json::kObject);
    ASSERT_EQ(ev["ph"].type, Json::kString);
    ASSERT_EQ(ev["ph"].Str().size(), 1u);
    const char ph = ev["ph"].Str()[0];
    ASSERT_EQ(ev["name"].type, Json::kString);
    ASSERT_TRUE(ev["pid"].IsInteger()) << ev["name"].Str();
    ASSERT_TRUE(ev["tid"].IsInteger()) << ev["name"].Str();
    const int64_t pid = ev["pid"].Int(), tid = ev["tid"].Int();
    if (ph == 'M') {
      EXPECT_EQ(ev["args"]["name"].type, Json::kString);
      if (ev["name"].Str() == "process_name") named_pids.insert(pid);
      if (ev["name"].Str() == "thread_name") named_threads.insert({pid, tid});
      continue;
    }
    ASSERT_EQ(ev["ts"].type, Json::kNumber) << ev["name"].Str();
    EXPECT_GE(Ns(ev["ts"]), 0);
    used_pids.insert(pid);
    used_threads.insert({pid, tid});
    if (ev.Has("args")) {
      EXPECT_EQ(ev["args"].type, Json::kObject);
    }
    switch (ph) {
      case 'X':
        ASSERT_EQ(ev["dur"].type, Json::kNumber) << ev["name"].Str();
        EXPECT_GE(Ns(ev["dur"]), 0);
        break;
      case 'B':
        ++open_be[std::make_pair(pid, tid)];
        break;
      case 'E': {
        const int open = open_be[std::make_pair(pid, tid)]--;
        EXPECT_GT(open, 0) << "E without B";
        break;
      }
      case 'i':
        EXPECT_TRUE(ev["s"].Str() == "t" || ev["s"].Str() == "p" || ev["s"].Str() == "g");
        break;
      case 'C':
        ASSERT_EQ(ev["args"].type, Json::kObject);
        for (const auto& [k, v] : ev["args"].members) EXPECT_EQ(v.type, Json::kNumber) << k;
        break;
      case 's':
      case 'f':
        ASSERT_TRUE(ev.Has("id"));
        EXPECT_EQ(ev["cat"].Str(), "wakeup");
        if (ph == 's') {
          ++flows[ev["id"].text].first;
        } else {
          ++flows[ev["id"].text].second;
          EXPECT_EQ(ev["bp"].Str(), "e");
        }
        break;
      default:
        ADD_FAILURE() << "unexpected phase " << ph;
    }
  }
  for (const auto& [thread, open] : open_be) EXPECT_EQ(open, 0) << "unbalanced B/E";
  for (const auto& [id, ends] : flows) {
    EXPECT_EQ(ends.first, 1) << "flow " << id;
    EXPECT_EQ(ends.second, 1) << "flow " << id;
  }
  for (int64_t pid : used_pids) EXPECT_TRUE(named_pids.count(pid)) << "no process_name " << pid;
  for (const auto& t : used_threads)
    EXPECT_TRUE(named_threads.count(t)) << "no thread_name " << t.first << "/" << t.second;
}

std::vector<const Json*> Events(const Json& doc, char ph, const std::string& name) {
  std::vector<const Json*> out;
  for (const Json& ev : doc["traceEvents"].items) {
    if (ev["ph"].Str() == std::string(1, ph) && ev["name"].Str() == name) out.push_back(&ev);
  }
  return out;
}

const Json& One(const Json& doc, char ph, const std::string& name) {
  static const Json kMissing;
  auto evs = Events(doc, ph, name);
  EXPECT_EQ(evs.size(), 1u) << ph << " " << name;
  return evs.empty() ? kMissing : *evs[0];
}

std::string ThreadName(const Json& doc, int64_t pid, int64_t tid) {
  for (const Json* ev : Events(doc, 'M', "thread_name")) {
    if ((*ev)["pid"].Int() == pid && (*ev)["tid"].Int() == tid) return (*ev)["args"]["name"].Str();
  }
  return "<none>";
}

}  // namespace
}  // namespace probe
