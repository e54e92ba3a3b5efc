// What --version prints for both tools: the version, git describe when
// built from a git checkout, the libbpf version, and whether the running
// kernel has the BTF the agent needs.
#pragma once
#include <string>

namespace probe {

// libbpf_line: e.g. "libbpf 1.1.2 (built against 1.1.2)".
std::string VersionText(const std::string& tool, const std::string& libbpf_line);

// "0.1.0" or "0.1.0 (git v0.1.0-12-gabc1234)".
std::string VersionString();

// The libbpf version the build found (pkg-config), e.g. "1.1.2".
const char* BuildLibbpfVersion();

}  // namespace probe
