// An output of probe-report: a RecordVisitor fed one record at a time, in
// file order, so a file of any size streams through with bounded memory.
// Each exporter owns its output file(s). The names (and, for the HTML page,
// the whole summary) are fed by the caller before each record reaches an
// exporter, so every output names things the same way.
#pragma once
#include <memory>
#include <string>

#include "names.h"
#include "probe.pb.h"
#include "record_visitor.h"
#include "trace_summary.h"

namespace probe {

class Exporter : public RecordVisitor {
 public:
  void Add(const v1::Record& r) { Visit(r, *this); }
  // Completes the output; false with a one-line *error when it could not.
  virtual bool Finish(std::string* error) = 0;
};

// Chrome Trace Event JSON (ui.perfetto.dev, chrome://tracing): report/chrome_trace.cc.
std::unique_ptr<Exporter> MakeChromeTraceExporter(const std::string& path, const NameTable& names,
                                                  std::string* error);
// One CSV file per record kind in a directory, and the summary's syscall
// percentiles: report/csv_export.cc.
std::unique_ptr<Exporter> MakeCsvExporter(const std::string& dir, const TraceSummary& summary,
                                          std::string* error);
// A self-contained HTML page with plots, of the same summary the text
// report prints: report/html_report.cc.
std::unique_ptr<Exporter> MakeHtmlExporter(const std::string& path, const TraceSummary& summary,
                                           std::string* error);

}  // namespace probe
