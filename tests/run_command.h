// Runs a program for tests and captures its exit status and stderr.
#pragma once
#include <map>
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
// A child whose stdin and stdout are pipes from the test: write to in, read
// from out, close both and reap pid when done. The test's ends are
// close-on-exec, so children started later do not hold them open. pid is
// -1 when it could not be started.
struct PipedChild {
  int pid = -1;
  int in = -1, out = -1;
};
PipedChild SpawnPiped(const std::vector<std::string>& argv);
// Reads every whole record of a file.
std::vector<v1::Record> ReadRecords(const std::string& path);
std::string MakeTempDir();
// A whole file ("" if it cannot be read), and everything up to EOF on fd.
std::string Slurp(const std::string& path);
std::string ReadToEof(int fd);
// The workloads print what they did as "key=value key=value ..." lines; this
// returns the pairs of the first line of out that starts with prefix.
std::map<std::string, std::string> ParseKeyValues(const std::string& out,
                                                  const std::string& prefix);

}  // namespace probe::testing
