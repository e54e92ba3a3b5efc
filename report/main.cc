// probe-report: reads a record file and prints a summary or JSON lines.
#include <google/protobuf/util/json_util.h>

#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <string>

#include "process_table.h"
#include "record_reader.h"

namespace {

const char kUsage[] =
    "usage: probe-report [--json] FILE\n"
    "  (default)  header, per-process table, syscall latency, counters, warnings\n"
    "  --json     every record as one JSON object per line (protobuf JSON mapping)\n";

}  // namespace

int main(int argc, char** argv) {
  bool json = false;
  const char* path = nullptr;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--json"))
      json = true;
    else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
      fputs(kUsage, stdout);
      return 0;
    } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
      fprintf(stderr, "probe-report: unknown option '%s' (see --help)\n", argv[i]);
      return 2;
    } else if (path) {
      fprintf(stderr, "probe-report: only one file, got '%s' and '%s'\n", path, argv[i]);
      return 2;
    } else
      path = argv[i];
  }
  if (!path) {
    fprintf(stderr, "probe-report: no file given (see --help)\n");
    return 2;
  }
  std::string error;
  auto reader = probe::RecordReader::Open(path, &error);
  if (!reader) {
    fprintf(stderr, "probe-report: %s\n", error.c_str());
    return 1;
  }
  probe::TraceSummary summary;
  probe::v1::Record record;
  probe::ReadStatus st;
  uint64_t count = 0;
  google::protobuf::util::JsonPrintOptions jopt;
  jopt.preserve_proto_field_names = true;
  while ((st = reader->Next(&record)) == probe::ReadStatus::kRecord) {
    ++count;
    if (json) {
      std::string out;
      google::protobuf::util::MessageToJsonString(record, &out, jopt);
      puts(out.c_str());
    } else {
      probe::AddRecord(record, &summary);
    }
  }
  if (!json) {
    if (count > 0 && !summary.has_header) {
      fprintf(stderr, "probe-report: %s is not a probe record file (no header record)\n", path);
      return 1;
    }
    fputs(probe::FormatSummary(summary).c_str(), stdout);
  }
  if (st == probe::ReadStatus::kEnd && count == 0) {
    fprintf(stderr, "probe-report: %s is empty\n", path);
    return 1;
  }
  if (st != probe::ReadStatus::kEnd) {
    fprintf(stderr, "probe-report: warning: %s is %s after %" PRIu64 " records: %s\n", path,
            probe::ReadStatusName(st), count, reader->reason().c_str());
    return st == probe::ReadStatus::kTruncated ? 0 : 1;
  }
  if (!json && !summary.has_trailer)
    fprintf(stderr, "probe-report: warning: %s has no trailer (agent did not stop cleanly)\n",
            path);
  return 0;
}
