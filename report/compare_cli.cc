// probe-report --compare BASE NEW: reads both sides, compares, prints, and
// says by its exit status whether NEW is slower (for CI gates).
#include <cstdio>

#include "compare_output.h"

namespace probe {

int RunCompare(const ReportOptions& o) {
  Side base, neu;
  std::string error;
  if (!LoadSide(o.compare_base, &base, &error) || !LoadSide(o.file, &neu, &error)) {
    fprintf(stderr, "probe-report: %s\n", error.c_str());
    return 1;
  }
  const Comparison c = Compare(base, neu);
  const std::string text = o.json ? FormatCompareJson(c, o.fail_if_slower_pct)
                                  : FormatCompareText(c, o.fail_if_slower_pct);
  fputs(text.c_str(), stdout);
  if (!o.html_path.empty() && !WriteCompareHtml(c, o.html_path, o.fail_if_slower_pct, &error)) {
    fprintf(stderr, "probe-report: %s\n", error.c_str());
    return 1;
  }
  if (fflush(stdout) != 0) {
    fprintf(stderr, "probe-report: cannot write the comparison to stdout\n");
    return 1;
  }
  if (!o.fail_if_slower_pct) return 0;
  for (const Figure& f : c.figures)
    if (f.SlowerBy(*o.fail_if_slower_pct)) return 3;
  return 0;
}

}  // namespace probe
