// probe-report --compare --json: one JSON object per line per compared
// figure, for CI dashboards and scripts.
#include <fmt/format.h>

#include <cmath>

#include "compare_output.h"
#include "json_writer.h"

namespace probe {

namespace {

void AppendNumber(std::string* out, double v) {
  if (!std::isfinite(v)) {
    out->append("null");
    return;
  }
  out->append(fmt::format("{:.6g}", v));
}

void Key(std::string* out, const char* key) {
  out->append(",\"");
  out->append(key);
  out->append("\":");
}

}  // namespace

std::string FormatCompareJson(const Comparison& c, std::optional<double> pct) {
  std::string out;
  for (const Figure& f : c.figures) {
    out.append("{\"group\":");
    AppendString(&out, GroupName(f.group));
    Key(&out, "figure");
    AppendString(&out, f.what);
    Key(&out, "measure");
    AppendString(&out, f.measure);
    Key(&out, "unit");
    AppendString(&out, f.is_time ? "ns" : "count");
    Key(&out, "base");
    AppendNumber(&out, f.base);
    Key(&out, "new");
    AppendNumber(&out, f.neu);
    Key(&out, "base_sd");
    AppendNumber(&out, f.base_sd);
    Key(&out, "new_sd");
    AppendNumber(&out, f.new_sd);
    Key(&out, "ratio");
    AppendNumber(&out, f.ratio());  // null: BASE has none
    Key(&out, "p");
    AppendNumber(&out, f.p);
    Key(&out, "raw_p");
    AppendNumber(&out, f.raw_p);
    Key(&out, "tested_figures");
    AppendUint(&out, c.tested);
    Key(&out, "test");
    AppendString(&out, f.test);
    Key(&out, "significant");
    out.append(f.significant() ? "true" : "false");
    Key(&out, "exact");
    out.append(f.base_exact && f.new_exact ? "true" : "false");
    Key(&out, "base_runs");
    AppendUint(&out, c.base_runs);
    Key(&out, "new_runs");
    AppendUint(&out, c.new_runs);
    if (pct) {
      Key(&out, "slower_than_threshold");
      out.append(f.SlowerBy(*pct) ? "true" : "false");
    }
    out.append("}\n");
  }
  return out;
}

}  // namespace probe
