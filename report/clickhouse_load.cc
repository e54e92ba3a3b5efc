#include "clickhouse_load.h"

#include <unistd.h>

#include <chrono>
#include <cinttypes>
#include <memory>
#include <thread>

#include "clickhouse_http.h"
#include "clickhouse_rows.h"
#include "clickhouse_schema.h"
#include "clickhouse_tsv.h"
#include "format.h"
#include "record_extent.h"
#include "record_kind.h"
#include "record_reader.h"
#include "text_escape.h"

namespace probe {
namespace {

// Where the file's run ends: the trailer's time and stop reason; without a
// trailer (a cut file), the latest time of any record, stats included.
class RunEnd : public RecordVisitor {
 public:
  explicit RunEnd(ChFileEnd* end) : end_(end) {}
  void See(const v1::Record& r) {
    if (!has_trailer_) {
      const RecordExtent e = ExtentOf(r);
      if (e.timed) end_->end_time_ns = std::max(end_->end_time_ns, e.end);
    }
    Visit(r, *this);
  }
  void OnTrailer(const v1::Trailer& t) override {
    has_trailer_ = true;
    end_->end_time_ns = t.time_ns();
    end_->stop_reason = t.stop_reason();
  }
  void OnStats(const v1::Stats& s) override {
    if (!has_trailer_) end_->end_time_ns = std::max(end_->end_time_ns, s.time_ns());
  }
  bool has_trailer() const { return has_trailer_; }

 private:
  ChFileEnd* end_;
  bool has_trailer_ = false;
};

// A table's rows are sent once they reach kBatchBytes, and the largest
// table's once all together reach kHeldBytes: that bounds the memory,
// whatever the file's size. Large batches because each INSERT costs the
// server a new part (about 0.2 s on these VMs whatever its size: 30k-row
// batches loaded 3.3 times slower than one 200k-row INSERT).
constexpr size_t kBatchBytes = 32 << 20;
constexpr size_t kHeldBytes = 48 << 20;

// Rows of one file, sent per table in batches; the first error stops the
// sending and is kept.
class BatchSink : public ChRowSink {
 public:
  BatchSink(ClickHouseHttp& http, const std::string& db) : http_(http), db_(db) {}

  std::string& Row(ChTable t) override { return buf_[int(t)]; }
  void RowDone(ChTable t) override {
    ++rows_[int(t)];
    if (buf_[int(t)].size() >= kBatchBytes) return Send(t);
    size_t held = 0, largest = 0;
    for (int i = 0; i < kChTables; ++i) {
      held += buf_[i].size();
      if (buf_[i].size() > buf_[largest].size()) largest = i;
    }
    if (held >= kHeldBytes) Send(ChTable(largest));
  }
  bool Flush() {
    for (int i = 0; i < kChTables; ++i) Send(ChTable(i));
    return error_.empty();
  }
  uint64_t rows(ChTable t) const { return rows_[int(t)]; }
  const std::string& error() const { return error_; }

 private:
  void Send(ChTable t) {
    std::string& b = buf_[int(t)];
    if (!b.empty() && error_.empty())
      http_.InsertRows(db_ + "." + ChTableName(t) + " (" + ChColumnList(t) + ")", b, &error_);
    b.clear();
  }

