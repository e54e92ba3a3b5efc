// Where the record file goes: a new file (RecordWriter::Create's rules), or
// with "-o -" the agent's stdout, for `probe-agent -o - -- cmd | probe-report -`.
#pragma once
#include <memory>
#include <string>

#include "options.h"
#include "record_writer.h"

namespace probe {

bool OutputIsStdout(const Options& o);

// For "-": the records get a private copy of stdout, and fd 1 itself is
// pointed at stderr, so nothing else the agent or the launched command
// prints can land inside the record stream. Refuses a terminal.
std::unique_ptr<RecordWriter> OpenOutput(const Options& o, std::string* error);

// After a failed start: removes the file this run created (never stdout,
// never a file named "-").
void DiscardOutput(const Options& o);

}  // namespace probe
