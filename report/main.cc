// probe-report: streams a record file through the filters into the summary
// and any exports, with bounded memory whatever the file's size.
#include <google/protobuf/util/json_util.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cinttypes>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <vector>

#include "clickhouse_load.h"
#include "compare_output.h"
#include "exporter.h"
#include "format.h"
#include "interval_table.h"
#include "record_filter.h"
#include "record_reader.h"
#include "report_options.h"
#include "text_report.h"
#include "trace_summary.h"
#include "version.h"

namespace {

using probe::ReadStatus;

uint64_t NowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

// "\r[probe-report] 42% of 1.2 GB" on stderr, at most twice a second.
class Progress {
 public:
  Progress(bool on, uint64_t total) : on_(on && total > 0), total_(total) {}
  void Update(uint64_t done) {
    if (!on_) return;
    uint64_t now = NowNs();
    if (now < next_) return;
    next_ = now + 500000000ull;
    fprintf(stderr, "\r[probe-report] %3.0f%% of %.1f MB", 100.0 * double(done) / double(total_),
            double(total_) / 1e6);
    shown_ = true;
  }
  ~Progress() {
    if (shown_) fprintf(stderr, "\r%40s\r", "");
  }

 private:
  bool on_;
  uint64_t total_;
  uint64_t next_ = 0;
  bool shown_ = false;
};

// --comm needs each pid's name before its events: one pass to learn them.
bool LearnNames(const std::string& path, probe::RecordFilter* filter, std::string* error) {
  auto reader = probe::RecordReader::Open(path, error);
  if (!reader) return false;
  probe::v1::Record r;
  while (reader->Next(&r) == ReadStatus::kRecord) filter->LearnName(r);
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  const std::vector<std::string> args(argv + 1, argv + argc);
  auto parsed = probe::ParseReportOptions(args);
  if (!parsed.options) {
    fprintf(stderr, "probe-report: %s\n", parsed.error.c_str());
    // --compare gates CI: 0 and 3 are verdicts, every error is 1.
    return probe::IsCompareCommand(args) ? 1 : 2;
  }
  const probe::ReportOptions& o = *parsed.options;
  if (o.help) {
    fputs(probe::ReportUsage(), stdout);
    return 0;
  }
  if (o.version) {
    std::string libbpf =
        std::string("libbpf: not used by probe-report (probe-agent built against ") +
        probe::BuildLibbpfVersion() + ")";
    fputs(probe::VersionText("probe-report", libbpf).c_str(), stdout);
    return 0;
  }
  if (!o.clickhouse_url.empty()) {
    probe::ClickHouseLoadOptions load{
        o.clickhouse_url, o.clickhouse_database, o.host_name, {o.file}};
    load.files.insert(load.files.end(), o.more_files.begin(), o.more_files.end());
    return probe::LoadIntoClickHouse(load, stdout, stderr);
  }
  if (!o.compare_base.empty()) return probe::RunCompare(o);
  const bool from_stdin = o.file == "-";
  const char* path = from_stdin ? "stdin" : o.file.c_str();
  std::string error;
  if (from_stdin && !o.comms.empty()) {
    fprintf(stderr, "probe-report: --comm reads the file twice; it needs a file, not stdin\n");
    return 2;
  }
  auto reader = from_stdin ? std::make_unique<probe::RecordReader>(dup(STDIN_FILENO))
                           : probe::RecordReader::Open(o.file, &error);
  if (!reader) {
    fprintf(stderr, "probe-report: %s\n", error.c_str());
    return 1;
  }
  probe::RecordFilter filter(o);
  if (filter.needs_names() && !LearnNames(o.file, &filter, &error)) {
    fprintf(stderr, "probe-report: %s\n", error.c_str());
    return 1;
  }

  std::vector<std::unique_ptr<probe::Exporter>> exports;
  auto add_export = [&](std::unique_ptr<probe::Exporter> e) {
    if (!e) {
      fprintf(stderr, "probe-report: %s\n", error.c_str());
      return false;
    }
    exports.push_back(std::move(e));
    return true;
  };
  // One model for every output: the names, and the summary the text report
  // and the HTML page both print.
  probe::TraceSummary summary;
  summary.cut_in_time = filter.has_window();
  const bool summarize = !o.json || !o.html_path.empty() || !o.csv_dir.empty();
  if (!o.chrome_path.empty() &&
      !add_export(probe::MakeChromeTraceExporter(o.chrome_path, summary.names, &error)))
    return 1;
  if (!o.csv_dir.empty() && !add_export(probe::MakeCsvExporter(o.csv_dir, summary, &error)))
    return 1;
  if (!o.html_path.empty() && !add_export(probe::MakeHtmlExporter(o.html_path, summary, &error)))
    return 1;
  probe::IntervalTable intervals(o.intervals);

  struct stat st {};
  if (!from_stdin) stat(path, &st);
  Progress progress(o.progress == 1 || (o.progress < 0 && isatty(STDERR_FILENO)),
                    uint64_t(st.st_size));
  probe::v1::Record record;
  ReadStatus status;
  uint64_t count = 0;
  google::protobuf::util::JsonPrintOptions jopt;
  jopt.preserve_proto_field_names = true;
  while ((status = reader->Next(&record)) == ReadStatus::kRecord) {
    ++count;
    progress.Update(reader->offset());
    if (!filter.Keep(record)) {
      // Outside the time window, a process's exit record still names it
      // for the calls inside (they showed "?").
      if (filter.has_window()) probe::Visit(record, summary.names);
      continue;
    }
    if (o.json) {
      std::string out;
      google::protobuf::util::MessageToJsonString(record, &out, jopt);
      puts(out.c_str());
    }
    if (summarize)
      probe::AddRecord(record, &summary);
    else
      probe::Visit(record, summary.names);
    probe::Visit(record, intervals);
    for (auto& e : exports) probe::Visit(record, *e);
  }

  if (status == ReadStatus::kIoError && count == 0) {
    // Nothing was read (a directory, a device that refuses): not a warning,
    // and the exports are dropped unwritten.
    fprintf(stderr, "probe-report: cannot read %s: %s\n", path, reader->reason().c_str());
    return 1;
  }
  if (status == ReadStatus::kNotRecordFile) {
    // Nothing was read: the exports are dropped unwritten.
    fprintf(stderr, "probe-report: %s is not a probe record file: %s\n", path,
            reader->reason().c_str());
    return 1;
  }
  if (summary.has_header && summary.header.format_version() > probe::format::kFormatVersion)
    fprintf(stderr,
            "probe-report: warning: %s was written by a newer probe (format %u; this reads format "
            "%u): what this version does not know is skipped\n",
            path, summary.header.format_version(), probe::format::kFormatVersion);
  int rc = 0;
  for (auto& e : exports) {
    if (!e->Finish(&error)) {
      fprintf(stderr, "probe-report: %s\n", error.c_str());
      rc = 1;
    }
  }
  if (!o.json) {
    if (count > 0 && !summary.has_header) {
      fprintf(stderr, "probe-report: %s is not a probe record file (no header record)\n", path);
      return 1;
    }
    if (count > 0) {
      fputs(probe::FormatSummary(summary).c_str(), stdout);
      if (!o.intervals.empty()) fputs(intervals.Format().c_str(), stdout);
    }
  }
  if (status == ReadStatus::kEnd && count == 0) {
    fprintf(stderr, "probe-report: %s is empty\n", path);
    return 1;
  }
  if (status != ReadStatus::kEnd) {
    // Only a file cut short is still a good report of what it holds.
    const bool truncated = status == ReadStatus::kTruncated;
    fprintf(stderr, "probe-report: %s%s is %s after %" PRIu64 " records: %s\n",
            truncated ? "warning: " : "", path, probe::ReadStatusName(status), count,
            reader->reason().c_str());
    return truncated ? rc : 1;
  }
  if (!o.json && !summary.has_trailer)
    fprintf(stderr, "probe-report: warning: %s has no trailer (agent did not stop cleanly)\n",
            path);
  return rc;
}
