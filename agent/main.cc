#include <bpf/libbpf.h>

#include <cstdio>
#include <string>
#include <vector>

#include "options.h"
#include "recorder.h"
#include "version.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  probe::ParseResult parsed = probe::ParseOptions(args);
  if (!parsed.options) {
    fprintf(stderr, "probe-agent: %s\n", parsed.error.c_str());
    return 2;
  }
  if (parsed.options->help) {
    fputs(probe::UsageText(), stdout);
    return 0;
  }
  if (parsed.options->version) {
    std::string libbpf = std::string("libbpf ") + libbpf_version_string() + " (built against " +
                         probe::BuildLibbpfVersion() + ")";
    fputs(probe::VersionText("probe-agent", libbpf).c_str(), stdout);
    return 0;
  }
  return probe::RunRecorder(*parsed.options, std::vector<std::string>(argv, argv + argc));
}
