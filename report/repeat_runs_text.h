// The text report's section on repeated runs (probe-agent --repeat N).
#pragma once
#include <string>

#include "repeat_runs.h"

namespace probe {

// "" when the file is not a repeated run.
std::string FormatRepeatSection(const RepeatRuns& runs);

}  // namespace probe
