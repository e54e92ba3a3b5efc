// probe-report --html: one self-contained HTML page with plots. Every plot is
// drawn here, in C++, as inline SVG (no fonts, scripts or styles from
// anywhere else); a small inline script only checks that the plots were laid
// out, marks the page ready (body data-ready="1") and shows a banner on any
// script error. Memory is bounded whatever the file's size: the last
// histogram per key (up to kMaxHistogramKeys), the kSlowest slowest calls in
// a heap, up to kMaxProcesses processes, names up to kMaxNames.
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "exporter.h"
#include "output_file.h"
extern "C" {
#include "probe_utf8.h"
}
#include "process_table.h"
#include "sched_table.h"
#include "syscall_table.h"

namespace probe {

namespace {

constexpr size_t kSlowest = 50;
constexpr size_t kMaxProcesses = 2000;
constexpr size_t kMaxHistogramKeys = 16384;
constexpr size_t kDrawnSyscallHistograms = 48;
constexpr size_t kDrawnSchedHistograms = 32;
constexpr size_t kTableRows = 500;
constexpr size_t kMaxNames = 65536;
constexpr size_t kMaxText = 300;  // bytes kept of a command line or name for the page

// ---------------------------------------------------------------------------
// Text.

// Safe in HTML text and in quoted attributes: & < > " ' escaped, invalid
// UTF-8 and control characters shown as U+FFFD. Names come from traced
// programs and may hold anything, "</script>" included.
std::string Esc(std::string_view s) {
  static const char kBad[] = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&#39;";
          break;
        default:
          if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
            out += kBad;
          else
            out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A well-formed multi-byte sequence is copied; anything else is U+FFFD.
    const size_t len =
        probe_utf8_sequence(reinterpret_cast<const unsigned char*>(s.data()) + i, s.size() - i);
    const bool ok = len > 1;
    if (!ok) {
      out += kBad;
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

// At most max bytes (the cut may split a UTF-8 sequence: Esc shows it as
// U+FFFD), with "..." when cut.
std::string Clip(std::string_view s, size_t max = kMaxText) {
  if (s.size() <= max) return std::string(s);
  return std::string(s.substr(0, max)) + "...";
}

std::string Printf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
std::string Printf(const char* fmt, ...) {
  char buf[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  return buf;
}

std::string Num(uint64_t n) { return std::to_string(n); }

// "+12.35 ms": a time relative to a base.
std::string Rel(uint64_t t, uint64_t base) {
  return t >= base ? "+" + FormatDuration(t - base) : "-" + FormatDuration(base - t);
}

// 4096 -> "4.1us": short, for axis labels.
std::string ShortDuration(double ns) {
  struct Unit {
    double scale;
    const char* name;
  };
  static const Unit kUnits[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}, {1, "ns"}};
  for (const auto& u : kUnits) {
    if (ns >= u.scale || u.scale == 1) {
      const double v = ns / u.scale;
      if (v == 0) return "0";
      return v < 9.95 && v != std::floor(v) ? Printf("%.1f%s", v, u.name)
                                            : Printf("%.0f%s", v, u.name);
    }
  }
  return "?";
}

// A nice step (1, 2 or 5 x 10^k ns) giving at most about `ticks` ticks.
double TickStep(double span, int ticks) {
  const double raw = std::max(span / ticks, 1.0);
  const double mag = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0, 10.0})
    if (m * mag >= raw) return m * mag;
  return 10 * mag;
}

// "+12.5ms": an offset on a time axis labelled in the unit of its step.
std::string AxisLabel(double offset_ns, double step) {
  double scale = 1;
  const char* unit = "ns";
  if (step >= 1e9) {
    scale = 1e9, unit = "s";
  } else if (step >= 1e6) {
    scale = 1e6, unit = "ms";
  } else if (step >= 1e3) {
    scale = 1e3, unit = "us";
  }
  const double s = step / scale;
  const int decimals = s >= 1 ? 0 : static_cast<int>(std::ceil(-std::log10(s) - 1e-9));
  return Printf("%s%.*f%s", offset_ns > 0 ? "+" : "", decimals, offset_ns / scale, unit);
}

std::string WallTime(uint64_t mono_ns, int64_t offset_ns) {
  if (offset_ns == 0) return "";
  const int64_t wall = static_cast<int64_t>(mono_ns) + offset_ns;
  time_t secs = static_cast<time_t>(wall / 1000000000);
  struct tm tm {};
  if (!gmtime_r(&secs, &tm)) return "";
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

// ---------------------------------------------------------------------------
// SVG pieces.

std::string Rect(double x, double y, double w, double h, const std::string& cls,
                 const std::string& title = "") {
  std::string r = Printf(R"(<rect class="%s" x="%.1f" y="%.1f" width="%.1f" height="%.1f")",
                         cls.c_str(), x, y, std::max(w, 0.0), std::max(h, 0.0));
  if (title.empty()) return r + "/>";
  return r + "><title>" + title + "</title></rect>";
}

std::string Text(double x, double y, const std::string& escaped, const char* cls = "",
                 const char* anchor = "start") {
  return Printf(R"(<text class="%s" x="%.1f" y="%.1f" text-anchor="%s">)", cls, x, y, anchor) +
         escaped + "</text>";
}

std::string Line(double x1, double y1, double x2, double y2, const char* cls) {
  return Printf(R"(<line class="%s" x1="%.1f" y1="%.1f" x2="%.1f" y2="%.1f"/>)", cls, x1, y1, x2,
                y2);
}

std::string SvgOpen(const char* kind, double w, double h, const std::string& label) {
  return Printf(R"(<svg class="plot" data-kind="%s" width="%.0f" height="%.0f" )", kind, w, h) +
         Printf(R"(viewBox="0 0 %.0f %.0f" role="img" aria-label=")", w, h) + label + "\">";
}

// A time axis along y = top..bottom over [x0, x0 + width] for [t0, t1].
std::string TimeAxis(double x0, double width, double top, double bottom, uint64_t t0, uint64_t t1,
                     uint64_t origin) {
  std::string out;
  const double span = static_cast<double>(t1 - t0);
  const double step = TickStep(span, 8);
  // Ticks at multiples of step from the origin (the agent's start), so labels
  // read as time since recording started.
  const double first = std::ceil((static_cast<double>(t0) - static_cast<double>(origin)) / step);
  for (int k = 0; k < 50; ++k) {
    const double off = (first + k) * step;  // from origin
    const double t = static_cast<double>(origin) + off;
    if (t > static_cast<double>(t1) + 1e-6) break;
    const double x = x0 + (t - static_cast<double>(t0)) / span * width;
    out += Line(x, top, x, bottom, "grid");
    out += Text(x, bottom + 14, Esc(AxisLabel(off, step)), "tick", "middle");
  }
  out += Line(x0, bottom, x0 + width, bottom, "axis");
  return out;
}

// ---------------------------------------------------------------------------
// Histograms.

uint64_t BucketLow(int i) { return i == 0 ? 0 : uint64_t{1} << i; }

std::string BucketRange(int i, int last_possible) {
  const std::string lo = FormatDuration(BucketLow(i));
  if (i >= last_possible) return ">= " + lo;
  return "[" + lo + ", " + FormatDuration(uint64_t{1} << (i + 1)) + ")";
}

// A bar chart of the log2 buckets from the first to the last non-empty one.
// `what` names the things counted ("calls", "periods").
std::string HistogramSvg(const v1::SyscallHistogram& h, const std::string& label, const char* kind,
                         const char* what, size_t* bars) {
  const double W = 540, H = 190, left = 50, right = 10, top = 16, bottom = 34;
  const double pw = W - left - right, ph = H - top - bottom;
  int first = -1, last = -1;
  uint64_t max_count = 0, total = 0;
  for (int i = 0; i < h.log2_buckets_size(); ++i) {
    const uint64_t n = h.log2_buckets(i);
    if (!n) continue;
    if (first < 0) first = i;
    last = i;
    max_count = std::max(max_count, n);
    total += n;
  }
  std::string o = SvgOpen(kind, W, H, label);
  o += Line(left, top + ph, left + pw, top + ph, "axis");
  o += Line(left, top, left, top + ph, "axis");
  if (first < 0) {
    o += Text(left + pw / 2, top + ph / 2, "no " + std::string(what), "note", "middle");
    return o + "</svg>";
  }
  // At least 8 buckets wide, so one busy bucket is not one giant slab.
  while (last - first + 1 < 8 && last < kHistogramBuckets - 1) ++last;
  while (last - first + 1 < 8 && first > 0) --first;
  const int n = last - first + 1;
  const double bw = pw / n;
  // Horizontal grid at the max and, when it is a whole number, at half of it.
  for (double f : {0.5, 1.0}) {
    if (f < 1 && max_count % 2) continue;
    const double y = top + ph - f * ph;
    o += Line(left, y, left + pw, y, "grid");
    o += Text(left - 4, y + 4, Num(static_cast<uint64_t>(f * max_count)), "tick", "end");
  }
  o += Text(left - 4, top + ph + 4, "0", "tick", "end");
  o += Text(4, 10, what, "tick");
  const int label_every = std::max(1, static_cast<int>(std::ceil(34.0 / bw)));
  for (int i = first; i <= last; ++i) {
    const double x = left + (i - first) * bw;
    const uint64_t count = i < h.log2_buckets_size() ? h.log2_buckets(i) : 0;
    if (count) {
      const double bh = std::max(1.0, static_cast<double>(count) / max_count * ph);
      const std::string title =
          Esc(BucketRange(i, kHistogramBuckets - 1) + ": " + Num(count) + " " + what +
              Printf(" (%.1f%%)", 100.0 * count / std::max<uint64_t>(total, 1)));
      o += Rect(x + std::min(1.0, bw * 0.1), top + ph - bh, bw - 2 * std::min(1.0, bw * 0.1), bh,
                "bar", title);
      if (bw >= 26) o += Text(x + bw / 2, top + ph - bh - 3, Num(count), "count", "middle");
      ++*bars;
    }
    if ((i - first) % label_every == 0) {
      o += Line(x, top + ph, x, top + ph + 4, "axis");
      o += Text(x, top + ph + 15, Esc(ShortDuration(static_cast<double>(BucketLow(i)))), "tick",
                "middle");
    }
  }
  return o + "</svg>";
}

std::string Stat(const char* name, const std::string& value) {
  return std::string("<span class=\"stat\"><b>") + name + "</b> " + value + "</span>";
}

// ---------------------------------------------------------------------------
// The exporter.

struct HistogramEntry {
  v1::SyscallHistogram h;
  bool from_record = false;  // else built from the per-call records
};

struct Proc {
  int32_t pid = 0, ppid = 0;
  std::string comm, command;
  uint64_t start_ns = 0;  // fork, or the start /proc gave for a snapshot
  uint64_t exec_ns = 0, exit_ns = 0;
  bool snapshot = false;      // existed when recording started
  bool has_lifetime = false;  // a ProcessLifetime record came
  bool finished = false;
  std::string status;  // "exit 0", "signal 9", "running"
  uint64_t user_ns = 0, sys_ns = 0, rss = 0;
  uint32_t exec_count = 0;
};

std::string JoinArgv(const google::protobuf::RepeatedPtrField<std::string>& argv, bool truncated,
                     const std::string& fallback) {
  std::string out;
  for (const auto& a : argv) {
    if (!out.empty()) out += ' ';
    out += a;
    if (out.size() > kMaxText) break;
  }
  if (out.empty()) out = fallback;
  if (truncated) out += " ...";
  return Clip(out);
}

class HtmlExporter : public Exporter {
 public:
  HtmlExporter(FILE* f, std::unique_ptr<OutputFile> out, std::string path)
      : f_(f), out_(std::move(out)), path_(std::move(path)) {}
  ~HtmlExporter() override {
    if (f_) fclose(f_);
  }

  void Add(const v1::Record& r) override;
  bool Finish(std::string* error) override;

 private:
  void AddCall(const v1::SyscallCall& c);
  void AddProcess(const v1::ProcessLifetime& p);
  void AddSnapshot(const v1::ProcessSnapshot& s);
  void SeeTime(uint64_t t) {
    if (t) max_time_ = std::max(max_time_, t);
  }
  void Name(int32_t pid, const std::string& comm) {
    if (comm.empty()) return;
    auto it = comm_by_pid_.find(pid);
    if (it != comm_by_pid_.end())
      it->second = Clip(comm, 64);
    else if (comm_by_pid_.size() < kMaxNames)
      comm_by_pid_.emplace(pid, Clip(comm, 64));
  }
  std::string CommOf(int32_t pid) const {
    auto it = comm_by_pid_.find(pid);
    if (it != comm_by_pid_.end()) return it->second;
    auto t = thread_names_.find(pid);  // the main thread's name
    return t != thread_names_.end() ? t->second : "?";
  }
  uint64_t Origin() const { return header_.start_time_ns(); }

  std::string Page();
  std::string HeaderSection();
  std::string CountersSection();
  std::string SyscallSection();
  std::string SchedSection();
  std::string WaitsSection();
  std::string ProcessSection();

  FILE* f_;
  std::unique_ptr<OutputFile> out_;  // where f_ writes (a dup of its fd)
  std::string path_;
  bool finished_ = false;

  bool has_header_ = false;
  v1::Header header_;
  bool has_trailer_ = false;
  std::string stop_reason_;
  uint64_t bytes_written_ = 0;
  bool has_counters_ = false;
  bool counters_from_trailer_ = false;
  google::protobuf::RepeatedPtrField<v1::KindCounters> counters_;
  uint64_t max_time_ = 0;
  uint64_t records_ = 0;

  std::map<SyscallKey, HistogramEntry> syscall_hists_;
  uint64_t syscall_keys_dropped_ = 0;
  std::map<std::pair<int32_t, int>, v1::SchedHistogram> sched_hists_;
  uint64_t sched_keys_dropped_ = 0;

  std::vector<v1::SyscallCall> slowest_;  // min-heap on slowness: front gives way first
  uint64_t calls_ = 0;

  std::vector<Proc> procs_;
  std::unordered_map<int32_t, size_t> proc_by_pid_;  // the latest node of each pid
  uint64_t procs_dropped_ = 0;

  std::unordered_map<int32_t, std::string> comm_by_pid_;
  std::unordered_map<int32_t, std::string> thread_names_;

  size_t plots_ = 0;
};

// The heap's order: a is slower than b (ties: the earlier start is kept).
bool Slower(const v1::SyscallCall& a, const v1::SyscallCall& b) {
  if (a.duration_ns() != b.duration_ns()) return a.duration_ns() > b.duration_ns();
  return a.start_time_ns() < b.start_time_ns();
}

void HtmlExporter::Add(const v1::Record& r) {
  ++records_;
  switch (r.kind_case()) {
    case v1::Record::kHeader:
      if (!has_header_) {
        has_header_ = true;
        header_ = r.header();
        SeeTime(header_.start_time_ns());
      }
      break;
    case v1::Record::kTrailer:
      has_trailer_ = true;
      stop_reason_ = Clip(r.trailer().stop_reason(), 100);
      bytes_written_ = r.trailer().bytes_written();
      counters_ = r.trailer().counters();
      has_counters_ = true;
      counters_from_trailer_ = true;
      SeeTime(r.trailer().time_ns());
      break;
    case v1::Record::kStats:
      if (!counters_from_trailer_) {
        counters_ = r.stats().counters();
        has_counters_ = true;
        bytes_written_ = r.stats().bytes_written();
      }
      SeeTime(r.stats().time_ns());
      break;
    case v1::Record::kThreadName: {
      const auto& t = r.thread_name();
      auto it = thread_names_.find(t.tid());
      if (it != thread_names_.end())
        it->second = Clip(t.comm(), 64);
      else if (thread_names_.size() < kMaxNames)
        thread_names_.emplace(t.tid(), Clip(t.comm(), 64));
      break;
    }
    case v1::Record::kSnapshot:
      AddSnapshot(r.snapshot());
      break;
    case v1::Record::kProcess:
      AddProcess(r.process());
      break;
    case v1::Record::kSyscall:
      AddCall(r.syscall());
      break;
    case v1::Record::kSyscallHistogram: {
      const auto& h = r.syscall_histogram();
      SyscallKey key{h.pid(), h.syscall()};
      auto it = syscall_hists_.find(key);
      if (it == syscall_hists_.end()) {
        if (syscall_hists_.size() >= kMaxHistogramKeys) {
          ++syscall_keys_dropped_;
          break;
        }
        it = syscall_hists_.emplace(key, HistogramEntry{}).first;
      }
      it->second.h = h;  // cumulative: the last one per key holds the totals
      it->second.from_record = true;
      SeeTime(h.time_ns());
      break;
    }
    case v1::Record::kSchedHistogram: {
      const auto& h = r.sched_histogram();
      std::pair<int32_t, int> key{h.pid(), static_cast<int>(h.kind())};
      auto it = sched_hists_.find(key);
      if (it == sched_hists_.end()) {
        if (sched_hists_.size() >= kMaxHistogramKeys) {
          ++sched_keys_dropped_;
          break;
        }
        it = sched_hists_.emplace(key, v1::SchedHistogram{}).first;
      }
      it->second = h;
      SeeTime(h.time_ns());
      break;
    }
    default:
      break;
  }
}

void HtmlExporter::AddCall(const v1::SyscallCall& c) {
  ++calls_;
  SeeTime(c.start_time_ns() + c.duration_ns());
  // Per-call records stand in for a histogram only where the file has none
  // for the key (a filtered or cut-off file).
  SyscallKey key{c.pid(), c.syscall()};
  auto it = syscall_hists_.find(key);
  if (it == syscall_hists_.end() && syscall_hists_.size() < kMaxHistogramKeys)
    it = syscall_hists_.emplace(key, HistogramEntry{}).first;
  if (it != syscall_hists_.end() && !it->second.from_record) {
    it->second.h.set_pid(c.pid());
    it->second.h.set_syscall(c.syscall());
    AddCallToHistogram(c, &it->second.h);
  }

  if (slowest_.size() >= kSlowest && !Slower(c, slowest_.front())) return;
  v1::SyscallCall kept = c;
  // The waker's name came once, in an earlier ThreadName record.
  if (kept.has_breakdown() && kept.breakdown().waker().comm().empty() &&
      kept.breakdown().waker().tid() != 0) {
    auto t = thread_names_.find(kept.breakdown().waker().tid());
    if (t != thread_names_.end()) kept.mutable_breakdown()->mutable_waker()->set_comm(t->second);
  }
  if (slowest_.size() >= kSlowest) {
    std::pop_heap(slowest_.begin(), slowest_.end(), Slower);
    slowest_.back() = std::move(kept);
  } else {
    slowest_.push_back(std::move(kept));
  }
  std::push_heap(slowest_.begin(), slowest_.end(), Slower);
}

void HtmlExporter::AddSnapshot(const v1::ProcessSnapshot& s) {
  Name(s.pid(), s.comm());
  if (proc_by_pid_.count(s.pid())) return;  // listed twice: keep the first
  if (procs_.size() >= kMaxProcesses) {
    ++procs_dropped_;
    return;
  }
  Proc p;
  p.pid = s.pid();
  p.ppid = s.ppid();
  p.comm = Clip(s.comm(), 64);
  p.command = JoinArgv(s.argv(), false, s.exe().empty() ? s.comm() : s.exe());
  p.start_ns = s.start_time_ns();
  p.snapshot = true;
  p.status = "running";
  proc_by_pid_[p.pid] = procs_.size();
  procs_.push_back(std::move(p));
}

void HtmlExporter::AddProcess(const v1::ProcessLifetime& l) {
  Name(l.pid(), l.comm());
  SeeTime(l.exit_time_ns());
  SeeTime(l.exec_time_ns());
  Proc* p = nullptr;
  auto it = proc_by_pid_.find(l.pid());
  // A snapshot's process ends with its lifetime record; a second lifetime
  // for a pid is a new process (the pid was reused).
  if (it != proc_by_pid_.end() && !procs_[it->second].has_lifetime) {
    p = &procs_[it->second];
  } else {
    if (procs_.size() >= kMaxProcesses) {
      ++procs_dropped_;
      return;
    }
    proc_by_pid_[l.pid()] = procs_.size();
    procs_.emplace_back();
    p = &procs_.back();
    p->pid = l.pid();
    p->start_ns = l.fork_time_ns() ? l.fork_time_ns() : l.exec_time_ns();
  }
  p->has_lifetime = true;
  p->ppid = l.ppid();
  p->comm = Clip(l.comm(), 64);
  p->command = JoinArgv(l.argv(), l.argv_truncated(), l.exe().empty() ? l.comm() : l.exe());
  if (!p->start_ns) p->start_ns = l.fork_time_ns() ? l.fork_time_ns() : l.exec_time_ns();
  p->exec_ns = l.exec_time_ns();
  p->exit_ns = l.finished() ? l.exit_time_ns() : 0;
  p->finished = l.finished();
  p->user_ns = l.user_time_ns();
  p->sys_ns = l.system_time_ns();
  p->rss = l.peak_rss_bytes();
  p->exec_count = l.exec_count();
  if (!l.finished())
    p->status = "running";
  else if (l.exit_signal())
    p->status = "signal " + std::to_string(l.exit_signal()) + (l.core_dumped() ? " (core)" : "");
  else
    p->status = "exit " + std::to_string(l.exit_code());
}

// ---------------------------------------------------------------------------
// Sections.

std::string HtmlExporter::HeaderSection() {
  std::string o = "<section id=\"header\"><h2>Recording</h2>";
  if (!has_header_)
    return o + "<p class=\"warn\">No header record: not a whole probe file.</p></section>";
  const auto& h = header_;
  std::string cmd;
  for (const auto& a : h.command_line()) {
    if (!cmd.empty()) cmd += ' ';
    cmd += a;
    if (cmd.size() > 4 * kMaxText) break;
  }
  auto row = [&](const char* k, const std::string& escaped) {
    o += std::string("<tr><th>") + k + "</th><td>" + escaped + "</td></tr>";
  };
  o += "<table class=\"kv\">";
  row("command line", "<code id=\"command-line\">" + Esc(Clip(cmd, 4 * kMaxText)) + "</code>");
  row("host", "<span id=\"host\">" + Esc(Clip(h.hostname(), 255)) + "</span>");
  row("kernel", "<span id=\"kernel\">" + Esc(Clip(h.kernel_release(), 255)) + "</span>");
  row("agent", Esc(Clip(h.agent_version(), 100)) + ", file format " + Num(h.format_version()) +
                   (h.shim_only() ? ", written by the shim alone" : ""));
  if (!h.privileges().empty()) row("agent after attach", Esc(Clip(h.privileges(), kMaxText)));
  std::string targets = h.system_wide() ? "every process" : "";
  for (int pid : h.target_pids())
    targets += (targets.empty() ? "pid " : ", ") + std::to_string(pid);
  if (!h.system_wide() && h.target_pids_size())
    targets += h.follow_children() ? " and descendants" : " only";
  if (!targets.empty()) row("targets", Esc(targets));
  std::string events;
  for (const auto& e : h.events()) events += (events.empty() ? "" : ", ") + Clip(e, 40);
  if (h.min_latency_ns())
    events += "; per-call syscall records only at or above " + FormatDuration(h.min_latency_ns());
  if (!events.empty()) row("events", Esc(events));
  std::string sampling;
  for (const auto& k : h.sampling().kinds()) {
    std::string part;
    if (k.keep_one_in() > 1) part += " 1 in " + Num(k.keep_one_in());
    if (k.min_latency_ns()) part += " at least " + FormatDuration(k.min_latency_ns());
    if (k.first_per_second()) part += " first " + Num(k.first_per_second()) + "/s";
    if (part.empty()) continue;
    std::string kind = v1::EventKind_Name(k.kind());
    if (kind.rfind("EVENT_KIND_", 0) == 0) kind = kind.substr(11);
    sampling += (sampling.empty() ? "" : "; ") + kind + ":" + part;
  }
  if (h.sampling().max_records_per_s())
    sampling += (sampling.empty() ? "" : "; ") + std::string("at most ") +
                Num(h.sampling().max_records_per_s()) + " records/s";
  if (!sampling.empty()) row("sampling", Esc(sampling));
  std::string when = WallTime(h.start_time_ns(), h.wall_clock_offset_ns());
  if (max_time_ > h.start_time_ns() && h.start_time_ns())
    when += (when.empty() ? "" : ", ") + std::string("for ") +
            FormatDuration(max_time_ - h.start_time_ns());
  if (!when.empty()) row("recorded", Esc(when));
  row("stopped", has_trailer_ ? Esc(stop_reason_)
                              : "<span class=\"warn\">no trailer: the agent did not stop "
                                "cleanly, or the file was cut</span>");
  return o + "</table></section>";
}

uint64_t Lost(const v1::KindCounters& c) {
  return c.lost_ring_full() + c.lost_decode() + c.lost_write() + c.lost_table_full() +
         c.lost_buffer_full() + c.lost_no_buffer();
}

std::string HtmlExporter::CountersSection() {
  std::string o = "<section id=\"counters\"><h2>Counters</h2>";
  if (!has_counters_) return o + "<p class=\"note\">No stats or trailer record.</p></section>";
  o += std::string("<p class=\"note\">From the ") +
       (counters_from_trailer_ ? "trailer" : "last stats record (no trailer)") +
       ": produced = written + sampled out + lost" +
       (bytes_written_ ? "; " + Num(bytes_written_) + " bytes written" : "") + ".</p>";
  o += "<table class=\"data\" id=\"counters-table\"><thead><tr><th>kind</th><th>produced</th>"
       "<th>written</th><th>sampled out</th><th>lost</th><th>lost: ring full</th>"
       "<th>decode</th><th>write</th><th>no in-flight slot</th><th>shim buffer full</th>"
       "<th>no shim buffer</th><th>missing from "
       "histograms</th><th>rejected</th></tr></thead><tbody>";
  uint64_t lost = 0;
  for (const auto& c : counters_) {
    std::string kind = v1::EventKind_Name(c.kind());
    if (kind.rfind("EVENT_KIND_", 0) == 0) kind = kind.substr(11);
    if (kind.empty()) kind = "kind " + Num(c.kind());
    lost += Lost(c);
    std::string sampled = Num(c.sampled_out());
    std::string why;
    auto add = [&](const char* what, uint64_t n) {
      if (n) why += (why.empty() ? "" : ", ") + std::string(what) + " " + Num(n);
    };
    add("below min latency", c.sampled_min_latency());
    add("1-in-N", c.sampled_one_in_n());
    add("past first K/s", c.sampled_first_k());
    add("over rate cap", c.sampled_rate());
    if (!why.empty()) sampled = "<span title=\"" + Esc(why) + "\">" + sampled + "</span>";
    o += "<tr><td>" + Esc(kind) + "</td><td>" + Num(c.produced()) + "</td><td>" + Num(c.written()) +
         "</td><td>" + sampled + "</td><td" + (Lost(c) ? " class=\"bad\"" : "") + ">" +
         Num(Lost(c)) + "</td><td>" + Num(c.lost_ring_full()) + "</td><td>" + Num(c.lost_decode()) +
         "</td><td>" + Num(c.lost_write()) + "</td><td>" + Num(c.lost_table_full()) + "</td><td>" +
         Num(c.lost_buffer_full()) + "</td><td>" + Num(c.lost_no_buffer()) + "</td><td>" +
         Num(c.lost_histogram_full()) + "</td><td>" + Num(c.rejected()) + "</td></tr>";
  }
  o += "</tbody></table>";
  if (lost) o += "<p class=\"warn\">" + Num(lost) + " events were lost; see the counters.</p>";
  return o + "</section>";
}

std::string HtmlExporter::SyscallSection() {
  std::string o =
      "<section id=\"syscall-histograms\"><h2>Syscall latency</h2>"
      "<p class=\"note\">Exact log2 histograms of every traced call per (process, syscall), "
      "from the last histogram record of each; percentiles are interpolated inside the "
      "bucket.</p>";
  if (syscall_hists_.empty())
    return o + "<p class=\"note\">No syscalls in this file.</p></section>";
  std::vector<const std::pair<const SyscallKey, HistogramEntry>*> rows;
  for (const auto& kv : syscall_hists_) rows.push_back(&kv);
  std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) {
    if (a->second.h.sum_ns() != b->second.h.sum_ns())
      return a->second.h.sum_ns() > b->second.h.sum_ns();
    return a->first < b->first;
  });
  // The table: the busiest keys by total time.
  o += "<table class=\"data\" id=\"syscall-table\"><thead><tr><th>pid</th><th>comm</th>"
       "<th>syscall</th><th>calls</th><th>timeouts</th><th>errors</th><th>p50</th><th>p90</th>"
       "<th>p99</th><th>max</th><th>total</th></tr></thead><tbody>";
  for (size_t i = 0; i < rows.size() && i < kTableRows; ++i) {
    const auto& [key, e] = *rows[i];
    const auto& h = e.h;
    o += "<tr><td>" + Num(key.pid) + "</td><td>" + Esc(CommOf(key.pid)) + "</td><td>" +
         Esc(SyscallName(key.syscall)) + "</td><td>" + Num(h.count()) + "</td><td>" +
         Num(h.timeouts()) + "</td><td>" + Num(h.errors()) + "</td><td>" +
         Esc(FormatDuration(HistogramPercentile(h, 0.5))) + "</td><td>" +
         Esc(FormatDuration(HistogramPercentile(h, 0.9))) + "</td><td>" +
         Esc(FormatDuration(HistogramPercentile(h, 0.99))) + "</td><td>" +
         Esc(FormatDuration(h.max_ns())) + "</td><td>" + Esc(FormatDuration(h.sum_ns())) +
         "</td></tr>";
  }
  o += "</tbody></table>";
  if (rows.size() > kTableRows)
    o += "<p class=\"note\">" + Num(rows.size() - kTableRows) +
         " more (process, syscall) pairs with less total time are not listed.</p>";
  // The plots: the busiest keys, grouped by pid.
  std::vector<const std::pair<const SyscallKey, HistogramEntry>*> drawn(
      rows.begin(), rows.begin() + std::min(rows.size(), kDrawnSyscallHistograms));
  std::stable_sort(drawn.begin(), drawn.end(),
                   [](auto* a, auto* b) { return a->first.pid < b->first.pid; });
  o += "<div class=\"grid\">";
  for (const auto* kv : drawn) {
    const auto& [key, e] = *kv;
    const auto& h = e.h;
    const std::string title =
        SyscallName(key.syscall) + " — pid " + Num(key.pid) + " (" + CommOf(key.pid) + ")";
    size_t bars = 0;
    o += "<figure class=\"hist\" data-pid=\"" + Num(key.pid) + "\" data-syscall=\"" +
         Esc(SyscallName(key.syscall)) + "\"><figcaption><b>" + Esc(title) + "</b><br>" +
         Stat("calls", Num(h.count())) +
         Stat("p50", Esc(FormatDuration(HistogramPercentile(h, 0.5)))) +
         Stat("p99", Esc(FormatDuration(HistogramPercentile(h, 0.99)))) +
         Stat("max", Esc(FormatDuration(h.max_ns()))) +
         Stat("total", Esc(FormatDuration(h.sum_ns())));
    if (h.timeouts()) o += Stat("timeouts", Num(h.timeouts()));
    if (h.errors()) o += Stat("errors", Num(h.errors()));
    if (!e.from_record)
      o += " <span class=\"note\">(no histogram record: from the recorded calls)</span>";
    o += "</figcaption>";
    o += HistogramSvg(h, Esc("latency histogram of " + title), "syscall-histogram", "calls", &bars);
    o += "</figure>";
    ++plots_;
  }
  o += "</div>";
  if (rows.size() > drawn.size())
    o += "<p class=\"note\">" + Num(rows.size() - drawn.size()) +
         " histograms with less total time are not drawn.</p>";
  if (syscall_keys_dropped_)
    o += "<p class=\"warn\">" + Num(syscall_keys_dropped_) + " histogram records past the first " +
         Num(kMaxHistogramKeys) + " (process, syscall) pairs were left out.</p>";
  return o + "</section>";
}

std::string HtmlExporter::SchedSection() {
  std::string o =
      "<section id=\"sched-histograms\"><h2>Scheduler</h2>"
      "<p class=\"note\">Per process: run-queue delay (woken or preempted &rarr; on a CPU) and "
      "off-CPU time (switched out sleeping &rarr; woken), exact log2 histograms.</p>";
  if (sched_hists_.empty())
    return o +
           "<p class=\"note\">No scheduler histograms in this file (wakeups not "
           "traced?).</p></section>";
  std::vector<const v1::SchedHistogram*> rows;
  for (const auto& [key, h] : sched_hists_) rows.push_back(&h);
  std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) {
    if (a->sum_ns() != b->sum_ns()) return a->sum_ns() > b->sum_ns();
    return std::make_pair(a->pid(), int(a->kind())) < std::make_pair(b->pid(), int(b->kind()));
  });
  if (rows.size() > kDrawnSchedHistograms) rows.resize(kDrawnSchedHistograms);
  std::sort(rows.begin(), rows.end(), [](auto* a, auto* b) {
    return std::make_pair(a->pid(), int(a->kind())) < std::make_pair(b->pid(), int(b->kind()));
  });
  o += "<div class=\"grid\">";
  for (const auto* sh : rows) {
    const v1::SyscallHistogram h = AsSyscallHistogram(*sh);
    const bool rq = sh->kind() == v1::SCHED_HISTOGRAM_RUN_QUEUE;
    const std::string title = std::string(rq ? "run-queue delay" : "off-CPU time") + " — pid " +
                              Num(sh->pid()) + " (" + CommOf(sh->pid()) + ")";
    size_t bars = 0;
    o += std::string("<figure class=\"hist\" data-pid=\"") + Num(sh->pid()) + "\" data-sched=\"" +
         (rq ? "run-queue" : "off-cpu") + "\"><figcaption><b>" + Esc(title) + "</b><br>" +
         Stat(rq ? "delays" : "periods", Num(h.count())) +
         Stat("p50", Esc(FormatDuration(HistogramPercentile(h, 0.5)))) +
         Stat("p99", Esc(FormatDuration(HistogramPercentile(h, 0.99)))) +
         Stat("max", Esc(FormatDuration(h.max_ns()))) +
         Stat("total", Esc(FormatDuration(h.sum_ns()))) + "</figcaption>";
    o += HistogramSvg(h, Esc(title), "sched-histogram", rq ? "delays" : "periods", &bars);
    o += "</figure>";
    ++plots_;
  }
  o += "</div>";
  if (sched_hists_.size() > rows.size())
    o += "<p class=\"note\">" + Num(sched_hists_.size() - rows.size()) +
         " histograms with less total time are not drawn.</p>";
  if (sched_keys_dropped_)
    o += "<p class=\"warn\">" + Num(sched_keys_dropped_) + " scheduler histogram records past " +
         Num(kMaxHistogramKeys) + " keys were left out.</p>";
  return o + "</section>";
}

