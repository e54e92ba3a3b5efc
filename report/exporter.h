// An output of probe-report fed one record at a time, in file order, so a
// file of any size streams through with bounded memory. Each exporter owns
// its output file(s).
#pragma once
#include <memory>
#include <string>

#include "probe.pb.h"

namespace probe {

class Exporter {
 public:
  virtual ~Exporter() = default;
  virtual void Add(const v1::Record& r) = 0;
  // Completes the output; false with a one-line *error when it could not.
  virtual bool Finish(std::string* error) = 0;
};

// Chrome Trace Event JSON (ui.perfetto.dev, chrome://tracing): report/chrome_trace.cc.
std::unique_ptr<Exporter> MakeChromeTraceExporter(const std::string& path, std::string* error);
// One CSV file per record kind in a directory: report/csv_export.cc.
std::unique_ptr<Exporter> MakeCsvExporter(const std::string& dir, std::string* error);
// A self-contained HTML page with plots: report/html_report.cc.
std::unique_ptr<Exporter> MakeHtmlExporter(const std::string& path, std::string* error);

}  // namespace probe
