#include "run_identity_format.h"

#include <cinttypes>
#include <cstdio>

#include "text_escape.h"

namespace probe {

std::string FormatRunIdentity(const v1::Header& h) {
  std::string out;
  if (!h.run_id().empty()) {
    char clocks[96];
    snprintf(clocks, sizeof(clocks), "BOOTTIME = MONOTONIC + %.6f s",
             double(h.boottime_offset_ns()) / 1e9);
    // The file is untrusted input: nothing of it reaches the terminal raw.
    out += "run " + TerminalText(h.run_id()) + ", boot " +
           (h.boot_id().empty() ? "?" : TerminalText(h.boot_id())) + ", machine " +
           (h.machine_id().empty() ? "?" : TerminalText(h.machine_id())) + ", " +
           std::to_string(h.cpu_count()) + " CPUs, " + clocks + "\n";
  }
  if (h.tags_size() > 0) {
    out += "tags:";
    for (int i = 0; i < h.tags_size(); ++i)
      out +=
          (i ? ", " : " ") + TerminalText(h.tags(i).key()) + "=" + TerminalText(h.tags(i).value());
    out += "\n";
  }
  return out;
}

}  // namespace probe