std::string WakerText(const v1::WaitBreakdown& b) {
  if (!b.woken()) return "not woken by a task (timeout or signal)";
  if (b.waker().pid() == 0) return "woken by " + KernelWakerName(b.waker().comm());
  std::string out = "woken by pid " + Num(b.waker().pid()) + " tid " + Num(b.waker().tid()) + " (" +
                    (b.waker().comm().empty() ? "?" : b.waker().comm()) + ")";
  if (b.waker().syscall_nr() >= 0)
    out += " in " + FormatWakerSyscall(b.waker());
  else
    out += " outside a syscall";
  return out;
}

struct Segment {
  const char* cls;
  const char* name;
  uint64_t ns;
};

// The call's time in order: to block, blocked, run queue, return; the part
// the breakdown does not cover (earlier blocking episodes in "to block" are
// already inside it, so this is only rounding or an odd record) as "other".
std::vector<Segment> Segments(const v1::SyscallCall& c) {
  if (!c.has_breakdown())
    return {{"seg-none", "did not block (or wakeups not traced)", c.duration_ns()}};
  const auto& b = c.breakdown();
  std::vector<Segment> s = {{"seg-toblock", "to block", b.to_block_ns()},
                            {"seg-blocked", "blocked", b.blocked_ns()},
                            {"seg-runqueue", "run queue", b.run_queue_ns()},
                            {"seg-return", "return", b.return_ns()}};
  uint64_t sum = 0;
  for (const auto& x : s) sum += x.ns;
  if (sum < c.duration_ns()) s.push_back({"seg-other", "other", c.duration_ns() - sum});
  return s;
}

