// Command-line options of probe-agent: a pure parser, errors as values.
#pragma once
#include <optional>
#include <string>
#include <vector>

namespace probe {

struct Options {
  std::vector<int> pids;
  bool all = false;
  bool follow_children = true;
  bool force = false;
  std::string output = "probe.ptrace";
  double duration_s = 0;  // 0 = until stopped
  uint64_t ring_buffer_bytes = 1u << 20;
  std::vector<std::string> command;  // after "--"
  bool help = false;
};

struct ParseResult {
  std::optional<Options> options;
  std::string error;  // one line, set when options is empty
};

ParseResult ParseOptions(const std::vector<std::string>& args);
const char* UsageText();

}  // namespace probe
