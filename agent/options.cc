#include "options.h"

#include <cerrno>
#include <cstdlib>

namespace probe {

const char* UsageText() {
  return R"(usage: probe-agent [options] --pid N [--pid M ...]
       probe-agent [options] -- CMD [ARGS...]
       probe-agent [options] --all

Records process lifetimes (fork, exec, exit) of the targets into a record
file, read later with probe-report. Needs root (or CAP_BPF + CAP_PERFMON)
and a kernel with BTF (/sys/kernel/btf/vmlinux).

Targets:
  -p, --pid N          trace process N (repeatable) and its descendants
  -- CMD ARGS...       launch CMD traced from its first exec; exit with its status
  -a, --all            trace every process on the system
  --no-children        do not follow descendants of the targets

Output:
  -o, --output FILE    record file (default: probe.ptrace)
  -f, --force          overwrite FILE if it exists
  -d, --duration SEC   stop after SEC seconds (default: until SIGINT/SIGTERM
                       or until every target has exited)
  --ring-buffer SIZE   BPF ring buffer bytes, power of two, suffix K/M
                       (default: 1M)
  -h, --help           this text
)";
}

namespace {

bool ParseInt(const std::string& s, long* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  long v = strtol(s.c_str(), &end, 10);
  if (errno != 0 || *end != '\0') return false;
  *out = v;
  return true;
}

bool ParseSize(const std::string& s, uint64_t* out) {
  if (s.empty()) return false;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(s.c_str(), &end, 10);
  if (errno != 0 || end == s.c_str()) return false;
  std::string suffix(end);
  if (suffix == "K" || suffix == "k")
    v <<= 10;
  else if (suffix == "M" || suffix == "m")
    v <<= 20;
  else if (!suffix.empty())
    return false;
  *out = v;
  return true;
}

}  // namespace

ParseResult ParseOptions(const std::vector<std::string>& args) {
  Options o;
  auto fail = [](std::string msg) { return ParseResult{std::nullopt, std::move(msg)}; };
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    auto value = [&](std::string* v) {
      if (i + 1 >= args.size()) return false;
      *v = args[++i];
      return true;
    };
    std::string v;
    if (a == "--") {
      o.command.assign(args.begin() + static_cast<long>(i) + 1, args.end());
      if (o.command.empty()) return fail("'--' must be followed by a command");
      break;
    } else if (a == "-h" || a == "--help") {
      o.help = true;
      return {o, ""};
    } else if (a == "-p" || a == "--pid") {
      long pid;
      if (!value(&v)) return fail(a + " needs a process id");
      if (!ParseInt(v, &pid) || pid <= 0 || pid > 0x7fffffff)
        return fail("invalid pid '" + v + "': expected a positive integer");
      o.pids.push_back(static_cast<int>(pid));
    } else if (a == "-a" || a == "--all") {
      o.all = true;
    } else if (a == "--no-children") {
      o.follow_children = false;
    } else if (a == "-o" || a == "--output") {
      if (!value(&v) || v.empty()) return fail(a + " needs a file name");
      o.output = v;
    } else if (a == "-f" || a == "--force") {
      o.force = true;
    } else if (a == "-d" || a == "--duration") {
      if (!value(&v)) return fail(a + " needs seconds");
      char* end = nullptr;
      double d = strtod(v.c_str(), &end);
      if (end == v.c_str() || *end != '\0' || !(d > 0))
        return fail("invalid duration '" + v + "': expected seconds > 0");
      o.duration_s = d;
    } else if (a == "--ring-buffer") {
      uint64_t size;
      if (!value(&v) || !ParseSize(v, &size) || size < 4096 || (size & (size - 1)) != 0)
        return fail("invalid --ring-buffer '" + v + "': expected a power of two >= 4K");
      o.ring_buffer_bytes = size;
    } else {
      return fail("unknown option '" + a + "' (see --help)");
    }
  }
  int modes = (!o.pids.empty()) + o.all + (!o.command.empty());
  if (modes == 0) return fail("no target: give --pid N, --all, or -- CMD (see --help)");
  if (modes > 1) return fail("choose one of --pid, --all and -- CMD");
  return {o, ""};
}

}  // namespace probe
