#include "clickhouse_rows.h"

#include <charconv>
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "column_text.h"
#include "counters.h"
#include "json_writer.h"
#include "text_escape.h"

namespace probe {
namespace {

bool IsAscii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

template <typename T>
void AppendNumber(std::string* out, T v) {
  char tmp[24];
  auto res = std::to_chars(tmp, tmp + sizeof tmp, v);
  out->append(tmp, res.ptr);
}

// FNV-1a: stable across builds and machines, unlike std::hash.
uint64_t Fnv1a(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

void AppendJsonText(std::string* out, std::string_view raw) {
  // Utf8Text makes it well-formed UTF-8 (as the CSV shows it); AppendString
  // then only escapes quotes, backslashes and controls.
  if (IsAscii(raw))
    AppendString(out, raw);
  else
    AppendString(out, Utf8Text(raw));
}

uint32_t WallSeconds(uint64_t mono_ns, int64_t wall_clock_offset_ns) {
  const long double wall = static_cast<long double>(mono_ns) + wall_clock_offset_ns;
  if (wall <= 0) return 0;
  const long double s = wall / 1e9L;
  return s >= std::numeric_limits<uint32_t>::max() ? std::numeric_limits<uint32_t>::max()
                                                   : static_cast<uint32_t>(s);
}

ChFileIdentity IdentityOf(const v1::Header& h, const std::string& host_override) {
  ChFileIdentity id;
  // As stored: the CSV text of the bytes.
  id.host = Utf8Text(host_override.empty() ? h.hostname() : host_override);
  id.run_id = Utf8Text(h.run_id());
  if (id.run_id.empty()) {
    v1::Record r;
    *r.mutable_header() = h;
    char hex[17];
    snprintf(hex, sizeof hex, "%016" PRIx64, Fnv1a(r.SerializeAsString()));
    id.run_id = std::string("header-") + hex;
  }
  id.sequence = h.sequence();
  id.wall_clock_offset_ns = h.wall_clock_offset_ns();
  return id;
}

// One JSON object being appended to a table's buffer; closed (and the row
// counted) when it goes out of scope.
class ClickHouseRows::Json {
 public:
  // Opens the row with the columns every table but runs has.
  Json(ChRowSink& sink, ChTable t, const ChFileIdentity& id, uint64_t time_ns)
      : sink_(sink), table_(t), out_(sink.Row(t)) {
    out_ += '{';
    T("host", id.host).T("run_id", id.run_id);
    U("sequence", id.sequence).U("time", WallSeconds(time_ns, id.wall_clock_offset_ns));
  }
  ~Json() {
    out_ += "}\n";
    sink_.RowDone(table_);
  }
  Json(const Json&) = delete;
  Json& operator=(const Json&) = delete;

  Json& U(const char* key, uint64_t v) {
    Key(key);
    AppendNumber(&out_, v);
    return *this;
  }
  Json& I(const char* key, int64_t v) {
    Key(key);
    AppendNumber(&out_, v);
    return *this;
  }
  Json& B(const char* key, bool v) {
    Key(key);
    out_ += v ? '1' : '0';
    return *this;
  }
  Json& T(const char* key, std::string_view raw) {
    Key(key);
    AppendJsonText(&out_, raw);
    return *this;
  }
  Json& Buckets(const char* key, const google::protobuf::RepeatedField<uint64_t>& b) {
    Key(key);
    out_ += '[';
    for (int i = 0; i < b.size(); ++i) {
      if (i) out_ += ',';
      AppendNumber(&out_, b.Get(i));
    }
    out_ += ']';
    return *this;
  }
  void Key(const char* key) {
    if (!first_) out_ += ',';
    first_ = false;
    out_ += '"';
    out_ += key;
    out_ += "\":";
  }

 private:
  ChRowSink& sink_;
  ChTable table_;
  std::string& out_;
  bool first_ = true;
};

// Absent values are left out of the line: their columns are NULL.
void ClickHouseRows::WaitWaker(Json& row, const v1::Waker& w) {
  row.I("waker_pid", w.pid()).I("waker_tid", w.tid()).T("waker_comm", names_.WakerComm(w));
  row.I("waker_syscall_nr", w.syscall_nr());
  if (w.has_fd()) row.I("waker_fd", w.fd());
  row.T("waker_syscall", w.syscall_nr() >= 0 ? X86SyscallName(w.syscall_nr()) : std::string());
  row.T("waker_context", EnumName(v1::WakerContext_descriptor(), w.context(), "WAKER_CONTEXT_"));
}

void ClickHouseRows::OnSnapshot(const v1::ProcessSnapshot& s) {
  Json row(sink_, ChTable::kProcesses, id_, s.start_time_ns());
  row.B("snapshot", true).I("pid", s.pid()).I("ppid", s.ppid()).T("comm", s.comm());
  row.T("exe", s.exe()).T("argv", JoinArgv(s.argv())).U("start_time_ns", s.start_time_ns());
  std::string threads;  // tid:comm;tid:comm, as in the CSV
  for (const v1::Thread& t : s.threads()) {
    if (!threads.empty()) threads += ';';
    threads += std::to_string(t.tid()) + ":" + t.comm();
  }
  row.T("threads", threads);
}

void ClickHouseRows::OnProcess(const v1::ProcessLifetime& p) {
  const uint64_t t = p.fork_time_ns()   ? p.fork_time_ns()
                     : p.exec_time_ns() ? p.exec_time_ns()
                                        : p.exit_time_ns();
  Json row(sink_, ChTable::kProcesses, id_, t);
  row.B("snapshot", false).I("pid", p.pid()).I("ppid", p.ppid()).T("comm", p.comm());
  row.T("exe", p.exe()).T("argv", JoinArgv(p.argv())).B("argv_truncated", p.argv_truncated());
  row.U("fork_time_ns", p.fork_time_ns()).U("exec_time_ns", p.exec_time_ns());
  row.U("exit_time_ns", p.exit_time_ns()).U("exec_to_exit_ns", p.exec_to_exit_ns());
  row.U("fork_to_exec_ns", p.fork_to_exec_ns()).I("exit_code", p.exit_code());
  row.I("exit_signal", p.exit_signal()).B("core_dumped", p.core_dumped());
  row.U("user_time_ns", p.user_time_ns()).U("system_time_ns", p.system_time_ns());
  row.U("peak_rss_bytes", p.peak_rss_bytes()).B("finished", p.finished());
  row.U("exec_count", p.exec_count()).U("run_index", p.run_index());
}

void ClickHouseRows::OnSyscall(const v1::SyscallCall& c) {
  Json row(sink_, ChTable::kSyscalls, id_, c.start_time_ns());
  row.I("pid", c.pid()).I("tid", c.tid()).T("syscall", SyscallColumn(c.syscall()));
  row.U("start_time_ns", c.start_time_ns()).U("duration_ns", c.duration_ns()).I("ret", c.ret());
  row.B("interrupted", c.interrupted());
  if (c.has_fd()) row.I("fd", c.fd());
  row.U("nfds", c.nfds());
  if (c.has_timeout()) row.I("timeout_ns", c.timeout_ns());
  row.B("timed_out", c.timed_out());
  if (c.has_value()) row.U("value", c.value());
  row.U("eventfd_flags", c.eventfd_flags());
  if (!c.has_breakdown()) return;  // never left the CPU: the breakdown columns are NULL
  const v1::WaitBreakdown& b = c.breakdown();
  row.U("to_block_ns", b.to_block_ns()).U("blocked_ns", b.blocked_ns());
  row.U("run_queue_ns", b.run_queue_ns()).U("return_ns", b.return_ns());
  // Absent when it blocked once: the same as blocked_ns (as in the CSV).
  row.U("total_blocked_ns", b.total_blocked_ns() != 0 ? b.total_blocked_ns() : b.blocked_ns());
  row.U("unknown_ns", b.unknown_ns()).B("woken", b.woken());
  if (b.woken()) WaitWaker(row, b.waker());
}

void ClickHouseRows::OnWakeup(const v1::Wakeup& w) {
  Json row(sink_, ChTable::kWakeups, id_, w.on_cpu_time_ns());
  row.I("pid", w.pid()).I("tid", w.tid()).U("on_cpu_time_ns", w.on_cpu_time_ns());
  row.U("cpu", w.cpu()).U("off_cpu_time_ns", w.off_cpu_time_ns());
  row.U("wake_time_ns", w.wake_time_ns()).T("state", OffCpuStateColumn(w.state()));
  row.U("off_cpu_ns", w.off_cpu_ns()).U("run_queue_ns", w.run_queue_ns());
  row.U("unknown_ns", w.unknown_ns());
  if (w.has_waker()) WaitWaker(row, w.waker());
}

void ClickHouseRows::SyscallHistogramRow(const v1::SyscallHistogram& h, bool final) {
  Json row(sink_, ChTable::kSyscallHistograms, id_, h.time_ns());
  row.I("pid", h.pid()).T("syscall", SyscallColumn(h.syscall())).U("time_ns", h.time_ns());
  row.U("count", h.count()).U("sum_ns", h.sum_ns()).U("min_ns", h.min_ns());
  row.U("max_ns", h.max_ns()).U("timeouts", h.timeouts()).U("errors", h.errors());
  row.Buckets("log2_buckets", h.log2_buckets()).B("final", final);
}

void ClickHouseRows::SchedHistogramRow(const v1::SchedHistogram& h, bool final) {
  Json row(sink_, ChTable::kSchedHistograms, id_, h.time_ns());
  row.I("pid", h.pid()).T("kind", SchedKindColumn(h.kind())).U("time_ns", h.time_ns());
  row.U("count", h.count()).U("sum_ns", h.sum_ns()).U("min_ns", h.min_ns());
  row.U("max_ns", h.max_ns()).Buckets("log2_buckets", h.log2_buckets()).B("final", final);
}

void ClickHouseRows::OnSyscallHistogram(const v1::SyscallHistogram& h) {
  auto [it, fresh] = syscall_histograms_.try_emplace({h.pid(), h.syscall()}, h);
  if (fresh) return;
  SyscallHistogramRow(it->second, false);  // superseded by h
  it->second = h;
}

void ClickHouseRows::OnSchedHistogram(const v1::SchedHistogram& h) {
  auto [it, fresh] = sched_histograms_.try_emplace({h.pid(), h.kind()}, h);
  if (fresh) return;
  SchedHistogramRow(it->second, false);
  it->second = h;
}

void ClickHouseRows::Finish() {
  for (const auto& [key, h] : syscall_histograms_) SyscallHistogramRow(h, true);
  for (const auto& [key, h] : sched_histograms_) SchedHistogramRow(h, true);
  syscall_histograms_.clear();
  sched_histograms_.clear();
}

void ClickHouseRows::OnShimCall(const v1::ShimCall& c) {
  Json row(sink_, ChTable::kShimCalls, id_, c.entry_ns());
  row.I("pid", c.pid()).I("tid", c.tid()).T("function", ShimFunctionColumn(c.function()));
  row.U("entry_ns", c.entry_ns()).U("duration_ns", c.duration_ns()).I("result", c.result());
  row.I("fd", c.fd()).U("error", c.error());
}

void ClickHouseRows::OnMarker(const v1::Marker& m) {
  Json row(sink_, ChTable::kMarkers, id_, m.time_ns());
  row.I("pid", m.pid()).I("tid", m.tid()).T("type", MarkerTypeColumn(m.type()));
  row.T("name", m.name()).U("time_ns", m.time_ns()).I("arg0", m.arg0()).I("arg1", m.arg1());
}

void ClickHouseRows::CounterRows(
    uint64_t time_ns, bool final,
    const google::protobuf::RepeatedPtrField<v1::KindCounters>& counters, uint64_t bytes_written) {
  for (const v1::KindCounters& k : counters) {
    Json row(sink_, ChTable::kCounters, id_, time_ns);
    row.U("time_ns", time_ns).B("final", final).T("kind", EventKindColumn(k.kind()));
    for (const CounterValue& v : CsvCounterColumns(k)) row.U(v.column, v.value);
    std::string losses;  // cpu:lost;cpu:lost
    for (const v1::CpuLoss& l : k.cpu_losses()) {
      if (!losses.empty()) losses += ';';
      losses += std::to_string(l.cpu()) + ":" + std::to_string(l.lost_ring_full());
    }
    row.T("cpu_losses", losses).U("bytes_written", bytes_written);
  }
}

void ClickHouseRows::OnStats(const v1::Stats& s) {
  CounterRows(s.time_ns(), false, s.counters(), s.bytes_written());
}

void ClickHouseRows::OnTrailer(const v1::Trailer& t) {
  CounterRows(t.time_ns(), true, t.counters(), t.bytes_written());
}

void AppendRunsRow(const v1::Header& h, const ChFileIdentity& id, const ChFileEnd& end,
                   std::string* out) {
  auto key = [&](const char* k) {
    *out += out->back() == '{' ? "\"" : ",\"";
    *out += k;
    *out += "\":";
  };
  auto text = [&](const char* k, std::string_view raw) {
    key(k);
    AppendJsonText(out, raw);
  };
  auto num = [&](const char* k, auto v) {
    key(k);
    AppendNumber(out, v);
  };
  *out += '{';
  text("host", id.host);
  text("run_id", id.run_id);
  num("sequence", id.sequence);
  num("time", WallSeconds(h.start_time_ns(), id.wall_clock_offset_ns));
  text("hostname", h.hostname());
  text("boot_id", h.boot_id());
  text("machine_id", h.machine_id());
  text("kernel_release", h.kernel_release());
  text("agent_version", h.agent_version());
  text("command_line", JoinArgv(h.command_line()));
  key("tag_keys");
  *out += '[';
  for (int i = 0; i < h.tags_size(); ++i) {
    if (i) *out += ',';
    AppendJsonText(out, h.tags(i).key());
  }
  *out += ']';
  key("tag_values");
  *out += '[';
  for (int i = 0; i < h.tags_size(); ++i) {
    if (i) *out += ',';
    AppendJsonText(out, h.tags(i).value());
  }
  *out += ']';
  num("cpu_count", h.cpu_count());
  num("start_time_ns", h.start_time_ns());
  num("end_time_ns", end.end_time_ns);
  num("wall_clock_offset_ns", h.wall_clock_offset_ns());
  text("stop_reason", end.stop_reason);
  num("cut", end.cut ? 1 : 0);
  text("read_status", end.read_status);
  num("records", end.records);
  num("file_bytes", end.file_bytes);
  text("file", end.file);
  num("loaded_at", end.loaded_at_s);
  *out += "}\n";
}

}  // namespace probe
