#include "output_stream.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace probe {

bool OutputIsStdout(const Options& o) { return o.output == "-"; }

std::unique_ptr<RecordWriter> OpenOutput(const Options& o, std::string* error) {
  if (!OutputIsStdout(o)) return RecordWriter::Create(o.output, o.force, error);
  if (isatty(STDOUT_FILENO)) {
    *error = "-o -: stdout is a terminal; pipe it (| probe-report -) or redirect it to a file";
    return nullptr;
  }
  int fd = fcntl(STDOUT_FILENO, F_DUPFD_CLOEXEC, 3);
  if (fd < 0) {
    *error = std::string("-o -: cannot use stdout: ") + strerror(errno);
    return nullptr;
  }
  if (dup2(STDERR_FILENO, STDOUT_FILENO) < 0) {
    *error = std::string("-o -: cannot point stdout at stderr: ") + strerror(errno);
    close(fd);
    return nullptr;
  }
  return RecordWriter::Adopt(fd, "stdout");
}

void DiscardOutput(const Options& o) {
  if (!OutputIsStdout(o)) unlink(o.output.c_str());
}

}  // namespace probe