std::string HtmlExporter::WaitsSection() {
  std::string o =
      "<section id=\"slowest-waits\"><h2>Slowest calls</h2>"
      "<p class=\"note\">The " +
      Num(slowest_.size()) + " slowest of " + Num(calls_) + " recorded syscalls (at most " +
      Num(kSlowest) +
      " are kept) on a time axis from the agent's start, each split into where its time "
      "went; the right column shows the same split as shares of the call. Hover a bar for the "
      "waker.</p>";
  if (slowest_.empty()) return o + "<p class=\"note\">No per-call syscall records.</p></section>";
  std::vector<v1::SyscallCall> calls = slowest_;
  std::sort(calls.begin(), calls.end(), [](const auto& a, const auto& b) {
    if (a.start_time_ns() != b.start_time_ns()) return a.start_time_ns() < b.start_time_ns();
    return a.tid() < b.tid();
  });
  uint64_t t0 = UINT64_MAX, t1 = 0;
  for (const auto& c : calls) {
    t0 = std::min(t0, c.start_time_ns());
    t1 = std::max(t1, c.start_time_ns() + c.duration_ns());
  }
  if (t1 <= t0) t1 = t0 + 1;
  const uint64_t origin = Origin() && Origin() <= t0 ? Origin() : t0;
  const double label_w = 330, chart_w = 600, gap = 16, share_w = 150, dur_w = 80;
  const double row_h = 18, top = 8;
  const double chart_x = label_w, share_x = chart_x + chart_w + gap, dur_x = share_x + share_w + 8;
  const double W = dur_x + dur_w, H = top + calls.size() * row_h + 26;
  const double span = static_cast<double>(t1 - t0);

  // Legend.
  o += "<div class=\"legend\">";
  for (auto [cls, name] : std::initializer_list<std::pair<const char*, const char*>>{
           {"seg-toblock", "to block (entry &rarr; switched out)"},
           {"seg-blocked", "blocked (switched out &rarr; woken)"},
           {"seg-runqueue", "run queue (woken &rarr; on a CPU)"},
           {"seg-return", "return (on a CPU &rarr; returned)"},
           {"seg-other", "other"},
           {"seg-none", "did not block / no breakdown"}})
    o += std::string("<span><svg width=\"12\" height=\"12\"><rect class=\"") + cls +
         "\" width=\"12\" height=\"12\"/></svg> " + name + "</span>";
  o += "</div>";

  o += SvgOpen("waits-timeline", W, H, "timeline of the slowest calls");
  o += TimeAxis(chart_x, chart_w, top, top + calls.size() * row_h, t0, t1, origin);
  o += Text(share_x + share_w / 2, top + calls.size() * row_h + 14, "share of the call", "tick",
            "middle");
  for (size_t i = 0; i < calls.size(); ++i) {
    const auto& c = calls[i];
    const double y = top + i * row_h;
    const std::string who = "pid " + Num(c.pid()) + " tid " + Num(c.tid()) + " (" +
                            CommOf(c.pid()) + ") " + SyscallName(c.syscall());
    std::string summary = who + ": " + FormatDuration(c.duration_ns()) + " at " +
                          Rel(c.start_time_ns(), origin) + " from the start; " +
                          FormatCallContext(c);
    if (c.has_breakdown()) summary += "; " + WakerText(c.breakdown());
    o += "<g class=\"wait\" data-pid=\"" + Num(c.pid()) + "\" data-tid=\"" + Num(c.tid()) +
         "\"><title>" + Esc(summary) + "</title>";
    if (i % 2) o += Rect(0, y, W, row_h, "stripe");
    std::string label =
        Printf("%d/%d ", c.pid(), c.tid()) + CommOf(c.pid()) + " " + SyscallName(c.syscall());
    o += Text(4, y + 13, Esc(Clip(label, 44)), "label");
    // On the time axis, at least 2 px wide so a short call still shows.
    const double x = chart_x + static_cast<double>(c.start_time_ns() - t0) / span * chart_w;
    const double w = static_cast<double>(c.duration_ns()) / span * chart_w;
    const double scale = w >= 2 ? 1.0 : (c.duration_ns() ? 2.0 / w : 0);
    const auto segs = Segments(c);
    uint64_t total = 0;
    for (const auto& s : segs) total += s.ns;
    double sx = x, px = share_x;
    for (const auto& s : segs) {
      if (!s.ns) continue;
      std::string t = std::string(s.name) + ": " + FormatDuration(s.ns);
      if (std::string_view(s.cls) == "seg-blocked" || std::string_view(s.cls) == "seg-runqueue")
        t += " — " + WakerText(c.breakdown());
      if (std::string_view(s.cls) == "seg-blocked" &&
          c.breakdown().total_blocked_ns() > c.breakdown().blocked_ns())
        t += "; blocked " + FormatDuration(c.breakdown().total_blocked_ns()) + " in all episodes";
      const double sw = static_cast<double>(s.ns) / span * chart_w * scale;
      o += Rect(sx, y + 3, sw, row_h - 6, std::string("seg ") + s.cls, Esc(t));
      sx += sw;
      const double pw = static_cast<double>(s.ns) / static_cast<double>(total) * share_w;
      o += Rect(px, y + 3, pw, row_h - 6, std::string("share ") + s.cls, Esc(t));
      px += pw;
    }
    o += Text(dur_x, y + 13, Esc(FormatDuration(c.duration_ns())), "label");
    o += "</g>";
  }
  o += "</svg>";
  ++plots_;
  return o + "</section>";
}

