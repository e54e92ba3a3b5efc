// ClickHouse rows without a server: every row one line of valid UTF-8 with a
// field per column whatever the bytes, names as the CSV writes them,
// histograms final once per key, absent values NULL.
#include "clickhouse_rows.h"

#include <gtest/gtest.h>

#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "clickhouse_schema.h"
#include "report_options.h"
#include "text_escape.h"

namespace probe {
namespace {

// Collects the lines of each table.
struct Lines : ChRowSink {
  std::string buf[kChTables];
  std::vector<std::string> rows[kChTables];
  size_t start[kChTables] = {};
  std::string& Row(ChTable t) override { return buf[int(t)]; }
  void RowDone(ChTable t) override {
    std::string& b = buf[int(t)];
    rows[int(t)].push_back(b.substr(start[int(t)]));
    start[int(t)] = b.size();
  }
  const std::vector<std::string>& of(ChTable t) const { return rows[int(t)]; }
};

// A TabSeparated row decoded by its table's columns; NULL is nullopt.
struct Cells {
  std::map<std::string, std::optional<std::string>> v;
  bool Has(const std::string& k) const { return v.count(k) && v.at(k).has_value(); }
  std::string Str(const std::string& k) const {
    EXPECT_TRUE(Has(k)) << k;
    return Has(k) ? *v.at(k) : "";
  }
  int64_t Int(const std::string& k) const { return std::stoll(Str(k)); }
};

Cells Parse(ChTable t, const std::string& line) {
  Cells c;
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per row: " << line;
  EXPECT_EQ(Utf8Text(line), line) << "valid UTF-8";
  std::vector<std::string> fields(1);
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    if (line[i] == '\t')
      fields.emplace_back();
    else
      fields.back() += line[i];
  }
  const auto& columns = ChColumns(t);
  EXPECT_EQ(fields.size(), columns.size()) << ChTableName(t) << ": " << line;
  for (size_t i = 0; i < std::min(fields.size(), columns.size()); ++i) {
    const std::string& f = fields[i];
    if (f == "\\N") {
      c.v[columns[i].name] = std::nullopt;
      continue;
    }
    std::string out;
    for (size_t k = 0; k < f.size(); ++k) {
      if (f[k] != '\\' || k + 1 == f.size()) {
        out += f[k];
        continue;
      }
      const char e = f[++k];
      out += e == 't' ? '\t' : e == 'n' ? '\n' : e == 'r' ? '\r' : e == '0' ? '\0' : e;
    }
    c.v[columns[i].name] = out;
  }
  for (const char* k : {"host", "run_id", "sequence", "time"})
    EXPECT_TRUE(c.Has(k)) << ChTableName(t) << " row without " << k;
  return c;
}

const std::string kHostile = std::string("a\xff\xfe\"\\\n\x01\x7f") + "\xc3\xa9" + "\xe2\x80\xae" +
                             std::string("\0z", 2) + "\xed\xa0\x80";  // lone surrogate bytes

ChFileIdentity Id() {
  ChFileIdentity id;
  id.host = "h1";
  id.run_id = "run-1";
  id.sequence = 3;
  id.wall_clock_offset_ns = 1'700'000'000'000'000'000;
  return id;
}

TEST(ClickHouseRows, HostileBytesAreOneValidLineHoldingTheCsvText) {
  NameTable names;
  Lines out;
  ClickHouseRows rows(Id(), names, out);
  v1::ProcessLifetime p;
  p.set_pid(7);
  p.set_comm(kHostile);
  p.set_exe(kHostile);
  p.add_argv("prog");
  p.add_argv(kHostile);
  p.set_fork_time_ns(5'000'000'000);
  rows.OnProcess(p);
  v1::Marker m;
  m.set_name(kHostile);
  rows.OnMarker(m);
  ASSERT_EQ(out.of(ChTable::kProcesses).size(), 1u);
  Cells j = Parse(ChTable::kProcesses, out.of(ChTable::kProcesses)[0]);
  EXPECT_EQ(j.Str("comm"), Utf8Text(kHostile)) << "the CSV's text of the bytes";
  EXPECT_EQ(j.Str("exe"), Utf8Text(kHostile));
  EXPECT_NE(j.Str("comm").find("\\xff\\xfe"), std::string::npos);
  EXPECT_EQ(j.Str("argv"), Utf8Text("prog '" + kHostile + "'"));
  EXPECT_EQ(j.Int("time"), 1'700'000'005) << "wall clock seconds";
  EXPECT_EQ(Parse(ChTable::kMarkers, out.of(ChTable::kMarkers)[0]).Str("name"), Utf8Text(kHostile));
}

// Any bytes at all: always one line, a field per column, the CSV's text back.
TEST(ClickHouseRows, RandomBytesAlwaysMakeOneWellFormedRow) {
  NameTable names;
  Lines out;
  ClickHouseRows rows(Id(), names, out);
  uint32_t x = 12345;
  std::vector<std::string> sent;
  for (int i = 0; i < 2000; ++i) {
    std::string raw;
    const int n = int((x = x * 1664525u + 1013904223u) % 40);
    for (int k = 0; k < n; ++k) raw += char((x = x * 1664525u + 1013904223u) >> 24);
    v1::Marker m;
    m.set_name(raw);
    rows.OnMarker(m);
    sent.push_back(raw);
  }
  ASSERT_EQ(out.of(ChTable::kMarkers).size(), sent.size());
  for (size_t i = 0; i < sent.size(); ++i)
    ASSERT_EQ(Parse(ChTable::kMarkers, out.of(ChTable::kMarkers)[i]).Str("name"), Utf8Text(sent[i]))
        << i;
}

TEST(ClickHouseRows, EveryKindHasItsTableAndAbsentValuesAreLeftOut) {
  NameTable names;
  Lines out;
  ClickHouseRows rows(Id(), names, out);
  v1::SyscallCall c;
  c.set_pid(1);
  c.set_tid(2);
  c.set_syscall(v1::SYSCALL_PSELECT6);
  c.set_duration_ns(1000);
  c.set_ret(-4);
  rows.OnSyscall(c);  // no fd, no timeout, no value, no breakdown
  c.set_fd(9);
  c.mutable_breakdown()->set_blocked_ns(600);
  c.mutable_breakdown()->set_woken(true);
  c.mutable_breakdown()->mutable_waker()->set_tid(44);
  c.mutable_breakdown()->mutable_waker()->set_comm("waker");
  c.mutable_breakdown()->mutable_waker()->set_syscall_nr(1);
  rows.OnSyscall(c);
  v1::Wakeup w;
  w.set_state(v1::OFF_CPU_PREEMPTED);
  rows.OnWakeup(w);
  rows.OnShimCall(v1::ShimCall());
  rows.OnSnapshot(v1::ProcessSnapshot());
  v1::Stats st;
  st.add_counters()->set_kind(v1::EVENT_KIND_SYSCALL);
  st.add_counters()->set_kind(v1::EVENT_KIND_WAKEUP);
  rows.OnStats(st);
  v1::Trailer t;
  t.add_counters()->set_produced(5);
  rows.OnTrailer(t);
  for (int i = 0; i < kChTables; ++i)
    for (const std::string& line : out.rows[i]) Parse(ChTable(i), line);

  ASSERT_EQ(out.of(ChTable::kSyscalls).size(), 2u);
  Cells bare = Parse(ChTable::kSyscalls, out.of(ChTable::kSyscalls)[0]);
  for (const char* k : {"fd", "timeout_ns", "value", "blocked_ns", "woken", "waker_tid"})
    EXPECT_FALSE(bare.Has(k)) << k << ": NULL when the record has none";
  EXPECT_EQ(bare.Str("syscall"), "pselect6") << "named as in the CSV";
  EXPECT_EQ(bare.Int("ret"), -4);
  Cells full = Parse(ChTable::kSyscalls, out.of(ChTable::kSyscalls)[1]);
  EXPECT_EQ(full.Int("fd"), 9);
  EXPECT_EQ(full.Int("total_blocked_ns"), 600) << "blocked once: as blocked_ns, like the CSV";
  EXPECT_EQ(full.Str("waker_comm"), "waker");
  EXPECT_EQ(full.Str("waker_syscall"), "write");
  EXPECT_EQ(full.Str("waker_context"), "task");
  EXPECT_FALSE(full.Has("waker_fd"));
  EXPECT_FALSE(Parse(ChTable::kWakeups, out.of(ChTable::kWakeups)[0]).Has("waker_pid"))
      << "a preemption has no waker";
  EXPECT_EQ(Parse(ChTable::kWakeups, out.of(ChTable::kWakeups)[0]).Str("state"), "preempted");
  ASSERT_EQ(out.of(ChTable::kCounters).size(), 3u) << "one row per KindCounters";
  EXPECT_EQ(Parse(ChTable::kCounters, out.of(ChTable::kCounters)[2]).Int("final"), 1);
  EXPECT_EQ(Parse(ChTable::kCounters, out.of(ChTable::kCounters)[2]).Int("produced"), 5);
  EXPECT_EQ(Parse(ChTable::kProcesses, out.of(ChTable::kProcesses)[0]).Int("snapshot"), 1);
}

TEST(ClickHouseRows, TheLastHistogramOfEachKeyIsFinal) {
  NameTable names;
  Lines out;
  ClickHouseRows rows(Id(), names, out);
  for (int i = 1; i <= 3; ++i) {
    v1::SyscallHistogram h;
    h.set_pid(10);
    h.set_syscall(v1::SYSCALL_POLL);
    h.set_count(i);
    for (int b = 0; b < i; ++b) h.add_log2_buckets(b == i - 1 ? 1 : 0);
    rows.OnSyscallHistogram(h);
    v1::SchedHistogram s;
    s.set_pid(10 + i);  // three keys, one record each
    s.set_kind(v1::SCHED_HISTOGRAM_RUN_QUEUE);
    rows.OnSchedHistogram(s);
  }
  v1::SyscallHistogram other;
  other.set_pid(11);
  other.set_syscall(v1::SYSCALL_POLL);
  rows.OnSyscallHistogram(other);
  EXPECT_EQ(out.of(ChTable::kSyscallHistograms).size(), 2u) << "superseded ones are written";
  rows.Finish();
  const auto& hs = out.of(ChTable::kSyscallHistograms);
  ASSERT_EQ(hs.size(), 4u) << "one row per record";
  std::map<int64_t, int> finals;
  for (const std::string& line : hs) {
    Cells j = Parse(ChTable::kSyscallHistograms, line);
    if (j.Int("final") == 1) ++finals[j.Int("pid")];
    if (j.Int("final") == 1 && j.Int("pid") == 10) {
      EXPECT_EQ(j.Int("count"), 3);
      EXPECT_EQ(j.Str("log2_buckets"), "[0,0,1]");
    }
  }
  EXPECT_EQ(finals, (std::map<int64_t, int>{{10, 1}, {11, 1}}));
  EXPECT_EQ(out.of(ChTable::kSchedHistograms).size(), 3u);
  for (const std::string& line : out.of(ChTable::kSchedHistograms))
    EXPECT_EQ(Parse(ChTable::kSchedHistograms, line).Str("kind"), "run_queue");
}

TEST(ClickHouseRows, IdentityAndRunsRow) {
  v1::Header h;
  h.set_hostname("host\xff");
  h.set_run_id("abc");
  h.set_sequence(2);
  EXPECT_EQ(IdentityOf(h, "").host, "host\\xff");
  EXPECT_EQ(IdentityOf(h, "other").host, "other") << "--host-name overrides";
  EXPECT_EQ(IdentityOf(h, "").run_id, "abc");
  EXPECT_EQ(IdentityOf(h, "").sequence, 2u);
  h.clear_run_id();
  h.set_start_time_ns(1);
  const std::string a = IdentityOf(h, "").run_id;
  EXPECT_EQ(a.rfind("header-", 0), 0u) << a;
  EXPECT_EQ(IdentityOf(h, "").run_id, a) << "stable";
  h.set_start_time_ns(2);
  EXPECT_NE(IdentityOf(h, "").run_id, a) << "another recording, another id";

  h.set_run_id("r'1");
  auto* tag = h.add_tags();
  tag->set_key("release");
  tag->set_value("v\xfe");
  h.add_command_line("probe-agent");
  h.add_command_line("--tag");
  ChFileEnd end;
  end.cut = true;
  end.read_status = "truncated";
  end.records = 12;
  std::string line;
  AppendRunsRow(h, IdentityOf(h, ""), end, &line);
  Cells j = Parse(ChTable::kRuns, line);
  EXPECT_EQ(j.Str("run_id"), "r'1");
  EXPECT_EQ(j.Int("cut"), 1);
  EXPECT_EQ(j.Int("records"), 12);
  EXPECT_EQ(j.Str("tag_keys"), "['release']");
  // An array's strings are quoted, their backslashes and quotes escaped once more.
  EXPECT_NE(line.find("['v\\\\xfe']"), std::string::npos) << line;
  EXPECT_EQ(j.Str("command_line"), "probe-agent --tag");
}

TEST(ClickHouseSchema, TablesAndNames) {
  EXPECT_TRUE(IsPlainDatabaseName("probe_2"));
  for (const char* bad : {"", "1probe", "a;DROP", "a.b", "a b", "x`"})
    EXPECT_FALSE(IsPlainDatabaseName(bad)) << bad;
  EXPECT_EQ(SqlString("it's \\ ok"), "'it\\'s \\\\ ok'");
  const std::string sql = CreateTableSql("probe", ChTable::kSyscallHistograms);
  EXPECT_EQ(sql.rfind("CREATE TABLE IF NOT EXISTS probe.syscall_histograms (", 0), 0u) << sql;
  EXPECT_NE(sql.find("log2_buckets Array(UInt64)"), std::string::npos) << sql;
  EXPECT_NE(sql.find("ENGINE = MergeTree()"), std::string::npos) << sql;
  for (int i = 0; i < kChTables; ++i) {
    std::set<std::string> seen;
    for (const ChColumn& c : ChColumns(ChTable(i)))
      EXPECT_TRUE(seen.insert(c.name).second) << ChTableName(ChTable(i)) << "." << c.name;
    EXPECT_TRUE(seen.count("host") && seen.count("run_id") && seen.count("sequence"));
  }
  EXPECT_EQ(WallSeconds(1'500'000'000, 1'000'000'000'000'000'000), 1'000'000'001u);
  EXPECT_EQ(WallSeconds(5, -100), 0u) << "before 1970: clamped";
}

TEST(ClickHouseOptions, SeveralFilesOnlyWithClickHouseAndNothingElseWithIt) {
  auto ok = ParseReportOptions({"a.ptrace", "b.ptrace", "--clickhouse", "http://127.0.0.1:8123",
                                "--host-name=web-7", "--database", "fleet", "c.ptrace"});
  ASSERT_TRUE(ok.options) << ok.error;
  EXPECT_EQ(ok.options->file, "a.ptrace");
  EXPECT_EQ(ok.options->more_files, (std::vector<std::string>{"b.ptrace", "c.ptrace"}));
  EXPECT_EQ(ok.options->clickhouse_url, "http://127.0.0.1:8123");
  EXPECT_EQ(ok.options->clickhouse_database, "fleet");
  EXPECT_EQ(ok.options->host_name, "web-7");
  EXPECT_EQ(ParseReportOptions({"a", "--clickhouse", "http://x"}).options->clickhouse_database,
            "probe");
  for (const std::vector<std::string>& bad :
       std::vector<std::vector<std::string>>{{"a", "b"},
                                             {"a", "--database", "x"},
                                             {"a", "--host-name", "x"},
                                             {"a", "--clickhouse", "http://x", "--csv", "d"},
                                             {"a", "--clickhouse", "http://x", "--pid", "3"},
                                             {"a", "--clickhouse", "http://x", "--database", "a-b"},
                                             {"a", "--clickhouse"}}) {
    auto r = ParseReportOptions(bad);
    EXPECT_FALSE(r.options) << bad[1];
    EXPECT_EQ(r.error.find('\n'), std::string::npos) << r.error;
  }
}

}  // namespace
}  // namespace probe
