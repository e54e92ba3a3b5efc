#include "clickhouse_schema.h"

#include <cctype>

#include "counters.h"

namespace probe {
namespace {

// Shared by every table but runs: which file of which run on which host.
const std::vector<ChColumn> kCommon = {
    {"host", "String"}, {"run_id", "String"}, {"sequence", "UInt64"}, {"time", "DateTime"}};

std::vector<ChColumn> WithCommon(std::vector<ChColumn> own) {
  std::vector<ChColumn> all = kCommon;
  all.insert(all.end(), own.begin(), own.end());
  return all;
}

// The waker of a syscall's wait or of a wakeup, absent (NULL) when there is
// none, as the CSV leaves those fields empty.
const std::vector<ChColumn> kWaker = {
    {"waker_pid", "Nullable(Int32)"},      {"waker_tid", "Nullable(Int32)"},
    {"waker_comm", "Nullable(String)"},    {"waker_syscall_nr", "Nullable(Int32)"},
    {"waker_fd", "Nullable(Int32)"},       {"waker_syscall", "Nullable(String)"},
    {"waker_context", "Nullable(String)"},
};

std::vector<ChColumn> Concat(std::vector<ChColumn> a, const std::vector<ChColumn>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

std::vector<ChColumn> CounterColumns() {
  std::vector<ChColumn> c = {{"time_ns", "UInt64"}, {"final", "UInt8"}, {"kind", "String"}};
  for (const CounterValue& v : CsvCounterColumns(v1::KindCounters()))
    c.push_back({v.counter->name, "UInt64"});
  c.push_back({"cpu_losses", "String"});
  c.push_back({"bytes_written", "UInt64"});
  return WithCommon(c);
}

const std::vector<ChColumn>* BuildColumns() {
  static const std::vector<ChColumn> tables[kChTables] = {
      // runs
      {{"host", "String"},
       {"run_id", "String"},
       {"sequence", "UInt64"},
       {"time", "DateTime"},
       {"hostname", "String"},
       {"boot_id", "String"},
       {"machine_id", "String"},
       {"kernel_release", "String"},
       {"agent_version", "String"},
       {"command_line", "String"},
       {"tag_keys", "Array(String)"},
       {"tag_values", "Array(String)"},
       {"cpu_count", "UInt32"},
       {"start_time_ns", "UInt64"},
       {"end_time_ns", "UInt64"},
       {"wall_clock_offset_ns", "Int64"},
       {"stop_reason", "String"},
       {"cut", "UInt8"},
       {"read_status", "String"},
       {"records", "UInt64"},
       {"file_bytes", "UInt64"},
       {"file", "String"},
       {"loaded_at", "DateTime"}},
      // processes
      WithCommon({{"snapshot", "UInt8"},
                  {"pid", "Int32"},
                  {"ppid", "Int32"},
                  {"comm", "String"},
                  {"exe", "String"},
                  {"argv", "String"},
                  {"argv_truncated", "Nullable(UInt8)"},
                  {"start_time_ns", "Nullable(UInt64)"},
                  {"threads", "Nullable(String)"},
                  {"fork_time_ns", "Nullable(UInt64)"},
                  {"exec_time_ns", "Nullable(UInt64)"},
                  {"exit_time_ns", "Nullable(UInt64)"},
                  {"exec_to_exit_ns", "Nullable(UInt64)"},
                  {"fork_to_exec_ns", "Nullable(UInt64)"},
                  {"exit_code", "Nullable(Int32)"},
                  {"exit_signal", "Nullable(Int32)"},
                  {"core_dumped", "Nullable(UInt8)"},
                  {"user_time_ns", "Nullable(UInt64)"},
                  {"system_time_ns", "Nullable(UInt64)"},
                  {"peak_rss_bytes", "Nullable(UInt64)"},
                  {"finished", "Nullable(UInt8)"},
                  {"exec_count", "Nullable(UInt32)"},
                  {"run_index", "Nullable(UInt32)"}}),
      // syscalls
      WithCommon(Concat({{"pid", "Int32"},
                         {"tid", "Int32"},
                         {"syscall", "String"},
                         {"start_time_ns", "UInt64"},
                         {"duration_ns", "UInt64"},
                         {"ret", "Int64"},
                         {"interrupted", "UInt8"},
                         {"fd", "Nullable(Int32)"},
                         {"nfds", "UInt32"},
                         {"timeout_ns", "Nullable(Int64)"},
                         {"timed_out", "UInt8"},
                         {"value", "Nullable(UInt64)"},
                         {"eventfd_flags", "UInt32"},
                         {"to_block_ns", "Nullable(UInt64)"},
                         {"blocked_ns", "Nullable(UInt64)"},
                         {"run_queue_ns", "Nullable(UInt64)"},
                         {"return_ns", "Nullable(UInt64)"},
                         {"total_blocked_ns", "Nullable(UInt64)"},
                         {"unknown_ns", "Nullable(UInt64)"},
                         {"woken", "Nullable(UInt8)"}},
                        kWaker)),
      // wakeups
      WithCommon(Concat({{"pid", "Int32"},
                         {"tid", "Int32"},
                         {"on_cpu_time_ns", "UInt64"},
                         {"cpu", "UInt32"},
                         {"off_cpu_time_ns", "UInt64"},
                         {"wake_time_ns", "UInt64"},
                         {"state", "String"},
                         {"off_cpu_ns", "UInt64"},
                         {"run_queue_ns", "UInt64"},
                         {"unknown_ns", "UInt64"}},
                        kWaker)),
      // syscall_histograms: final = 1 on the file's last (cumulative) record
      // of each (pid, syscall), the one to merge.
      WithCommon({{"pid", "Int32"},
                  {"syscall", "String"},
                  {"time_ns", "UInt64"},
                  {"count", "UInt64"},
                  {"sum_ns", "UInt64"},
                  {"min_ns", "UInt64"},
                  {"max_ns", "UInt64"},
                  {"timeouts", "UInt64"},
                  {"errors", "UInt64"},
                  {"log2_buckets", "Array(UInt64)"},
                  {"final", "UInt8"}}),
      // sched_histograms
      WithCommon({{"pid", "Int32"},
                  {"kind", "String"},
                  {"time_ns", "UInt64"},
                  {"count", "UInt64"},
                  {"sum_ns", "UInt64"},
                  {"min_ns", "UInt64"},
                  {"max_ns", "UInt64"},
                  {"log2_buckets", "Array(UInt64)"},
                  {"final", "UInt8"}}),
      // shim_calls
      WithCommon({{"pid", "Int32"},
                  {"tid", "Int32"},
                  {"function", "String"},
                  {"entry_ns", "UInt64"},
                  {"duration_ns", "UInt64"},
                  {"result", "Int64"},
                  {"fd", "Int32"},
                  {"error", "UInt32"}}),
      // markers
      WithCommon({{"pid", "Int32"},
                  {"tid", "Int32"},
                  {"type", "String"},
                  {"name", "String"},
                  {"time_ns", "UInt64"},
                  {"arg0", "Int64"},
                  {"arg1", "Int64"}}),
      // counters: one row per KindCounters of each Stats (final = 0) and the Trailer
      CounterColumns(),
  };
  return tables;
}

}  // namespace

const char* ChTableName(ChTable t) {
  static const char* const kNames[kChTables] = {
      "runs",       "processes", "syscalls", "wakeups", "syscall_histograms", "sched_histograms",
      "shim_calls", "markers",   "counters"};
  return kNames[static_cast<int>(t)];
}

const std::vector<ChColumn>& ChColumns(ChTable t) {
  static const std::vector<ChColumn>* tables = BuildColumns();
  return tables[static_cast<int>(t)];
}

bool IsPlainDatabaseName(std::string_view name) {
  if (name.empty() || name.size() > 64 || std::isdigit(static_cast<unsigned char>(name[0])))
    return false;
  for (unsigned char c : name)
    if (!std::isalnum(c) && c != '_') return false;
  return true;
}

std::string SqlString(std::string_view text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\\' || c == '\'') out += '\\';
    out += c;
  }
  return out + "'";
}

std::string CreateDatabaseSql(const std::string& db) {
  return "CREATE DATABASE IF NOT EXISTS " + db;
}

std::string CreateTableSql(const std::string& db, ChTable t) {
  std::string sql = "CREATE TABLE IF NOT EXISTS " + db + "." + ChTableName(t) + " (";
  bool first = true;
  for (const ChColumn& c : ChColumns(t)) {
    if (!first) sql += ", ";
    first = false;
    sql += c.name + " " + c.type;
  }
  // Months of wall-clock time, so a time range reads only its parts; rows of
  // one file stay together in the sort order.
  sql += ") ENGINE = MergeTree() PARTITION BY toYYYYMM(time) ORDER BY ";
  sql += t == ChTable::kRuns ? "(run_id, sequence)" : "(host, run_id, sequence, time)";
  return sql;
}

}  // namespace probe