std::string HtmlExporter::ProcessSection() {
  std::string o =
      "<section id=\"process-tree\"><h2>Processes</h2>"
      "<p class=\"note\">Each traced process under its parent, from fork through exec to exit, "
      "on a time axis from the agent's start. Hover a bar for its command and status.</p>";
  if (procs_.empty()) return o + "<p class=\"note\">No process records in this file.</p></section>";
  // Parent of each node: the latest node of the parent's pid that started no
  // later than the child (pids are reused in long system-wide runs).
  const size_t n = procs_.size();
  std::unordered_map<int32_t, std::vector<size_t>> by_pid;
  for (size_t i = 0; i < n; ++i) by_pid[procs_[i].pid].push_back(i);
  std::vector<std::vector<size_t>> children(n);
  std::vector<size_t> roots;
  for (size_t i = 0; i < n; ++i) {
    const Proc& p = procs_[i];
    size_t parent = SIZE_MAX;
    auto it = by_pid.find(p.ppid);
    if (it != by_pid.end() && p.ppid != p.pid) {
      for (size_t j : it->second) {
        if (j == i) continue;
        if (parent == SIZE_MAX ||
            (procs_[j].start_ns <= p.start_ns && procs_[j].start_ns >= procs_[parent].start_ns))
          parent = j;
      }
    }
    (parent == SIZE_MAX ? roots : children[parent]).push_back(i);
  }
  auto by_start = [&](size_t a, size_t b) {
    if (procs_[a].start_ns != procs_[b].start_ns) return procs_[a].start_ns < procs_[b].start_ns;
    return procs_[a].pid < procs_[b].pid;
  };
  std::sort(roots.begin(), roots.end(), by_start);
  for (auto& c : children) std::sort(c.begin(), c.end(), by_start);
  // Depth-first, without recursion; a node is drawn once even if the
  // parent links (through reused pids) made a cycle.
  std::vector<std::pair<size_t, int>> order;
  std::vector<bool> seen(n, false);
  auto walk = [&](size_t root) {
    std::vector<std::pair<size_t, int>> stack = {{root, 0}};
    while (!stack.empty()) {
      auto [i, d] = stack.back();
      stack.pop_back();
      if (seen[i]) continue;
      seen[i] = true;
      order.emplace_back(i, d);
      for (auto it = children[i].rbegin(); it != children[i].rend(); ++it)
        stack.emplace_back(*it, d + 1);
    }
  };
  for (size_t r : roots) walk(r);
  for (size_t i = 0; i < n; ++i)
    if (!seen[i]) walk(i);  // only in a cycle: shown at the top level

  uint64_t t0 = Origin(), t1 = max_time_;
  if (!t0) {
    t0 = UINT64_MAX;
    for (const auto& p : procs_)
      if (p.start_ns) t0 = std::min(t0, p.start_ns);
    if (t0 == UINT64_MAX) t0 = 0;
  }
  for (const auto& p : procs_) t1 = std::max(t1, p.exit_ns);
  if (t1 <= t0) t1 = t0 + 1;
  const double span = static_cast<double>(t1 - t0);
  const double label_w = 320, chart_w = 700, status_w = 110, row_h = 16, top = 8;
  const double chart_x = label_w, W = label_w + chart_w + 8 + status_w;
  const double H = top + order.size() * row_h + 26;
  auto X = [&](uint64_t t) {
    const double v = t <= t0 ? 0.0 : static_cast<double>(t - t0) / span;
    return chart_x + std::min(v, 1.0) * chart_w;
  };

  o += "<div class=\"legend\">";
  for (auto [cls, name] : std::initializer_list<std::pair<const char*, const char*>>{
           {"p-fork", "fork &rarr; exec"},
           {"p-exec", "exec &rarr; exit"},
           {"p-noexec", "no exec seen (fork &rarr; exit)"},
           {"p-before", "existed when recording started"}})
    o += std::string("<span><svg width=\"12\" height=\"12\"><rect class=\"") + cls +
         "\" width=\"12\" height=\"12\"/></svg> " + name + "</span>";
  o += "<span>&#9656; still running at the end</span></div>";

  o += SvgOpen("process-gantt", W, H, "process tree with lifetimes");
  o += TimeAxis(chart_x, chart_w, top, top + order.size() * row_h, t0, t1, t0);
  for (size_t k = 0; k < order.size(); ++k) {
    const auto [i, depth] = order[k];
    const Proc& p = procs_[i];
    const double y = top + k * row_h;
    const uint64_t end = p.finished && p.exit_ns ? p.exit_ns : t1;
    std::string tip =
        "pid " + Num(p.pid) + " (" + p.comm + "), parent " + Num(p.ppid) + ": " + p.command;
    auto rel = [&](uint64_t t) { return Rel(t, t0); };
    if (p.snapshot) tip += "; existed when recording started";
    if (p.start_ns && !p.snapshot) tip += "; fork " + rel(p.start_ns);
    if (p.exec_ns)
      tip += ", exec " + rel(p.exec_ns) +
             (p.exec_count > 1 ? " (last of " + Num(p.exec_count) + ")" : "");
    if (p.finished) tip += ", exit " + rel(p.exit_ns);
    if (p.exec_ns && p.finished && p.exit_ns >= p.exec_ns)
      tip += "; exec to exit " + FormatDuration(p.exit_ns - p.exec_ns);
    tip += "; " + p.status;
    if (p.has_lifetime)
      tip += Printf("; user %s, sys %s, peak RSS %.1f MiB", FormatDuration(p.user_ns).c_str(),
                    FormatDuration(p.sys_ns).c_str(), p.rss / 1048576.0);
    o += "<g class=\"proc\" data-pid=\"" + Num(p.pid) + "\" data-depth=\"" + Num(depth) +
         "\"><title>" + Esc(tip) + "</title>";
    if (k % 2) o += Rect(0, y, W, row_h, "stripe");
    const int shown_depth = std::min(depth, 24);
    const double indent = 4 + shown_depth * 12;
    std::string label = (depth > shown_depth ? "(" + Num(depth) + ") " : "") + Num(p.pid) + " " +
                        p.comm + "  " + p.command;
    const size_t chars = static_cast<size_t>(std::max(6.0, (label_w - indent - 8) / 7.0));
    if (depth) o += Line(indent - 8, y + row_h / 2, indent - 3, y + row_h / 2, "tree");
    o += Text(indent, y + 12, Esc(Clip(label, chars)), "label");
    const double xs = X(p.start_ns ? p.start_ns : t0), xe = std::max(X(end), xs + 1.5);
    if (p.snapshot || (p.start_ns && p.start_ns < t0)) {
      o += Rect(xs, y + 3, xe - xs, row_h - 6, "p-before");
    } else if (p.exec_ns && p.exec_ns >= p.start_ns) {
      const double xx = X(p.exec_ns);
      o += Rect(xs, y + 3, xx - xs, row_h - 6, "p-fork");
      o += Rect(xx, y + 3, std::max(xe - xx, 1.5), row_h - 6, "p-exec");
    } else {
      o += Rect(xs, y + 3, xe - xs, row_h - 6, "p-noexec");
    }
    if (!p.finished) o += Text(xe + 2, y + 12, "&#9656;", "label");
    const bool bad = p.status != "exit 0" && p.status != "running";
    o += Text(chart_x + chart_w + 12, y + 12, Esc(p.status), bad ? "label bad" : "label");
    o += "</g>";
  }
  o += "</svg>";
  ++plots_;
  if (procs_dropped_)
    o += "<p class=\"warn\" id=\"process-note\">Only the first " + Num(kMaxProcesses) +
         " processes are drawn; " + Num(procs_dropped_) +
         " more process records were left out.</p>";
  return o + "</section>";
}

