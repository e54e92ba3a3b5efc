// Command line of probe-report: a pure parser, errors as values.
#pragma once
#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

namespace probe {

struct ReportOptions {
  std::string file;         // "-": stdin
  bool json = false;        // --json: every kept record as a JSON line
  std::string chrome_path;  // --chrome FILE
  std::string csv_dir;      // --csv DIR
  std::string html_path;    // --html FILE
  std::vector<std::pair<std::string, std::string>> intervals;  // --interval A..B
  // Filters: records outside are skipped by every output.
  std::optional<uint64_t> from_ns, to_ns;  // --from/--to, since the start of the run
  std::set<int> pids, tids;                // --pid, --tid
  std::set<std::string> comms;             // --comm
  std::set<std::string> kinds;             // --kind process,syscall,wakeup,shim,marker
  int progress = -1;                       // --progress / --no-progress; -1: on a terminal
  bool help = false;
  bool version = false;  // --version
  // --clickhouse URL: load FILE and more_files into ClickHouse instead of
  // reporting (report/clickhouse_load.h); --database, --host-name go with it.
  std::string clickhouse_url;
  std::string clickhouse_database = "probe";
  std::string host_name;
  std::vector<std::string> more_files;  // after the first; only with --clickhouse
  // --compare BASE NEW (file is NEW); BASE and NEW may each be several
  // files joined with commas. --fail-if-slower PCT: exit 3 past it.
  std::string compare_base;
  std::optional<double> fail_if_slower_pct;
};

struct ReportParseResult {
  std::optional<ReportOptions> options;
  std::string error;  // one line, set when options is empty
};

ReportParseResult ParseReportOptions(const std::vector<std::string>& args);
// Whether the words ask for --compare (whose errors exit 1, not 2).
bool IsCompareCommand(const std::vector<std::string>& args);
const char* ReportUsage();

}  // namespace probe
