// The ClickHouse tables probe-report --clickhouse loads: one row per record,
// named as in the CSV files (report/csv_export.cc), every row with the host,
// the run id and the file's sequence in the run, times as UInt64 ns of the
// recording's monotonic clock plus a `time` DateTime (wall clock, seconds)
// for people and time-range queries. Histograms are Array(UInt64) of log2
// bucket counts, so sumForEach merges them exactly across hosts and files.
// Only what ClickHouse has long had (MergeTree with PARTITION BY/ORDER BY,
// Nullable, Array): Debian 12's clickhouse-server 18.16 accepts it.
#pragma once
#include <string>
#include <string_view>
#include <vector>

namespace probe {

enum class ChTable {
  kRuns,  // one row per loaded file, written last: the file is loaded
  kProcesses,
  kSyscalls,
  kWakeups,
  kSyscallHistograms,
  kSchedHistograms,
  kShimCalls,
  kMarkers,
  kCounters,
};
inline constexpr int kChTables = 9;

struct ChColumn {
  std::string name;
  std::string type;
};

// "syscalls": the table's name.
const char* ChTableName(ChTable t);
// Every column of t, in order (the shared host, run_id, sequence, time first).
const std::vector<ChColumn>& ChColumns(ChTable t);

// Whether name is a plain database name ([A-Za-z0-9_]+, not starting with a
// digit): the only ones --database accepts, so no SQL quoting is needed.
bool IsPlainDatabaseName(std::string_view name);
// 'text' as a ClickHouse string literal (backslash and quote escaped).
std::string SqlString(std::string_view text);

std::string CreateDatabaseSql(const std::string& db);
// CREATE TABLE IF NOT EXISTS db.t (...) ENGINE = MergeTree() ...
std::string CreateTableSql(const std::string& db, ChTable t);

}  // namespace probe
