#include "clickhouse_rows.h"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <limits>

#include "clickhouse_tsv.h"
#include "column_text.h"
#include "counters.h"
#include "text_escape.h"

namespace probe {
namespace {

// FNV-1a: stable across builds and machines, unlike std::hash.
uint64_t Fnv1a(std::string_view bytes) {
  uint64_t h = 1469598103934665603ull;
  for (unsigned char c : bytes) h = (h ^ c) * 1099511628211ull;
  return h;
}

}  // namespace

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

// One row of a table, appended to its buffer (and counted) when it goes out
// of scope, with the columns every table but runs has already set.
class ClickHouseRows::Row : public TsvRow {
 public:
  Row(ClickHouseRows& rows, ChTable t, uint64_t time_ns)
      : TsvRow(t, rows.cells_), sink_(rows.sink_), table_(t) {
    const ChFileIdentity& id = rows.id_;
    T("host", id.host).T("run_id", id.run_id).U("sequence", id.sequence);
    Time("time", WallSeconds(time_ns, id.wall_clock_offset_ns));
  }
  ~Row() {
    AppendTo(&sink_.Row(table_));
    sink_.RowDone(table_);
  }

 private:
  ChRowSink& sink_;
  ChTable table_;
};

// Absent values are left out of the line: their columns are NULL.
void ClickHouseRows::WaitWaker(Row& row, const v1::Waker& w) {
  row.I("waker_pid", w.pid()).I("waker_tid", w.tid()).T("waker_comm", names_.WakerComm(w));
  row.I("waker_syscall_nr", w.syscall_nr());
  if (w.has_fd()) row.I("waker_fd", w.fd());
  row.T("waker_syscall", w.syscall_nr() >= 0 ? X86SyscallName(w.syscall_nr()) : std::string());
  row.T("waker_context", EnumName(v1::WakerContext_descriptor(), w.context(), "WAKER_CONTEXT_"));
}

void ClickHouseRows::OnSnapshot(const v1::ProcessSnapshot& s) {
  Row row(*this, ChTable::kProcesses, s.start_time_ns());
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
  Row row(*this, ChTable::kProcesses, t);
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
  Row row(*this, ChTable::kSyscalls, c.start_time_ns());
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
  Row row(*this, ChTable::kWakeups, w.on_cpu_time_ns());
  row.I("pid", w.pid()).I("tid", w.tid()).U("on_cpu_time_ns", w.on_cpu_time_ns());
  row.U("cpu", w.cpu()).U("off_cpu_time_ns", w.off_cpu_time_ns());
  row.U("wake_time_ns", w.wake_time_ns()).T("state", OffCpuStateColumn(w.state()));
  row.U("off_cpu_ns", w.off_cpu_ns()).U("run_queue_ns", w.run_queue_ns());
  row.U("unknown_ns", w.unknown_ns());
  if (w.has_waker()) WaitWaker(row, w.waker());
}

void ClickHouseRows::SyscallHistogramRow(const v1::SyscallHistogram& h, bool final) {
  Row row(*this, ChTable::kSyscallHistograms, h.time_ns());
  row.I("pid", h.pid()).T("syscall", SyscallColumn(h.syscall())).U("time_ns", h.time_ns());
  row.U("count", h.count()).U("sum_ns", h.sum_ns()).U("min_ns", h.min_ns());
  row.U("max_ns", h.max_ns()).U("timeouts", h.timeouts()).U("errors", h.errors());
  row.Numbers("log2_buckets", h.log2_buckets()).B("final", final);
}

void ClickHouseRows::SchedHistogramRow(const v1::SchedHistogram& h, bool final) {
  Row row(*this, ChTable::kSchedHistograms, h.time_ns());
  row.I("pid", h.pid()).T("kind", SchedKindColumn(h.kind())).U("time_ns", h.time_ns());
  row.U("count", h.count()).U("sum_ns", h.sum_ns()).U("min_ns", h.min_ns());
  row.U("max_ns", h.max_ns()).Numbers("log2_buckets", h.log2_buckets()).B("final", final);
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
  Row row(*this, ChTable::kShimCalls, c.entry_ns());
  row.I("pid", c.pid()).I("tid", c.tid()).T("function", ShimFunctionColumn(c.function()));
  row.U("entry_ns", c.entry_ns()).U("duration_ns", c.duration_ns()).I("result", c.result());
  row.I("fd", c.fd()).U("error", c.error());
}

void ClickHouseRows::OnMarker(const v1::Marker& m) {
  Row row(*this, ChTable::kMarkers, m.time_ns());
  row.I("pid", m.pid()).I("tid", m.tid()).T("type", MarkerTypeColumn(m.type()));
  row.T("name", m.name()).U("time_ns", m.time_ns()).I("arg0", m.arg0()).I("arg1", m.arg1());
}

void ClickHouseRows::CounterRows(
    uint64_t time_ns, bool final,
    const google::protobuf::RepeatedPtrField<v1::KindCounters>& counters, uint64_t bytes_written) {
  for (const v1::KindCounters& k : counters) {
    Row row(*this, ChTable::kCounters, time_ns);
    row.U("time_ns", time_ns).B("final", final).T("kind", EventKindColumn(k.kind()));
    for (const CounterValue& v : CsvCounterColumns(k)) row.U(v.counter->name, v.value);
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
  TsvCells cells;
  TsvRow row(ChTable::kRuns, cells);
  row.T("host", id.host).T("run_id", id.run_id).U("sequence", id.sequence);
  row.Time("time", WallSeconds(h.start_time_ns(), id.wall_clock_offset_ns));
  row.T("hostname", h.hostname()).T("boot_id", h.boot_id()).T("machine_id", h.machine_id());
  row.T("kernel_release", h.kernel_release()).T("agent_version", h.agent_version());
  row.T("command_line", JoinArgv(h.command_line()));
  std::vector<std::string_view> keys, values;
  for (const v1::Tag& t : h.tags()) {
    keys.push_back(t.key());
    values.push_back(t.value());
  }
  row.Texts("tag_keys", keys).Texts("tag_values", values).U("cpu_count", h.cpu_count());
  row.U("start_time_ns", h.start_time_ns()).U("end_time_ns", end.end_time_ns);
  row.I("wall_clock_offset_ns", h.wall_clock_offset_ns()).T("stop_reason", end.stop_reason);
  row.B("cut", end.cut).T("read_status", end.read_status).U("records", end.records);
  row.U("file_bytes", end.file_bytes).T("file", end.file);
  row.Time("loaded_at", static_cast<uint32_t>(std::min<uint64_t>(end.loaded_at_s, UINT32_MAX)));
  row.AppendTo(out);
}

}  // namespace probe