  ClickHouseHttp& http_;
  const std::string& db_;
  std::string buf_[kChTables];
  uint64_t rows_[kChTables] = {};
  std::string error_;
};

std::string FileWhere(const ChFileIdentity& id) {
  return " WHERE run_id = " + SqlString(id.run_id) +
         " AND sequence = " + std::to_string(id.sequence);
}

// The number a "SELECT count() ..." answered; false with *error otherwise.
bool QueryCount(ClickHouseHttp& http, const std::string& sql, uint64_t* n, std::string* error) {
  std::string out;
  if (!http.Query(sql, &out, error)) return false;
  char* end = nullptr;
  *n = strtoull(out.c_str(), &end, 10);
  if (end == out.c_str()) {
    *error =
        "unexpected answer from ClickHouse to '" + sql.substr(0, 60) + "...': " + out.substr(0, 80);
    return false;
  }
  return true;
}

// Rows of this file from an earlier load that stopped before its runs row:
// removed (ClickHouse mutations), waiting until they are gone.
bool RemoveLeftovers(ClickHouseHttp& http, const std::string& db, const ChFileIdentity& id,
                     uint64_t* removed, std::string* error) {
  *removed = 0;
  for (int i = 1; i < kChTables; ++i) {
    const std::string table = db + "." + ChTableName(ChTable(i));
    uint64_t n = 0;
    if (!QueryCount(http, "SELECT count() FROM " + table + FileWhere(id), &n, error)) return false;
    if (n == 0) continue;
    *removed += n;
    if (!http.Query("ALTER TABLE " + table + " DELETE" + FileWhere(id), nullptr, error))
      return false;
  }
  if (*removed == 0) return true;
  for (int tries = 0; tries < 600; ++tries) {  // a minute
    uint64_t pending = 0;
    if (!QueryCount(http,
                    "SELECT count() FROM system.mutations WHERE database = " + SqlString(db) +
                        " AND is_done = 0",
                    &pending, error))
      return false;
    if (pending == 0) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  *error =
      "rows of an earlier, unfinished load of this file were still being removed after a minute";
  return false;
}

uint64_t NowSeconds() {
  return static_cast<uint64_t>(std::chrono::duration_cast<std::chrono::seconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count());
}

std::string RowsText(const BatchSink& sink, uint64_t runs) {
  std::string s = "runs " + std::to_string(runs);
  for (int i = 1; i < kChTables; ++i)
    s += ", " + std::string(ChTableName(ChTable(i))) + " " + std::to_string(sink.rows(ChTable(i)));
  return s;
}

enum class FileResult { kLoaded, kAlreadyLoaded, kBadFile, kServerError };

FileResult LoadFile(ClickHouseHttp& http, const ClickHouseLoadOptions& o, const std::string& path,
                    FILE* out, FILE* err) {
  const bool from_stdin = path == "-";
  // Paths and hosts are shown as the terminal may see them.
  const std::string name = from_stdin ? "stdin" : TerminalText(path);
  std::string error;
  auto reader = from_stdin ? std::make_unique<RecordReader>(dup(STDIN_FILENO))
                           : RecordReader::Open(path, &error);
  if (!reader) {
    fprintf(err, "probe-report: %s\n", error.c_str());
    return FileResult::kBadFile;
  }
  v1::Record record;
  ReadStatus status = reader->Next(&record);
  if (status != ReadStatus::kRecord || !IsHeader(record)) {
    if (status == ReadStatus::kEnd)
      fprintf(err, "probe-report: %s is empty\n", name.c_str());
    else
      fprintf(err, "probe-report: %s is not a probe record file: %s\n", name.c_str(),
              status == ReadStatus::kRecord ? "no header record" : reader->reason().c_str());
    return FileResult::kBadFile;
  }
  const v1::Header header = record.header();
  if (header.format_version() > format::kFormatVersion)
    fprintf(err,
            "probe-report: warning: %s was written by a newer probe (format %u; this reads "
            "format %u): what this version does not know is not loaded\n",
            name.c_str(), header.format_version(), format::kFormatVersion);
  const ChFileIdentity id = IdentityOf(header, o.host_name);
  const std::string what = name + " (host " + TerminalText(id.host) + ", run " +
                           TerminalText(id.run_id) + ", sequence " + std::to_string(id.sequence) +
                           ")";
  uint64_t loaded = 0, removed = 0;
  if (!QueryCount(http, "SELECT count() FROM " + o.database + ".runs" + FileWhere(id), &loaded,
                  &error) ||
      (loaded == 0 && !RemoveLeftovers(http, o.database, id, &removed, &error))) {
    fprintf(err, "probe-report: %s\n", error.c_str());
    return FileResult::kServerError;
  }
  if (loaded > 0) {
    fprintf(out, "probe-report: %s already loaded into %s: 0 rows added\n", what.c_str(),
            o.database.c_str());
    return FileResult::kAlreadyLoaded;
  }
  if (removed > 0)
    fprintf(out,
            "probe-report: %s: removed %" PRIu64 " rows of an earlier load that did not finish\n",
            what.c_str(), removed);

  NameTable names;
  BatchSink sink(http, o.database);
  ClickHouseRows rows(id, names, sink);
  ChFileEnd end;
  end.records = 1;
  RunEnd run_end(&end);
  while ((status = reader->Next(&record)) == ReadStatus::kRecord) {
    ++end.records;
    Visit(record, names);
    Visit(record, rows);
    run_end.See(record);
    if (!sink.error().empty()) break;
  }
  const bool has_trailer = run_end.has_trailer();
  rows.Finish();
  if (!sink.Flush()) {
    fprintf(err, "probe-report: %s: %s\n", name.c_str(), sink.error().c_str());
    return FileResult::kServerError;
  }
  if (status == ReadStatus::kIoError) {
    // Not a property of the file: no runs row, so the next load redoes it.
    fprintf(err, "probe-report: %s: %s after %" PRIu64 " records: %s (not marked loaded)\n",
            name.c_str(), ReadStatusName(status), end.records, reader->reason().c_str());
    return FileResult::kBadFile;
  }
  end.read_status = status == ReadStatus::kEnd         ? "end"
                    : status == ReadStatus::kTruncated ? "truncated"
                                                       : "corrupt";
  end.cut = status != ReadStatus::kEnd || !has_trailer;
  end.file_bytes = reader->offset();
  end.file = from_stdin ? "-" : path;
  end.loaded_at_s = NowSeconds();
  std::string runs_row;
  AppendRunsRow(header, id, end, &runs_row);
  if (!http.InsertRows(o.database + ".runs (" + ChColumnList(ChTable::kRuns) + ")", runs_row,
                       &error)) {
    fprintf(err, "probe-report: %s: %s\n", name.c_str(), error.c_str());
    return FileResult::kServerError;
  }
  fprintf(out, "probe-report: loaded %s into %s: %s rows\n", what.c_str(), o.database.c_str(),
          RowsText(sink, 1).c_str());
  if (end.cut)
    fprintf(err,
            "probe-report: warning: %s is cut off (%s after %" PRIu64
            " records%s): its whole records are loaded, marked cut in runs\n",
            name.c_str(), status == ReadStatus::kEnd ? "no trailer" : ReadStatusName(status),
            end.records, status == ReadStatus::kEnd ? "" : (": " + reader->reason()).c_str());
  return status == ReadStatus::kCorrupt ? FileResult::kBadFile : FileResult::kLoaded;
}

}  // namespace

int LoadIntoClickHouse(const ClickHouseLoadOptions& o, FILE* out, FILE* err) {
  std::string error;
  auto http = ClickHouseHttp::Open(o.url, &error);
  if (!http) {
    fprintf(err, "probe-report: %s\n", error.c_str());
    return 2;
  }
  if (!http->Query(CreateDatabaseSql(o.database), nullptr, &error)) {
    fprintf(err, "probe-report: %s\n", error.c_str());
    return 1;
  }
  for (int i = 0; i < kChTables; ++i) {
    if (!http->Query(CreateTableSql(o.database, ChTable(i)), nullptr, &error)) {
      fprintf(err, "probe-report: %s\n", error.c_str());
      return 1;
    }
  }
  int rc = 0;
  for (const std::string& path : o.files) {
    switch (LoadFile(*http, o, path, out, err)) {
      case FileResult::kLoaded:
      case FileResult::kAlreadyLoaded:
        break;
      case FileResult::kBadFile:
        rc = 1;
        break;
      case FileResult::kServerError:
        return 1;  // the next files would fail the same way
    }
  }
  return rc;
}

}  // namespace probe
