// "-o -": the record file streamed to the agent's stdout, for
// `probe-agent -o - -- cmd | probe-report -`. Every other output is a file
// with RecordFile's rules (proto/record_file.h).
#pragma once
#include <string>

#include "options.h"
#include "unique_fd.h"

namespace probe {

bool OutputIsStdout(const Options& o);

// The records get a private copy of stdout, and fd 1 itself is pointed at
// stderr, so nothing else the agent or the launched command prints can land
// inside the record stream. Refuses a terminal. Nothing on disk is created,
// so nothing is ever removed.
UniqueFd OpenStdoutForRecords(std::string* error);

}  // namespace probe
