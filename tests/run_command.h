// Runs a program for tests and captures its exit status and stderr.
#pragma once
#include <string>
#include <vector>

#include "probe.pb.h"

namespace probe::testing {

struct CommandResult {
  int exit_status = -1;  // shell-style: 128+N when killed by signal N
  std::string err;
  std::string out;
};

CommandResult RunCommand(const std::vector<std::string>& argv);
// Reads every whole record of a file.
std::vector<v1::Record> ReadRecords(const std::string& path);
std::string MakeTempDir();

}  // namespace probe::testing
