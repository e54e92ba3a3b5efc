#include "options.h"

#include <cctype>
#include <cerrno>
#include <cstdlib>

#include "cli_args.h"
#include "kinds.h"

namespace probe {

const char* UsageText() {
  return R"(usage: probe-agent [options] --pid N [--pid M ...]
       probe-agent [options] -- CMD [ARGS...]
       probe-agent [options] --all

Records what the targets do into a record file, read later with
probe-report: process lifetimes (fork, exec, exit) and the latency of their
select/poll/epoll waits and eventfd operations, with exact histograms.
Needs root (or CAP_BPF + CAP_PERFMON) and a kernel with BTF
(/sys/kernel/btf/vmlinux).

Targets:
  -p, --pid N          trace process N (repeatable) and its descendants
  -- CMD ARGS...       launch CMD traced from its first exec; exit with its
                       status if it ends by itself, 0 if the agent stops it
                       (SIGINT, SIGTERM, --duration)
  --repeat N           run CMD N times (1 to 1000000), one after another, each
                       traced from its first exec, into one file; a run ends
                       when its last process exits (probe-report: the time
                       per run, mean, standard deviation, median, min, max);
                       exit 0 if every run succeeded, else the status of the
                       first failed run, with one line naming the failed runs
  --repeat-delay DUR   pause DUR between two runs (default: 0)
  -a, --all            trace every process on the system
  --no-children        do not follow descendants of the targets

Events:
  -e, --events LIST    kinds to trace, comma-separated (default: all; known:
                       process, syscall, wakeup; plurals accepted too):
                         process   fork/exec/exit of each target process
                         syscall   select, pselect6, poll, ppoll, epoll_wait,
                                   epoll_pwait, epoll_pwait2, eventfd, eventfd2,
                                   and read/write/readv/writev on eventfds
                         wakeup    each time a target thread is back on a CPU:
                                   how it left, who woke it and in which
                                   syscall, run-queue delay; with syscall,
                                   the breakdown of every blocked syscall
  --no-waker-context   do not track interrupt, softirq and timer context (a
                       waker is then the task on its CPU, whatever ran)
Sampling (decided in the kernel before a record takes ring-buffer space;
histograms and counters stay exact, process records are never sampled, and
the header and stats records say what was in force):
  --min-latency [KIND=]DUR[,...]
                       per-call records only for calls lasting at least DUR
                       (e.g. 500us, 2ms); KIND syscall (the default) or shim
  --sample KIND=1/N[,...]
                       keep 1 event in N (syscall, wakeup, shim), chosen
                       pseudo-randomly in the kernel (every Nth call of a thread in the shim)
  --first KIND=K/s[,...]
                       keep only the first K records per (process, syscall)
                       per second (syscall, wakeup; shim: per function)
  --max-rate N/s       at most N records per second in all, kernel and shim (token
                       bucket, burst N/10), e.g. 200k/s; the rest counted
  --sample-seed N      seed of the kernel's 1-in-N choice (default: 1)
  --drain-delay DUR    sleep DUR after each drain of the ring buffer: a slow
                       consumer on purpose, to see losses counted (testing)
  --histogram-interval DUR
                       how often histograms are written (default: 5s)

User space (the LD_PRELOAD shim, preload/README.md):
  --preload            launch CMD with libprobe_preload.so in LD_PRELOAD: its
                       select/poll/epoll/eventfd calls timed in user space and
                       its probe.h markers, on the kernel's timeline, in FILE.
                       Targets that loaded the shim by hand are always read.
                       Shim settings come from the environment: PROBE_FUNCTIONS,
                       PROBE_SAMPLE, PROBE_MIN_DURATION, PROBE_BUFFER_EVENTS,
                       PROBE_THREADS
  --preload-library PATH
                       the shim to use; implies --preload (default: PREFIX/
                       lib/probe/libprobe_preload.so of an installed
                       PREFIX/bin/probe-agent, or the build tree's preload/)

Output:
  -o, --output FILE    record file (default: probe.ptrace); - streams it to
                       stdout (status, summary and the command's own stdout
                       go to stderr then)
  -f, --force          overwrite FILE if it exists
  -d, --duration DUR   stop after DUR (default: until SIGINT/SIGTERM or until
                       every target has exited)
  --tag KEY=VALUE      a label kept in the file's header (repeatable)
  --rotate DUR|SIZE    a long-running service: close the file every DUR
                       (>= 100ms; e.g. 60s, 5m, 1h) or once it holds SIZE
                       (>= 64K; suffix K, M or G: MiB is M, minutes m) and go
                       on in the next: FILE.000001, FILE.000002, ... each a
                       whole recording with its own header, snapshot,
                       counters, histograms and trailer; written as
                       FILE.NNNNNN.part and renamed once complete
  --keep N             with --rotate: at most N closed files stay; older
                       ones this run wrote are removed (never another file)
  --ring-buffer SIZE   BPF ring buffer bytes, power of two, suffix K/M
                       (default: 1M); each ring buffer has this size
  --ring-buffers N|auto|per-cpu
                       ring buffers sharded by CPU (at most 64): CPUs that
                       share one serialise on its lock, each costs SIZE
                       (default auto: one per 4 CPUs)
  --keep-privileges    keep root and every capability for the whole run
                       (default: once attached, drop to the sudo user if
                       any, keep only the capabilities the run still needs,
                       and set no_new_privs)
  -h, --help           this text
  --version            version, libbpf version, and whether the kernel has BTF

Options take their value as the next word or after '=' (--pid=1234); short
flags bundle (-fo FILE, -p1234). DUR is a number with a unit ns, us, ms, s or
m (e.g. 250us, 1.5s, 2m); a bare number is seconds.
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

// --rotate: a size when it ends in K, M or G (k too), else a duration with
// its unit (a bare number is refused: seconds or bytes?), h for hours.
bool ParseRotate(const std::string& s, uint64_t* ns, uint64_t* bytes) {
  if (s.empty() || !isdigit(static_cast<unsigned char>(s[0]))) return false;
  const char unit = s.back();
  if (unit == 'K' || unit == 'k' || unit == 'M' || unit == 'G') {
    char* end = nullptr;
    errno = 0;
    unsigned long long v = strtoull(s.c_str(), &end, 10);
    if (errno != 0 || end != s.c_str() + s.size() - 1 || v > (1ull << 40)) return false;
    *bytes = v << (unit == 'G' ? 30 : unit == 'M' ? 20 : 10);
    return *bytes >= (64u << 10);
  }
  if (isdigit(static_cast<unsigned char>(unit))) return false;
  if (unit == 'h') {
    uint64_t minutes = 0;
    if (!ParseDuration(s.substr(0, s.size() - 1) + "m", &minutes)) return false;
    *ns = minutes * 60;
  } else if (!ParseDuration(s, ns)) {
    return false;
  }
  return *ns >= 100000000ull;
}

// "KIND=VALUE,KIND=VALUE" -> calls set(kind, value); false with *bad naming
// the first item set refused.
template <typename Set>
bool ForEachKindValue(const std::string& list, Set set, std::string* bad) {
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string item = list.substr(start, comma == std::string::npos ? comma : comma - start);
    size_t eq = item.find('=');
    if (eq == std::string::npos || !set(item.substr(0, eq), item.substr(eq + 1))) {
      *bad = item;
      return false;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return true;
}

// "1/100", "100" -> 100.
bool ParseOneIn(const std::string& s, uint32_t* n) {
  std::string v = s.rfind("1/", 0) == 0 ? s.substr(2) : s;
  long x;
  if (!ParseInt(v, &x) || x < 1 || x > (1l << 30)) return false;
  *n = uint32_t(x);
  return true;
}

// "200k/s", "1M/s", "5000", "100/s" -> per second.
bool ParseRate(const std::string& s, uint64_t* per_s) {
  std::string v = s;
  if (v.size() > 2 && v.compare(v.size() - 2, 2, "/s") == 0) v.resize(v.size() - 2);
  uint64_t scale = 1;
  if (!v.empty() && (v.back() == 'k' || v.back() == 'K')) scale = 1000;
  if (!v.empty() && v.back() == 'M') scale = 1000000;
  if (scale > 1) v.pop_back();
  long x;
  if (!ParseInt(v, &x) || x < 1 || uint64_t(x) > (1ull << 32)) return false;
  *per_s = uint64_t(x) * scale;
  return true;
}

bool ParseEvents(const std::string& list, Options* o, std::string* bad) {
  o->trace_process = o->trace_syscalls = o->trace_wakeups = false;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    std::string name = list.substr(start, comma == std::string::npos ? comma : comma - start);
    std::string kind = CanonicalKind(name);
    if (kind == "process") {
      o->trace_process = true;
    } else if (kind == "syscall") {
      o->trace_syscalls = true;
    } else if (kind == "wakeup") {
      o->trace_wakeups = true;
    } else {
      *bad = name;
      return false;
    }
    if (comma == std::string::npos) break;
    start = comma + 1;
  }
  return true;
}

}  // namespace

std::vector<std::string> EventNames(const Options& o) {
  std::vector<std::string> out;
  if (o.trace_process) out.push_back("process");
  if (o.trace_syscalls) out.push_back("syscalls");
  if (o.trace_wakeups) out.push_back("wakeups");
  return out;
}

namespace {

const ArgSpec& AgentArgSpec() {
  static const ArgSpec spec{
      "afh",
      "pode",
      {"--pid", "--output", "--duration", "--ring-buffer", "--ring-buffers", "--events",
       "--min-latency", "--sample", "--first", "--max-rate", "--drain-delay", "--sample-seed",
       "--preload-library", "--histogram-interval", "--tag", "--repeat", "--repeat-delay",
       "--rotate", "--keep"},
      {"--all", "--no-children", "--force", "--keep-privileges", "--preload", "--help",
       "--version"}};
  return spec;
}

// KEY=VALUE, KEY a short identifier, both valid UTF-8 without control bytes:
// they go into the header as protobuf strings and are printed by the report.
bool ValidTag(const std::string& key, const std::string& value) {
  if (key.empty() || key.size() > 64 || value.size() > 1024) return false;
  for (char c : key)
    if (!(isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.')) return false;
  for (size_t i = 0; i < value.size();) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > value.size() || (n == 1 && (c < 0x20 || c == 0x7f))) return false;
    for (size_t j = 1; j < n; ++j)
      if ((static_cast<unsigned char>(value[i + j]) >> 6) != 2) return false;
    i += n;
  }
  return true;
}

}  // namespace

ParseResult ParseOptions(const std::vector<std::string>& raw_args) {
  Options o;
  auto fail = [](std::string msg) { return ParseResult{std::nullopt, std::move(msg)}; };
  std::vector<std::string> args;
  if (std::string error; !ExpandArgs(raw_args, AgentArgSpec(), &args, &error)) return fail(error);
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
    } else if (a == "--version") {
      o.version = true;
      return {o, ""};
    } else if (a == "--tag") {
      size_t eq = value(&v) ? v.find('=') : std::string::npos;
      if (eq == std::string::npos || !ValidTag(v.substr(0, eq), v.substr(eq + 1)))
        return fail("invalid --tag '" + v +
                    "': expected KEY=VALUE, KEY of letters, digits, _ - . (at most 64), "
                    "VALUE printable UTF-8 (at most 1024 bytes)");
      o.tags.emplace_back(v.substr(0, eq), v.substr(eq + 1));
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
    } else if (a == "--no-waker-context") {
      o.waker_context = false;
    } else if (a == "-o" || a == "--output") {
      if (!value(&v) || v.empty()) return fail(a + " needs a file name");
      o.output = v;
    } else if (a == "-f" || a == "--force") {
      o.force = true;
    } else if (a == "--keep-privileges") {
      o.keep_privileges = true;
    } else if (a == "-d" || a == "--duration") {
      uint64_t ns = 0;
      if (!value(&v)) return fail(a + " needs a duration");
      if (!ParseDuration(v, &ns) || ns == 0)
        return fail("invalid duration '" + v + "': expected a duration > 0 such as 10s or 2m");
      o.duration_s = double(ns) / 1e9;
    } else if (a == "--ring-buffer") {
      uint64_t size;
      if (!value(&v) || !ParseSize(v, &size) || size < 4096 || (size & (size - 1)) != 0)
        return fail("invalid --ring-buffer '" + v + "': expected a power of two >= 4K");
      o.ring_buffer_bytes = size;
    } else if (a == "--ring-buffers") {
      long n = 0;
      if (!value(&v) || !(v == "auto" || v == "per-cpu" || (ParseInt(v, &n) && n >= 1 && n <= 64)))
        return fail("invalid --ring-buffers '" + v + "': expected 1..64, auto or per-cpu");
      o.ring_buffers = v == "auto" ? 0 : v == "per-cpu" ? 64 : uint32_t(n);  // 64: one per CPU
    } else if (a == "-e" || a == "--events") {
      std::string bad;
      if (!value(&v)) return fail(a + " needs a list such as process,syscall");
      if (!ParseEvents(v, &o, &bad))
        return fail("unknown event kind '" + bad + "' in " + a +
                    " (known: process, syscall, wakeup)");
    } else if (a == "--min-latency") {
      std::string bad;
      auto set = [&](const std::string& kind, const std::string& dur) {
        if (CanonicalKind(kind) == "syscall") return ParseDuration(dur, &o.min_latency_ns);
        if (CanonicalKind(kind) == "shim") return ParseDuration(dur, &o.shim_min_latency_ns);
        return false;
      };
      if (!value(&v) || (v.find('=') == std::string::npos ? !ParseDuration(v, &o.min_latency_ns)
                                                          : !ForEachKindValue(v, set, &bad)))
        return fail("invalid --min-latency '" + v +
                    "': expected a duration such as 500us, or syscall=2ms,shim=10us");
    } else if (a == "--sample") {
      std::string bad;
      auto set = [&](const std::string& kind, const std::string& n) {
        std::string k = CanonicalKind(kind);
        if (k == "syscall") return ParseOneIn(n, &o.syscalls_one_in);
        if (k == "wakeup") return ParseOneIn(n, &o.wakeups_one_in);
        if (k == "shim") return ParseOneIn(n, &o.shim_one_in);
        return false;
      };
      if (!value(&v) || !ForEachKindValue(v, set, &bad))
        return fail("invalid --sample '" + bad +
                    "': expected KIND=1/N with KIND syscall, "
                    "wakeup or shim (process records are never sampled)");
    } else if (a == "--first") {
      std::string bad;
      auto set = [&](const std::string& kind, const std::string& rate) {
        uint64_t per_s;
        if (!ParseRate(rate, &per_s) || per_s > 0xffffffffu) return false;
        std::string k = CanonicalKind(kind);
        if (k == "syscall")
          o.syscalls_first_per_s = uint32_t(per_s);
        else if (k == "wakeup")
          o.wakeups_first_per_s = uint32_t(per_s);
        else if (k == "shim")
          o.shim_first_per_s = uint32_t(per_s);
        else
          return false;
        return true;
      };
      if (!value(&v) || !ForEachKindValue(v, set, &bad))
        return fail("invalid --first '" + bad +
                    "': expected KIND=K/s with KIND syscall, wakeup "
                    "or shim, e.g. syscall=100/s");
    } else if (a == "--max-rate") {
      if (!value(&v) || !ParseRate(v, &o.max_records_per_s))
        return fail("invalid --max-rate '" + v + "': expected records per second, e.g. 200k/s");
    } else if (a == "--drain-delay") {
      if (!value(&v) || !ParseDuration(v, &o.drain_delay_ns) || o.drain_delay_ns > 10000000000ull)
        return fail("invalid --drain-delay '" + v + "': expected a duration up to 10s");
    } else if (a == "--sample-seed") {
      long seed;
      if (!value(&v) || !ParseInt(v, &seed) || seed < 0)
        return fail("invalid --sample-seed '" + v + "': expected a non-negative integer");
      o.sample_seed = uint64_t(seed);
    } else if (a == "--preload") {
      o.preload = true;
    } else if (a == "--preload-library") {
      if (!value(&v) || v.empty()) return fail(a + " needs the path of libprobe_preload.so");
      o.preload = true;
      o.preload_library = v;
    } else if (a == "--repeat") {
      long n = 0;
      if (!value(&v) || !ParseInt(v, &n) || n < 1 || n > 1000000)
        return fail("invalid --repeat '" + v + "': expected a number of runs from 1 to 1000000");
      o.repeat = uint32_t(n);
    } else if (a == "--repeat-delay") {
      if (!value(&v) || !ParseDuration(v, &o.repeat_delay_ns) ||
          o.repeat_delay_ns > 3600000000000ull)
        return fail("invalid --repeat-delay '" + v + "': expected a duration up to 1h, e.g. 100ms");
    } else if (a == "--histogram-interval") {
      if (!value(&v) || !ParseDuration(v, &o.histogram_interval_ns) ||
          o.histogram_interval_ns < 100000000ull)
        return fail("invalid --histogram-interval '" + v + "': expected a duration >= 100ms");
    } else if (a == "--rotate") {
      o.rotate_ns = o.rotate_bytes = 0;
      if (!value(&v) || !ParseRotate(v, &o.rotate_ns, &o.rotate_bytes))
        return fail("invalid --rotate '" + v +
                    "': expected a duration >= 100ms such as 60s, 5m or 1h, or a size >= 64K "
                    "such as 256M");
    } else if (a == "--keep") {
      long n = 0;
      if (!value(&v) || !ParseInt(v, &n) || n < 1 || n > 1000000)
        return fail("invalid --keep '" + v + "': expected a number of files >= 1");
      o.keep_files = uint32_t(n);
    } else {
      return fail("unknown option '" + a + "' (see --help)");
    }
  }
  int modes = (!o.pids.empty()) + o.all + (!o.command.empty());
  if (modes == 0) return fail("no target: give --pid N, --all, or -- CMD (see --help)");
  if (modes > 1) return fail("choose one of --pid, --all and -- CMD");
  const bool rotate = o.rotate_ns > 0 || o.rotate_bytes > 0;
  if (o.keep_files > 0 && !rotate) return fail("--keep needs --rotate");
  if (rotate && o.output == "-")
    return fail("--rotate needs a file name to number (-o FILE), not - (stdout)");
  if (o.preload && o.command.empty())
    return fail(
        "--preload needs a command to launch (-- CMD); a running process must be "
        "started with LD_PRELOAD=libprobe_preload.so itself");
  if (o.repeat > 0 && o.command.empty()) return fail("--repeat needs a command to launch (-- CMD)");
  if (o.repeat_delay_ns > 0 && o.repeat == 0) return fail("--repeat-delay needs --repeat N");
  return {o, ""};
}

}  // namespace probe
