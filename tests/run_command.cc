#include "run_command.h"

#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>

#include "record_reader.h"

namespace probe::testing {

namespace {}  // namespace

std::string Slurp(const std::string& path) {
  std::ifstream f(path);
  std::stringstream ss;
  ss << f.rdbuf();
  return ss.str();
}

std::string ReadToEof(int fd) {
  std::string s;
  char buf[65536];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof(buf));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    s.append(buf, size_t(n));
  }
  return s;
}

std::string MakeTempDir() {
  char tmpl[] = "/tmp/probe_test_XXXXXX";
  return mkdtemp(tmpl);
}

CommandResult RunCommand(const std::vector<std::string>& argv) {
  std::string dir = MakeTempDir();
  std::string out_path = dir + "/out", err_path = dir + "/err";
  pid_t pid = fork();
  if (pid == 0) {
    int o = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    int e = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    dup2(o, 1);
    dup2(e, 2);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  int st = 0;
  waitpid(pid, &st, 0);
  CommandResult r;
  r.exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
  r.out = Slurp(out_path);
  r.err = Slurp(err_path);
  (void)!system(("rm -rf " + dir).c_str());
  return r;
}

PipedChild SpawnPiped(const std::vector<std::string>& argv) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return {};
  if (pipe2(out, O_CLOEXEC) != 0) {
    close(in[0]);
    close(in[1]);
    return {};
  }
  pid_t pid = fork();
  if (pid == 0) {
    dup2(in[0], 0);  // dup2 leaves the copies open across exec
    dup2(out[1], 1);
    std::vector<char*> args;
    for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    execvp(args[0], args.data());
    _exit(127);
  }
  close(in[0]);
  close(out[1]);
  if (pid < 0) {
    close(in[1]);
    close(out[0]);
    return {};
  }
  return {pid, in[1], out[0]};
}

std::vector<v1::Record> ReadRecords(const std::string& path) {
  std::vector<v1::Record> out;
  std::string err;
  auto reader = RecordReader::Open(path, &err);
  if (!reader) return out;
  v1::Record r;
  while (reader->Next(&r) == ReadStatus::kRecord) out.push_back(r);
  return out;
}

std::map<std::string, std::string> ParseKeyValues(const std::string& out,
                                                  const std::string& prefix) {
  std::map<std::string, std::string> m;
  std::istringstream lines(out);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.rfind(prefix, 0) != 0) continue;
    std::istringstream words(line);
    std::string w;
    while (words >> w) {
      auto eq = w.find('=');
      if (eq != std::string::npos) m[w.substr(0, eq)] = w.substr(eq + 1);
    }
    break;
  }
  return m;
}

}  // namespace probe::testing
