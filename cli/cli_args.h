// GNU command-line conventions shared by probe-agent and probe-report, as a
// rewrite into the one-word-per-token form their parsers read:
// "--pid=12" -> "--pid" "12", "-af" -> "-a" "-f", "-p12" -> "-p" "12",
// "-fo FILE" -> "-f" "-o" "FILE". Nothing after "--" is touched, and the
// word after an option that takes a value is passed on as it is ("-o -").
#pragma once
#include <string>
#include <vector>

namespace probe {

struct ArgSpec {
  std::string short_flags;               // letters without a value, e.g. "afh"
  std::string short_values;              // letters that take a value, e.g. "pode"
  std::vector<std::string> long_values;  // "--pid", "--output", ...: the next word is theirs
  std::vector<std::string> long_flags;   // "--all", "--force", ...
};

// false with a one-line *error for "--flag=VALUE" on an option that takes no
// value and for an unknown letter in a bundle of short options.
bool ExpandArgs(const std::vector<std::string>& in, const ArgSpec& spec,
                std::vector<std::string>* out, std::string* error);

}  // namespace probe
