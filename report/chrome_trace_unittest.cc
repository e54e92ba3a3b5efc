// The Chrome trace exporter: records in memory -> a temp file -> parsed back
// by a strict JSON parser (nlohmann-json, RFC 8259, no extensions) -> the
// Trace Event Format's rules and the content of each event.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "chrome_trace_test_records.h"
#include "exporter.h"

namespace probe {
namespace {

TEST(ChromeTraceJsonParserTest, AcceptsValidRejectsInvalid) {
  auto ok = [](const std::string& s) {
    Json v;
    std::string error;
    return JsonParser(s).Parse(&v, &error);
  };
  EXPECT_TRUE(ok(R"({"a":[1,-0.5,2e3,true,false,null,"x\u00e9\ud83d\ude00\n"]})"));
  EXPECT_TRUE(ok("\"\xc3\xa9\""));
  EXPECT_FALSE(ok("{\"a\":1,}"));
  EXPECT_FALSE(ok("[1,]"));
  EXPECT_FALSE(ok("01"));
  EXPECT_FALSE(ok("1."));
  EXPECT_FALSE(ok("\"a\nb\""));
  EXPECT_FALSE(ok("\"\\x\""));
  EXPECT_FALSE(ok("\"\xff\""));
  EXPECT_FALSE(ok("\"\xc0\xaf\""));  // overlong
  EXPECT_FALSE(ok("\"\\ud800\""));
  EXPECT_FALSE(ok("{\"a\":1,\"a\":2}"));
  EXPECT_FALSE(ok("{} x"));
  EXPECT_FALSE(ok("NaN"));
}

// ---- tests --------------------------------------------------------------------

TEST(ChromeTraceTest, StoryIsValidJsonFollowingTheFormat) {
  TempDir dir;
  const Json doc = Export(Story(), dir.File("trace.json"));
  CheckFormatRules(doc);
  EXPECT_EQ(doc["metadata"]["hostname"].Str(), "host \"one\"");
  EXPECT_EQ(doc["metadata"]["stop_reason"].Str(), "targets exited");
  EXPECT_EQ(doc["metadata"]["start_time_ns"].Int(), static_cast<int64_t>(kStart));
}

TEST(ChromeTraceTest, SyscallSliceWithBreakdownAndWaker) {
  TempDir dir;
  const Json doc = Export(Story(), dir.File("trace.json"));
  const Json& k = One(doc, 'X', "pselect6");
  EXPECT_EQ(k["cat"].Str(), "syscall");
  EXPECT_EQ(k["pid"].Int(), kPid);
  EXPECT_EQ(k["tid"].Int(), kTid);
  EXPECT_EQ(k["ts"].text, "1.000");  // us relative to the header's start, ns precision
  EXPECT_EQ(Ns(k["dur"]), 5'000'000);
  const Json& a = k["args"];
  EXPECT_EQ(a["ret"].Int(), 1);
  EXPECT_EQ(a["nfds"].Int(), 4);
  EXPECT_EQ(a["timeout"].Str(), "none");
  EXPECT_EQ(a["blocked_ns"].Int(), 4'990'000);
  EXPECT_EQ(a["run_queue_ns"].Int(), 5'000);
  EXPECT_EQ(a["to_block_ns"].Int(), 1'000);
  EXPECT_EQ(a["return_ns"].Int(), 4'000);
  EXPECT_EQ(a["waker_tid"].Int(), kWakerTid);
  EXPECT_EQ(a["waker_comm"].Str(), "waker");  // from the ThreadName record
  EXPECT_EQ(a["waker_syscall"].Str(), "write(fd 3)");

  const Json& w = One(doc, 'X', "write(eventfd)");
  EXPECT_EQ(w["args"]["fd"].Int(), 3);
  EXPECT_EQ(w["args"]["value"].Int(), 1);
  EXPECT_EQ(w["ts"].text, "4991.500");
}

TEST(ChromeTraceTest, ShimSliceContainsKernelSlice) {
  TempDir dir;
  const Json doc = Export(Story(), dir.File("trace.json"));
  const Json& k = One(doc, 'X', "pselect6");
  const Json& u = One(doc, 'X', "select (user)");
  EXPECT_EQ(u["cat"].Str(), "shim");
  EXPECT_EQ(u["tid"].Int(), k["tid"].Int());
  EXPECT_EQ(u["pid"].Int(), k["pid"].Int());
  EXPECT_LE(Ns(u["ts"]), Ns(k["ts"]));
  EXPECT_LE(Ns(k["ts"]) + Ns(k["dur"]), Ns(u["ts"]) + Ns(u["dur"]));
  EXPECT_EQ(u["args"]["result"].Int(), 1);
  EXPECT_EQ(u["args"]["nfds"].Int(), 4);
  // And the marker span contains both.
  const Json& span = One(doc, 'X', "wait");
  EXPECT_LE(Ns(span["ts"]), Ns(u["ts"]));
  EXPECT_LE(Ns(u["ts"]) + Ns(u["dur"]), Ns(span["ts"]) + Ns(span["dur"]));
}

TEST(ChromeTraceTest, Markers) {
  TempDir dir;
  const Json doc = Export(Story(), dir.File("trace.json"));
  const Json& span = One(doc, 'X', "wait");
  EXPECT_EQ(span["cat"].Str(), "marker");
  EXPECT_EQ(Ns(span["ts"]), 200);
  EXPECT_EQ(Ns(span["dur"]), 5'001'800);
  EXPECT_EQ(span["args"]["arg0"].Int(), 7);
  EXPECT_EQ(span["args"]["arg1"].Int(), -7);
  EXPECT_EQ(span["args"]["end_arg0"].Int(), 8);

  const Json& inst = One(doc, 'i', "BEFORE_SELECT");
  EXPECT_EQ(inst["s"].Str(), "t");
  EXPECT_EQ(Ns(inst["ts"]), 300);
  EXPECT_EQ(inst["args"]["arg0"].Int(), 1);

  // An END without its BEGIN stays visible as an instant; a BEGIN never
  // ENDed runs to the end of the trace (the trailer).
  EXPECT_EQ(One(doc, 'i', "never begun")["args"]["unmatched"].Str(), "end");
  const Json& open = One(doc, 'X', "never ended");
  EXPECT_TRUE(open["args"]["unclosed"].boolean);
  EXPECT_EQ(Ns(open["ts"]) + Ns(open["dur"]), 9'500'000);
  EXPECT_TRUE(Events(doc, 'B', "wait").empty());
}

TEST(ChromeTraceTest, WakeupFlowAndRunQueue) {
  TempDir dir;
  const Json doc = Export(Story(), dir.File("trace.json"));
  auto starts = Events(doc, 's', "wakeup");
  auto ends = Events(doc, 'f', "wakeup");
  ASSERT_EQ(starts.size(), 2u);
  ASSERT_EQ(ends.size(), 2u);
  const Json& s = *starts[0];
  const Json& f = *ends[0];
  EXPECT_EQ(s["id"].text, f["id"].text);
  EXPECT_NE(starts[0]->Find("id")->text, starts[1]->Find("id")->text);
  EXPECT_EQ(s["tid"].Int(), kWakerTid);
  EXPECT_EQ(Ns(s["ts"]), 4'992'000);
  EXPECT_EQ(f["tid"].Int(), kTid);
  EXPECT_EQ(Ns(f["ts"]), 4'997'000);

  auto rq = Events(doc, 'X', "run queue");
  ASSERT_EQ(rq.size(), 1u);  // the second wakeup had no run-queue delay
  EXPECT_EQ((*rq[0])["tid"].Int(), kTid);
  EXPECT_EQ(Ns((*rq[0])["ts"]), 4'992'000);
  EXPECT_EQ(Ns((*rq[0])["dur"]), 5'000);
  EXPECT_EQ((*rq[0])["args"]["waker_comm"].Str(), "waker");
  // Each flow end has a slice to bind to at its timestamp.
  auto wakes = Events(doc, 'X', "wake");
  ASSERT_EQ(wakes.size(), 2u);
  EXPECT_EQ((*wakes[0])["tid"].Int(), kWakerTid);
  EXPECT_EQ(Ns((*wakes[0])["ts"]), 4'992'000);
  // The interrupt's flow starts on the kernel's track, named.
  EXPECT_EQ((*starts[1])["pid"].Int(), 0);
  EXPECT_EQ(ThreadName(doc, 0, 0), "interrupts (idle CPUs)");
  EXPECT_EQ(One(doc, 'X', "woken")["tid"].Int(), kWakerTid);
}

TEST(ChromeTraceTest, NamesAreEscapedAndRoundTrip) {
  TempDir dir;
  std::string raw;
  const Json doc = Export(Story(), dir.File("trace.json"), &raw);
  EXPECT_EQ(ThreadName(doc, kPid, kTid), kOddName);
  EXPECT_EQ(ThreadName(doc, kPid, kPid), "server");
  EXPECT_EQ(ThreadName(doc, kPid, kWakerTid), "waker");
  EXPECT_NE(raw.find("\\u0001"), std::string::npos);
  EXPECT_NE(raw.find("wor\\\"ker\\\\"), std::string::npos);
  // Invalid UTF-8 is replaced, control characters escaped.
  EXPECT_EQ(One(doc, 'i', "odd \x02 \"name\" \xef\xbf\xbd")["s"].Str(), "t");
  for (const Json* ev : Events(doc, 'M', "process_name")) {
    if ((*ev)["pid"].Int() == kPid) {
      EXPECT_EQ((*ev)["args"]["name"].Str(), "server");
    }
  }
}

TEST(ChromeTraceTest, ProcessHistogramAndStatsCounters) {
  TempDir dir;
  const Json doc = Export(Story(), dir.File("trace.json"));
  const Json& p = One(doc, 'X', "process server");
  EXPECT_EQ(p["pid"].Int(), kPid);
  EXPECT_EQ(p["tid"].Int(), kPid);
  EXPECT_EQ(Ns(p["ts"]), 100);
  EXPECT_EQ(Ns(p["dur"]), 9'000'000 - 100);
  EXPECT_EQ(p["args"]["argv"].Str(), "server --flag");
  EXPECT_EQ(p["args"]["exit_code"].Int(), 0);

  const Json& calls = One(doc, 'C', "calls: pselect6");
  EXPECT_EQ(calls["pid"].Int(), kPid);
  EXPECT_EQ(Ns(calls["ts"]), 7'000'000);
  EXPECT_EQ(calls["args"]["count"].Int(), 21);
  EXPECT_EQ(One(doc, 'C', "total time: pselect6")["args"]["ms"].text, "102.240000");
  EXPECT_EQ(One(doc, 'C', "timeouts: pselect6")["args"]["count"].Int(), 1);
  EXPECT_TRUE(Events(doc, 'C', "errors: pselect6").empty());
  EXPECT_EQ(One(doc, 'C', "run queue waits")["args"]["count"].Int(), 3);

  const Json& written = One(doc, 'C', "records written");
  EXPECT_EQ(written["pid"].Int(), kAgentPid);
  EXPECT_EQ(written["args"]["syscall"].Int(), 25);
  EXPECT_EQ(One(doc, 'C', "lost")["args"]["syscall"].Int(), 2);
  EXPECT_EQ(One(doc, 'C', "sampled out")["args"]["syscall"].Int(), 3);
  const Json& shim = One(doc, 'C', "shim records written");
  EXPECT_EQ(shim["pid"].Int(), kPid);
  EXPECT_EQ(shim["args"]["count"].Int(), 10);
  EXPECT_EQ(One(doc, 'C', "shim records lost")["args"]["count"].Int(), 2);
}

TEST(ChromeTraceTest, RecordOrderDoesNotMatterForValidity) {
  // File order is not time order (per-CPU rings): reversed still makes a
  // valid file with the same events.
  TempDir dir;
  auto records = Story();
  std::reverse(records.begin() + 1, records.end());
  const Json doc = Export(records, dir.File("trace.json"));
  CheckFormatRules(doc);
  EXPECT_EQ(Events(doc, 'X', "pselect6").size(), 1u);
}

TEST(ChromeTraceTest, OpenSpansAreBoundedPerThread) {
  TempDir dir;
  std::vector<v1::Record> rs{Header()};
  for (int i = 0; i < 1000; ++i) {
    v1::Record r;
    auto* m = r.mutable_marker();
    m->set_pid(kPid);
    m->set_tid(kTid);
    m->set_type(v1::MARKER_BEGIN);
    m->set_name("span");
    m->set_time_ns(kStart + 1000 * i);
    rs.push_back(r);
  }
  const Json doc = Export(rs, dir.File("trace.json"));
  CheckFormatRules(doc);
  // Every BEGIN is in the output: the oldest as instants, the rest unclosed.
  EXPECT_EQ(Events(doc, 'i', "span").size() + Events(doc, 'X', "span").size(), 1000u);
  EXPECT_LE(Events(doc, 'X', "span").size(), 256u);
}

TEST(ChromeTraceTest, ManyRecordsStreamThroughTheBuffer) {
  // More than the 1 MiB buffer: written in pieces, still one valid document.
  TempDir dir;
  std::string error;
  const std::string path = dir.File("big.json");
  Model m;
  auto e = MakeChromeTraceExporter(path, m.s.names, &error);
  ASSERT_NE(e, nullptr) << error;
  m.Add(Header(), *e);
  constexpr int kCalls = 20000;
  v1::Record r;
  auto* c = r.mutable_syscall();
  c->set_pid(kPid);
  c->set_syscall(v1::SYSCALL_POLL);
  c->set_duration_ns(300);
  for (int i = 0; i < kCalls; ++i) {
    c->set_tid(kPid + i % 50);
    c->set_start_time_ns(kStart + 1000 * i);
    m.Add(r, *e);
  }
  ASSERT_TRUE(e->Finish(&error)) << error;
  const std::string text = ReadFile(path);
  EXPECT_GT(text.size(), size_t{2} << 20);
  Json doc;
  std::string perror;
  ASSERT_TRUE(JsonParser(text).Parse(&doc, &perror)) << perror;
  CheckFormatRules(doc);
  EXPECT_EQ(Events(doc, 'X', "poll").size(), static_cast<size_t>(kCalls));
  EXPECT_EQ(Events(doc, 'M', "thread_name").size(), 50u);
}

TEST(ChromeTraceTest, UnwritablePathIsAnError) {
  std::string error;
  Model m;
  auto e = MakeChromeTraceExporter("/nonexistent-probe-dir/trace.json", m.s.names, &error);
  EXPECT_EQ(e, nullptr);
  EXPECT_NE(error.find("/nonexistent-probe-dir/trace.json"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST(ChromeTraceTest, WriteErrorFailsFinish) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  std::string error;
  Model m;
  auto e = MakeChromeTraceExporter("/dev/full", m.s.names, &error);
  ASSERT_NE(e, nullptr) << error;
  for (const v1::Record& r : Story()) m.Add(r, *e);
  EXPECT_FALSE(e->Finish(&error));
  EXPECT_NE(error.find("/dev/full"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace probe
