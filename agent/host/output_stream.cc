#include "output_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace probe {

bool OutputIsStdout(const Options& o) { return o.output == "-"; }

UniqueFd OpenStdoutForRecords(std::string* error) {
  if (isatty(STDOUT_FILENO)) {
    *error = "-o -: stdout is a terminal; pipe it (| probe-report -) or redirect it to a file";
    return UniqueFd();
  }
  UniqueFd fd(fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3));
  if (!fd) {
    *error = std::string("-o -: cannot use stdout: ") + strerror(errno);
    return UniqueFd();
  }
  if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    *error = std::string("-o -: cannot point stdout at stderr: ") + strerror(errno);
    return UniqueFd();
  }
  return fd;
}

}  // namespace probe
