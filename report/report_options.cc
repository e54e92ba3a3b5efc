#include "report_options.h"

#include <cstdlib>

#include "cli_args.h"
#include "clickhouse_schema.h"
#include "duration.h"
#include "kinds.h"

namespace probe {

const char* ReportUsage() {
  return R"(usage: probe-report [options] FILE
       probe-report FILE... --clickhouse URL [--database NAME] [--host-name NAME]
       probe-agent -o - ... | probe-report [options] -
       probe-report --compare BASE NEW [--fail-if-slower PCT] [--json] [--html FILE]

Reads a record file of probe-agent (or of the shim's PROBE_OUTPUT) and prints
the summary: processes, syscall latency with exact histograms, scheduler
wakeups, where each slow wait's time went, the shim's user-space spans and
markers, counters and warnings. Streams the file: memory stays bounded.
FILE - reads the records from stdin.

Outputs (any number at once, besides the summary):
  --json               every record as one JSON line (protobuf JSON mapping:
                       names, argv and paths are bytes fields, so base64)
  --chrome FILE        Chrome Trace Event JSON for ui.perfetto.dev and
                       chrome://tracing: slices, markers, wakeup flows, counters
  --csv DIR            one CSV file per record kind in DIR (pandas, spreadsheets)
  --html FILE          a self-contained HTML report with plots (no network)
                       (--chrome, --csv and --html files are new files, mode
                       0600, renamed over a regular file at the path; a
                       symlink there is an error, never followed)
  --interval A..B      count, p50/p90/p99/max of the time from marker A to the
                       next marker B on the same thread (repeatable)

Loading into ClickHouse (instead of the summary): probe-report FILE... --clickhouse URL
  --clickhouse URL     load every FILE into the ClickHouse server at URL (its
                       HTTP interface, e.g. http://127.0.0.1:8123): creates the
                       database and tables if missing, one row per record;
                       a file already loaded (same run id and sequence) adds
                       nothing; prints rows per table
  --database NAME      the database (default probe; letters, digits, _)
  --host-name NAME     the host column, instead of each file's hostname
Comparison (is NEW slower than BASE, and why):
  --compare BASE NEW   set two recordings side by side: command time per run,
                       processes, syscalls, waits, scheduler, shim, spans, each
                       with a Mann-Whitney U test; where the time went first.
                       BASE and NEW are each a file of probe-agent --repeat N or
                       several files joined with commas (one run each); use 10
                       or more runs a side: p is adjusted over every figure
  --fail-if-slower PCT
                       exit 3 when any compared time is slower by more than PCT
                       percent (e.g. 10 or 10%) with p < 0.01 (Holm-adjusted
                       over the figures compared), else 0; errors exit 1 with
                       --compare
                       (with --compare, --json prints one JSON line per compared
                       figure and --html FILE writes the differential page)

Filters (apply to every output; header, stats and trailer always pass):
  --from DUR, --to DUR
                       time window since the start of the run (e.g. 1.5s,
                       200ms); it cuts the records, not the histograms, which
                       are cumulative: counts and percentiles stay the whole
                       run's
  --pid N, --tid N     only these processes / threads (repeatable)
  --comm NAME          only processes with this name (repeatable)
  --kind LIST          only these kinds, comma-separated (known: process,
                       syscall, wakeup, shim, marker; plurals accepted too)
  --progress, --no-progress
                       progress on stderr (default: when stderr is a terminal)
  -h, --help           this text
  --version            version, libbpf version, and whether the kernel has BTF

Options take their value as the next word or after '=' (--pid=1234). DUR is a
number with a unit ns, us, ms, s or m (e.g. 250us, 1.5s, 2m); a bare number is
seconds.
)";
}

namespace {

bool ParseInt(const std::string& s, int* out) {
  char* end = nullptr;
  long v = strtol(s.c_str(), &end, 10);
  if (s.empty() || *end != '\0' || v <= 0 || v > 0x7fffffff) return false;
  *out = static_cast<int>(v);
  return true;
}

}  // namespace

ReportParseResult ParseReportOptions(const std::vector<std::string>& raw_args) {
  ReportOptions o;
  bool database_given = false;
  auto fail = [](std::string msg) { return ReportParseResult{std::nullopt, std::move(msg)}; };
  static const ArgSpec spec{
      "h",
      "",
      {"--chrome", "--csv", "--html", "--interval", "--from", "--to", "--pid", "--tid", "--comm",
       "--kind", "--clickhouse", "--database", "--host-name", "--compare", "--fail-if-slower"},
      {"--json", "--progress", "--no-progress", "--help", "--version"}};
  std::vector<std::string> args;
  if (std::string error; !ExpandArgs(raw_args, spec, &args, &error)) return fail(error);
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    std::string v;
    auto value = [&]() {
      if (i + 1 >= args.size()) return false;
      v = args[++i];
      return true;
    };
    if (a == "-h" || a == "--help") {
      o.help = true;
      return {o, ""};
    } else if (a == "--version") {
      o.version = true;
      return {o, ""};
    } else if (a == "--json") {
      o.json = true;
    } else if (a == "--chrome") {
      if (!value() || v.empty()) return fail("--chrome needs a file name");
      o.chrome_path = v;
    } else if (a == "--csv") {
      if (!value() || v.empty()) return fail("--csv needs a directory");
      o.csv_dir = v;
    } else if (a == "--html") {
      if (!value() || v.empty()) return fail("--html needs a file name");
      o.html_path = v;
    } else if (a == "--interval") {
      size_t dots = value() ? v.find("..") : std::string::npos;
      if (dots == std::string::npos || dots == 0 || dots + 2 >= v.size())
        return fail("invalid --interval '" + v + "': expected A..B, e.g. BEFORE_SEND..AFTER_SEND");
      o.intervals.emplace_back(v.substr(0, dots), v.substr(dots + 2));
    } else if (a == "--from" || a == "--to") {
      uint64_t ns;
      if (!value() || !ParseDuration(v, &ns))
        return fail("invalid " + a + " '" + v + "': expected a time since the start, e.g. 1.5s");
      (a == "--from" ? o.from_ns : o.to_ns) = ns;
    } else if (a == "--pid" || a == "--tid") {
      int n;
      if (!value() || !ParseInt(v, &n)) return fail("invalid " + a + " '" + v + "'");
      (a == "--pid" ? o.pids : o.tids).insert(n);
    } else if (a == "--comm") {
      if (!value() || v.empty()) return fail("--comm needs a process name");
      o.comms.insert(v);
    } else if (a == "--kind") {
      if (!value()) return fail("--kind needs a list");
      size_t start = 0;
      while (start <= v.size()) {
        size_t comma = v.find(',', start);
        std::string name = v.substr(start, comma == std::string::npos ? comma : comma - start);
        std::string k = CanonicalKind(name);
        if (k.empty())
          return fail("unknown --kind '" + name +
                      "' (known: process, syscall, wakeup, shim, marker)");
        o.kinds.insert(k);
        if (comma == std::string::npos) break;
        start = comma + 1;
      }
    } else if (a == "--clickhouse") {
      if (!value() || v.empty())
        return fail("--clickhouse needs a URL, e.g. http://127.0.0.1:8123");
      o.clickhouse_url = v;
    } else if (a == "--database") {
      if (!value() || !IsPlainDatabaseName(v))
        return fail("invalid --database '" + v +
                    "': letters, digits and _ only, not starting with a digit");
      o.clickhouse_database = v;
      database_given = true;
    } else if (a == "--host-name") {
      if (!value() || v.empty()) return fail("--host-name needs a name");
      o.host_name = v;
    } else if (a == "--compare") {
      if (!value() || v.empty()) return fail("--compare needs two record files: BASE NEW");
      o.compare_base = v;
    } else if (a == "--fail-if-slower") {
      std::string pct = value() ? v : "";
      if (!pct.empty() && pct.back() == '%') pct.pop_back();
      char* end = nullptr;
      double d = pct.empty() ? -1 : strtod(pct.c_str(), &end);
      if (pct.empty() || *end != '\0' || !(d >= 0 && d <= 1e6))
        return fail("invalid --fail-if-slower '" + v + "': expected a percentage, e.g. 10%");
      o.fail_if_slower_pct = d;
    } else if (a == "--progress") {
      o.progress = 1;
    } else if (a == "--no-progress") {
      o.progress = 0;
    } else if (a.size() > 1 && a[0] == '-') {
      return fail("unknown option '" + a + "' (see --help)");
    } else if (!o.file.empty()) {
      o.more_files.push_back(a);
    } else {
      o.file = a;
    }
  }
  if (o.file.empty() && !o.compare_base.empty())
    return fail("--compare needs two record files: BASE NEW");
  if (o.file.empty()) return fail("no file given (see --help)");
  if (o.clickhouse_url.empty()) {
    if (!o.more_files.empty())
      return fail("only one file, got '" + o.file + "' and '" + o.more_files[0] +
                  "' (several files only with --clickhouse)");
    if (database_given || !o.host_name.empty())
      return fail("--database and --host-name go with --clickhouse");
  } else if (o.json || !o.chrome_path.empty() || !o.csv_dir.empty() || !o.html_path.empty() ||
             !o.intervals.empty() || o.from_ns || o.to_ns || !o.pids.empty() || !o.tids.empty() ||
             !o.comms.empty() || !o.kinds.empty()) {
    return fail("--clickhouse loads whole files: it does not go with other outputs or filters");
  }
  if (o.fail_if_slower_pct && o.compare_base.empty())
    return fail("--fail-if-slower needs --compare BASE NEW");
  if (!o.compare_base.empty()) {
    if (o.file == "-" || o.compare_base == "-") return fail("--compare reads files, not stdin");
    if (!o.clickhouse_url.empty() || !o.chrome_path.empty() || !o.csv_dir.empty() ||
        !o.intervals.empty() || o.from_ns || o.to_ns || !o.pids.empty() || !o.tids.empty() ||
        !o.comms.empty() || !o.kinds.empty())
      return fail("--compare takes only --fail-if-slower, --json and --html");
  }
  if (o.from_ns && o.to_ns && *o.from_ns > *o.to_ns) return fail("--from is after --to");
  return {o, ""};
}

bool IsCompareCommand(const std::vector<std::string>& args) {
  for (const std::string& a : args) {
    if (a == "--") break;
    if (a == "--compare" || a.rfind("--compare=", 0) == 0) return true;
  }
  return false;
}

}  // namespace probe
