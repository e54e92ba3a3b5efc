// probe-report's text output: the summary's sections in order.
#pragma once
#include <string>

#include "trace_summary.h"

namespace probe {

// The human-readable report.
std::string FormatSummary(const TraceSummary& s);

}  // namespace probe
