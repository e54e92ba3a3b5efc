#include "version.h"

#include <unistd.h>

#include "probe_git_describe.h"  // generated at build time: PROBE_GIT_DESCRIBE

namespace probe {

std::string VersionString() {
  std::string v = PROBE_VERSION;
  std::string git = PROBE_GIT_DESCRIBE;
  if (!git.empty()) v += " (git " + git + ")";
  return v;
}

const char* BuildLibbpfVersion() { return PROBE_LIBBPF_VERSION; }

std::string VersionText(const std::string& tool, const std::string& libbpf_line) {
  const char* btf = "/sys/kernel/btf/vmlinux";
  std::string out = tool + " " + VersionString() + "\n" + libbpf_line + "\n";
  out += access(btf, R_OK) == 0
             ? std::string("kernel BTF: present (") + btf + ")\n"
             : std::string("kernel BTF: absent (no ") + btf +
                   "): probe-agent cannot load its BPF programs on this kernel\n";
  return out;
}

}  // namespace probe