const char kStyle[] = R"css(
body { font: 14px/1.4 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 0 24px 40px; color: #222; background: #fff; }
h1 { font-size: 22px; margin: 16px 0 4px; }
h2 { font-size: 18px; margin: 28px 0 6px; border-bottom: 1px solid #ddd; padding-bottom: 4px; }
nav a { margin-right: 14px; }
code { font: 12px ui-monospace, monospace; word-break: break-all; }
table.kv th { text-align: left; padding-right: 16px; font-weight: 600; vertical-align: top; }
table.data { border-collapse: collapse; font-size: 13px; }
table.data th, table.data td { border: 1px solid #ddd; padding: 2px 8px; text-align: right; }
table.data th { background: #f4f4f4; }
table.data td:nth-child(2), table.data td:nth-child(3) { text-align: left; }
#counters-table td:first-child { text-align: left; }
.note { color: #666; }
.warn, .bad { color: #b00; }
.grid { display: flex; flex-wrap: wrap; gap: 8px 20px; }
figure.hist { margin: 6px 0; }
figcaption { font-size: 13px; }
.stat { margin-right: 10px; }
.legend { margin: 6px 0; font-size: 13px; }
.legend span { margin-right: 14px; white-space: nowrap; }
svg.plot { display: block; overflow: visible; }
svg text { font: 11px ui-monospace, monospace; fill: #333; }
svg text.tick { fill: #666; font-size: 10px; }
svg text.count { fill: #444; font-size: 9px; }
svg text.note { fill: #888; }
svg text.bad { fill: #b00; }
.axis { stroke: #888; stroke-width: 1; }
.grid line, line.grid { stroke: #e4e4e4; stroke-width: 1; }
line.tree { stroke: #aaa; }
rect.stripe { fill: #f7f7f7; }
rect.bar { fill: #4a7fc1; }
rect.bar:hover { fill: #e6550d; }
.seg-toblock { fill: #9ecae1; }
.seg-blocked { fill: #3182bd; }
.seg-runqueue { fill: #e6550d; }
.seg-return { fill: #31a354; }
.seg-other { fill: #bbb; }
.seg-none { fill: #777; }
.p-fork { fill: #c6dbef; }
.p-exec { fill: #2b8cbe; }
.p-noexec { fill: #9e9ac8; }
.p-before { fill: #a1d99b; }
g.wait:hover rect.stripe, g.proc:hover rect.stripe { fill: #eef; }
#error-banner { background: #b00; color: #fff; padding: 8px 12px; font-weight: 600; }
)css";

// Runs first: any later script error shows a banner (and marks the body).
const char kErrorScript[] = R"js(
window.onerror = function (msg, src, line, col) {
  var b = document.getElementById('error-banner');
  if (!b) {
    b = document.createElement('div');
    b.id = 'error-banner';
    b.setAttribute('role', 'alert');
    (document.body || document.documentElement).insertBefore(b, (document.body || document.documentElement).firstChild);
  }
  b.textContent = 'Error while drawing this page: ' + msg + (line ? ' (line ' + line + ')' : '');
  if (document.body) document.body.dataset.error = '1';
  return false;
};
)js";

// Runs last: every plot must have been laid out with a size, and as many as
// the page says it drew; then the page is ready.
const char kReadyScript[] = R"js(
(function () {
  var plots = document.querySelectorAll('svg.plot');
  var expected = Number(document.body.dataset.plots);
  var drawn = 0;
  plots.forEach(function (s) {
    var r = s.getBoundingClientRect();
    if (r.width > 0 && r.height > 0 && s.querySelector('rect, text')) drawn++;
  });
  if (drawn !== plots.length || drawn !== expected)
    throw new Error('only ' + drawn + ' of ' + expected + ' plots were drawn');
  document.body.dataset.drawn = String(drawn);
  var ready = document.createElement('div');
  ready.id = 'ready';
  ready.hidden = true;
  document.body.appendChild(ready);
  document.body.dataset.ready = '1';
})();
)js";

std::string HtmlExporter::Page() {
  // Sections first: they count the plots the body announces.
  std::string sections = HeaderSection() + CountersSection() + SyscallSection() + SchedSection() +
                         WaitsSection() + ProcessSection();
  std::string title = "probe report";
  if (has_header_ && !header_.hostname().empty()) title += " — " + Clip(header_.hostname(), 64);
  std::string o = "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n";
  // Nothing from the network, ever: no fetches, no frames, no external anything.
  o += "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
       "style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:\">\n";
  o += "<title>" + Esc(title) + "</title>\n<style>" + std::string(kStyle) + "</style>\n<script>" +
       kErrorScript + "</script>\n</head>\n";
  o += "<body data-plots=\"" + Num(plots_) + "\">\n<h1>" + Esc(title) + "</h1>\n";
  o += "<nav><a href=\"#header\">recording</a><a href=\"#counters\">counters</a>"
       "<a href=\"#syscall-histograms\">syscall latency</a><a href=\"#sched-histograms\">"
       "scheduler</a><a href=\"#slowest-waits\">slowest calls</a><a href=\"#process-tree\">"
       "processes</a></nav>\n";
  o += sections;
  o += "\n<script>" + std::string(kReadyScript) + "</script>\n</body></html>\n";
  return o;
}

bool HtmlExporter::Finish(std::string* error) {
  if (finished_) return true;
  finished_ = true;
  const std::string page = Page();
  const bool ok = fwrite(page.data(), 1, page.size(), f_) == page.size() && fflush(f_) == 0;
  const int write_errno = errno;
  const bool closed = fclose(f_) == 0;
  f_ = nullptr;
  if (!ok || !closed) {
    *error = "cannot write " + path_ + ": " + strerror(ok ? errno : write_errno);
    out_.reset();  // its new file is removed; what was at path_ stays
    return false;
  }
  return out_->Commit(error);
}

}  // namespace

std::unique_ptr<Exporter> MakeHtmlExporter(const std::string& path, std::string* error) {
  auto out = OutputFile::Create(path, error);
  if (!out) return nullptr;
  const int fd = fcntl(out->fd(), F_DUPFD_CLOEXEC, 0);
  FILE* f = fd < 0 ? nullptr : fdopen(fd, "w");
  if (!f) {
    *error = "cannot write " + path + ": " + strerror(errno);
    if (fd >= 0) close(fd);
    return nullptr;
  }
  return std::make_unique<HtmlExporter>(f, std::move(out), path);
}

}  // namespace probe
