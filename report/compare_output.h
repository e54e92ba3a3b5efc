// The outputs of probe-report --compare, all from one Comparison: the text
// (where the time went, then the table), one JSON line per figure, and the
// differential HTML page; and the command itself.
#pragma once
#include <optional>
#include <string>

#include "compare.h"
#include "report_options.h"

namespace probe {

// "+98.4 ms per run (1.47x slower, p < 0.001): 6 more processes per run
// (bash x4, pyenv, head) take 96.1 ms exec->exit", then the figures.
// pct: --fail-if-slower's threshold, to mark the figures past it.
std::string FormatCompareText(const Comparison& c, std::optional<double> pct);
// One JSON object per line per figure.
std::string FormatCompareJson(const Comparison& c, std::optional<double> pct);
// The differential page: regressions first, overlaid histograms, processes
// side by side. false with *error when the file cannot be written.
bool WriteCompareHtml(const Comparison& c, const std::string& path, std::optional<double> pct,
                      std::string* error);

// "p < 0.001", "p = 0.034"
std::string FormatP(double p);
// A figure's value: a duration, or a count with one decimal.
std::string FormatValue(const Figure& f, double v, bool exact = true);
// "+20.1 ms", "-3.0 us", "+0.5"
std::string FormatDelta(const Figure& f);
// "1.47x", "new", "gone"
std::string FormatRatio(const Figure& f);

// probe-report --compare: exit 0, 3 (--fail-if-slower exceeded) or 1.
int RunCompare(const ReportOptions& o);

}  // namespace probe
