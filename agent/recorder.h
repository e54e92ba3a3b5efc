// One recording run: header, snapshot, drain loop, stats, trailer.
#pragma once
#include <string>
#include <vector>

#include "options.h"

namespace probe {

// Returns the agent's exit status; prints one-line errors to stderr.
int RunRecorder(const Options& options, const std::vector<std::string>& argv);

}  // namespace probe
