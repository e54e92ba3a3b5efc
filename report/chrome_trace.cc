// Chrome Trace Event Format JSON (ui.perfetto.dev, chrome://tracing) from a
// probe record file, streamed: each record becomes its events as it arrives
// and the events go out through a buffer of kFlushBytes, so the output can be
// far larger than memory. What is kept is bounded by threads, not events:
// names per pid/tid, open marker spans per thread, processes still alive at
// the end. Names go out as metadata events at Finish (or when the table of
// threads seen fills up).
//
// Mapping (ts and dur are microseconds with ns precision, relative to
// Header.start_time_ns; earlier times are clamped to 0):
//   SyscallCall      -> "X" cat syscall, name "pselect6", "read(eventfd)", ...
//   ShimCall         -> "X" cat shim, name "select (user)": around the kernel slice
//   Marker           -> INSTANT: "i" (s: t); BEGIN..END: one "X" cat marker
//   Wakeup           -> "X" "run queue" on the wakee (wake -> on CPU), and with a
//                       waker a flow "s" (waker, wake time) -> "f" (wakee, on CPU);
//                       the "s" binds to a zero-length "wake" slice on the waker,
//                       the "f" to the run-queue slice (or a zero-length "woken")
//   ProcessLifetime  -> "X" "process <comm>" on the main thread, exec (or fork) -> exit
//   Syscall/SchedHistogram -> "C" counters per pid (cumulative)
//   Stats            -> "C" counters "records written", "sampled out", "lost"
//                       on the agent's pid; "shim records written"/"lost" per pid
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include "chrome_args.h"
#include "counters.h"
#include "exporter.h"
#include "json_writer.h"
#include "names.h"
#include "output_file.h"

namespace probe {
namespace {

constexpr size_t kFlushBytes = 1 << 20;
constexpr size_t kMaxSeenThreads = 1 << 18;  // then their names go out early
constexpr size_t kMaxOpenSpans = 256;        // per thread; the oldest give way
constexpr size_t kMaxSpanThreads = 1 << 16;  // threads with open spans
constexpr size_t kMaxPendingProcesses = 1 << 16;

uint64_t ThreadKey(int32_t pid, int32_t tid) {
  return (uint64_t{static_cast<uint32_t>(pid)} << 32) | static_cast<uint32_t>(tid);
}
int32_t KeyPid(uint64_t key) { return static_cast<int32_t>(static_cast<uint32_t>(key >> 32)); }
int32_t KeyTid(uint64_t key) { return static_cast<int32_t>(static_cast<uint32_t>(key)); }

bool ShimFdIsNfds(v1::ShimFunction f) {
  return f == v1::SHIM_SELECT || f == v1::SHIM_PSELECT || f == v1::SHIM_POLL || f == v1::SHIM_PPOLL;
}

const char* OffCpuStateName(v1::OffCpuState s) {
  switch (s) {
    case v1::OFF_CPU_PREEMPTED:
      return "preempted";
    case v1::OFF_CPU_SLEEPING:
      return "sleeping";
    case v1::OFF_CPU_BLOCKED:
      return "uninterruptible";
    default:
      return "other";
  }
}

const char* KindName(v1::EventKind k) {
  switch (k) {
    case v1::EVENT_KIND_PROCESS:
      return "process";
    case v1::EVENT_KIND_SYSCALL:
      return "syscall";
    case v1::EVENT_KIND_WAKEUP:
      return "wakeup";
    case v1::EVENT_KIND_SHIM:
      return "shim";
    default:
      return "other";
  }
}

class ChromeTraceExporter : public Exporter {
 public:
  ChromeTraceExporter(std::string path, std::unique_ptr<OutputFile> out, const NameTable& names)
      : path_(std::move(path)), out_(std::move(out)), fd_(out_->fd()), names_(names) {
    buf_.reserve(kFlushBytes + 4096);
    buf_.append("{\"traceEvents\":[");
  }

  void OnHeader(const v1::Header& h) override {
    Each([&] { AddHeader(h); });
  }
  void OnTrailer(const v1::Trailer& t) override {
    Each([&] {
      has_trailer_ = true;
      stop_reason_ = t.stop_reason();
      trailer_time_ns_ = t.time_ns();
      SeeTime(t.time_ns());
    });
  }
  void OnStats(const v1::Stats& st) override {
    Each([&] { AddStats(st); });
  }
  // Snapshots and thread names only name things: the NameTable holds them.
  void OnSnapshot(const v1::ProcessSnapshot&) override {
    Each([] {});
  }
  void OnThreadName(const v1::ThreadName&) override {
    Each([] {});
  }
  void OnProcess(const v1::ProcessLifetime& p) override {
    Each([&] { AddProcess(p); });
  }
  void OnSyscall(const v1::SyscallCall& c) override {
    Each([&] { AddSyscall(c); });
  }
  void OnSyscallHistogram(const v1::SyscallHistogram& h) override {
    Each([&] { AddSyscallHistogram(h); });
  }
  void OnWakeup(const v1::Wakeup& w) override {
    Each([&] { AddWakeup(w); });
  }
  void OnSchedHistogram(const v1::SchedHistogram& h) override {
    Each([&] { AddSchedHistogram(h); });
  }
  void OnShimCall(const v1::ShimCall& c) override {
    Each([&] { AddShimCall(c); });
  }
  void OnMarker(const v1::Marker& m) override {
    Each([&] { AddMarker(m); });
  }
  void OnUnknown(const v1::Record&) override {
    Each([&] { ++unknown_records_; });
  }

  bool Finish(std::string* error) override {
    if (finished_) {
      *error = "Chrome trace " + path_ + " already finished";
      return false;
    }
    finished_ = true;
    FinishOpenSpans();
    FinishPendingProcesses();
    EmitNames();
    buf_.append("\n],\n\"displayTimeUnit\":\"ns\",\n\"metadata\":");
    AppendMetadata();
    buf_.append("}\n");
    Flush();
    fd_ = -1;
    if (write_errno_ != 0) {
      *error = "cannot write Chrome trace " + path_ + ": " + strerror(write_errno_);
      out_.reset();  // no half-written JSON left behind: its new file is removed
      return false;
    }
    return out_->Commit(error);
  }

 private:
  struct OpenSpan {
    std::string name;
    uint64_t time_ns;
    int64_t arg0, arg1;
  };
  struct PendingProcess {
    int32_t pid;
    uint64_t start_ns;
    v1::ProcessLifetime lifetime;
  };

  // Every record is counted, and the buffer flushed when full, after its events.
  template <typename AddEvents>
  void Each(AddEvents add) {
    if (finished_) return;
    add();
    ++records_;
    MaybeFlush();
  }

  // ---- output -----------------------------------------------------------
  std::string* Next() {
    buf_.append(events_ == 0 ? "\n" : ",\n");
    ++events_;
    return &buf_;
  }

  void MaybeFlush() {
    if (buf_.size() >= kFlushBytes) Flush();
  }

  void Flush() {
    size_t off = 0;
    while (write_errno_ == 0 && off < buf_.size()) {
      ssize_t n = write(fd_, buf_.data() + off, buf_.size() - off);
      if (n < 0) {
        if (errno == EINTR) continue;
        write_errno_ = errno;
      } else if (n == 0) {
        write_errno_ = EIO;
      } else {
        off += static_cast<size_t>(n);
      }
    }
    buf_.clear();  // after an error the rest is dropped: Finish reports it
  }

  // ---- time -------------------------------------------------------------
  uint64_t Rel(uint64_t ns) const { return ns > base_ns_ ? ns - base_ns_ : 0; }
  void SeeTime(uint64_t ns) { last_ns_ = std::max(last_ns_, ns); }

  // An "X" event for [start, start + dur], clamped at the origin.
  Event Slice(std::string_view name, std::string_view cat, int32_t pid, int32_t tid,
              uint64_t start_ns, uint64_t dur_ns) {
    const uint64_t end = start_ns + dur_ns;
    SeeTime(end);
    NoteThread(pid, tid);
    const uint64_t start = std::max(start_ns, base_ns_);
    return Event(Next(), name, cat, pid, tid, Rel(start), end > start ? end - start : 0);
  }

  // ---- names ------------------------------------------------------------
  void NoteThread(int32_t pid, int32_t tid) {
    const uint64_t key = ThreadKey(pid, tid);
    if (seen_.count(key)) return;
    if (seen_.size() >= kMaxSeenThreads) EmitNames();  // bounded: names go out now
    seen_.insert(key);
  }

  std::string ProcessNameOf(int32_t pid) const {
    if (pid == 0) return kernel_seen_ ? "kernel" : "probe";
    if (pid == agent_pid_) return "probe-agent";
    if (const std::string* name = names_.Process(pid)) return *name;
    if (const std::string* name = names_.Thread(pid)) return *name;
    return "pid " + std::to_string(pid);
  }

  std::string ThreadNameOf(int32_t pid, int32_t tid) const {
    if (pid == 0 && tid == 0) return kernel_seen_ ? "interrupts (idle CPUs)" : "counters";
    if (const std::string* name = names_.Thread(tid)) return *name;
    if (pid != 0 && pid == agent_pid_ && tid == pid) return "probe-agent";
    if (tid == pid) {
      if (const std::string* name = names_.Process(pid)) return *name;
    }
    return (pid == 0 ? "kernel thread " : "tid ") + std::to_string(tid);
  }

  // process_name and thread_name metadata for every thread seen (sorted, so
  // the output does not depend on hash order), then forgets them.
  void EmitNames() {
    std::vector<uint64_t> keys(seen_.begin(), seen_.end());
    std::sort(keys.begin(), keys.end());
    int32_t last_pid = 0;
    bool any = false;
    for (uint64_t key : keys) {
      const int32_t pid = KeyPid(key), tid = KeyTid(key);
      if (!any || pid != last_pid) {
        Event(Next(), 'M', "process_name", "", pid, pid).Arg("name", ProcessNameOf(pid));
        last_pid = pid;
        any = true;
      }
      Event(Next(), 'M', "thread_name", "", pid, tid).Arg("name", ThreadNameOf(pid, tid));
      MaybeFlush();
    }
    seen_.clear();
  }

  // ---- records ----------------------------------------------------------
  void AddHeader(const v1::Header& h) {
    if (has_header_) return;  // the first one sets the origin
    has_header_ = true;
    header_ = h;
    // The origin moves only while nothing has been written against another.
    if (events_ == 0) base_ns_ = h.start_time_ns();
    agent_pid_ = h.agent_pid();
  }

  void AddProcess(const v1::ProcessLifetime& p) {
    const uint64_t start = p.exec_time_ns() ? p.exec_time_ns() : p.fork_time_ns();
    if (p.exit_time_ns() == 0 && pending_.size() < kMaxPendingProcesses) {
      // Still alive at the agent's stop: it ends with the trace, known at Finish.
      pending_.push_back({p.pid(), start, p});
      return;
    }
    const uint64_t end = p.exit_time_ns() ? p.exit_time_ns() : std::max(last_ns_, start);
    EmitProcess(p, start, end);
  }

  void EmitProcess(const v1::ProcessLifetime& p, uint64_t start, uint64_t end) {
    if (end < start) end = start;
    const std::string name = p.comm().empty() ? std::to_string(p.pid()) : p.comm();
    Event e = Slice("process " + name, "process", p.pid(), p.pid(), start, end - start);
    AddProcessArgs(p, &e);
  }

  void AddSyscall(const v1::SyscallCall& c) {
    Event e = Slice(SyscallName(c.syscall()), "syscall", c.pid(), c.tid(), c.start_time_ns(),
                    c.duration_ns());
    AddSyscallArgs(c, names_, &e);
  }

  void AddShimCall(const v1::ShimCall& c) {
    Event e = Slice(ShimFunctionName(c.function()) + " (user)", "shim", c.pid(), c.tid(),
                    c.entry_ns(), c.duration_ns());
    e.ArgInt("result", c.result());
    e.ArgInt(ShimFdIsNfds(c.function()) ? "nfds" : "fd", c.fd());
    if (c.error() != 0) e.ArgUint("errno", c.error());
  }

  void AddMarker(const v1::Marker& m) {
    SeeTime(m.time_ns());
    const uint64_t key = ThreadKey(m.pid(), m.tid());
    switch (m.type()) {
      case v1::MARKER_BEGIN: {
        auto it = open_spans_.find(key);
        if (it == open_spans_.end()) {
          if (open_spans_.size() >= kMaxSpanThreads) {
            Instant(m, "unmatched", "begin (too many threads with open spans)");
            return;
          }
          it = open_spans_.emplace(key, std::vector<OpenSpan>()).first;
        }
        std::vector<OpenSpan>& spans = it->second;
        if (spans.size() >= kMaxOpenSpans) {
          // The oldest gives way and stays visible as an instant.
          const OpenSpan& old = spans.front();
          NoteThread(m.pid(), m.tid());
          Event(Next(), 'i', old.name, "marker", m.pid(), m.tid())
              .Ts(Rel(old.time_ns))
              .Field("s", "t")
              .ArgInt("arg0", old.arg0)
              .ArgInt("arg1", old.arg1)
              .Arg("unmatched", "begin (too many open spans)");
          spans.erase(spans.begin());
        }
        spans.push_back({m.name(), m.time_ns(), m.arg0(), m.arg1()});
        break;
      }
      case v1::MARKER_END: {
        auto it = open_spans_.find(key);
        if (it != open_spans_.end()) {
          std::vector<OpenSpan>& spans = it->second;
          for (size_t i = spans.size(); i-- > 0;) {
            if (spans[i].name != m.name()) continue;
            const OpenSpan& b = spans[i];
            const uint64_t dur = m.time_ns() > b.time_ns ? m.time_ns() - b.time_ns : 0;
            Slice(b.name, "marker", m.pid(), m.tid(), b.time_ns, dur)
                .ArgInt("arg0", b.arg0)
                .ArgInt("arg1", b.arg1)
                .ArgInt("end_arg0", m.arg0())
                .ArgInt("end_arg1", m.arg1());
            spans.erase(spans.begin() + static_cast<std::ptrdiff_t>(i));
            if (spans.empty()) open_spans_.erase(it);
            return;
          }
        }
        Instant(m, "unmatched", "end");
        break;
      }
      default:
        Instant(m, nullptr, nullptr);
        break;
    }
  }

  void Instant(const v1::Marker& m, const char* note_key, const char* note) {
    NoteThread(m.pid(), m.tid());
    Event e(Next(), 'i', m.name(), "marker", m.pid(), m.tid());
    e.Ts(Rel(m.time_ns())).Field("s", "t").ArgInt("arg0", m.arg0()).ArgInt("arg1", m.arg1());
    if (note_key) e.Arg(note_key, note);
  }

  // BEGINs never ENDed: slices to the end of the trace.
  void FinishOpenSpans() {
    std::vector<uint64_t> keys;
    keys.reserve(open_spans_.size());
    for (const auto& [key, spans] : open_spans_) keys.push_back(key);
    std::sort(keys.begin(), keys.end());
    for (uint64_t key : keys) {
      for (const OpenSpan& b : open_spans_[key]) {
        const uint64_t end = std::max(last_ns_, b.time_ns);
        Slice(b.name, "marker", KeyPid(key), KeyTid(key), b.time_ns, end - b.time_ns)
            .ArgInt("arg0", b.arg0)
            .ArgInt("arg1", b.arg1)
            .ArgBool("unclosed", true);
        MaybeFlush();
      }
    }
    open_spans_.clear();
  }

  void FinishPendingProcesses() {
    const uint64_t end = has_trailer_ ? std::max(last_ns_, trailer_time_ns_) : last_ns_;
    for (const PendingProcess& p : pending_) {
      EmitProcess(p.lifetime, p.start_ns, std::max(end, p.start_ns));
      MaybeFlush();
    }
    pending_.clear();
  }

  void AddWakeup(const v1::Wakeup& w) {
    const uint64_t on = w.on_cpu_time_ns();
    const uint64_t wake = std::min(w.wake_time_ns(), on);
    const bool has_waker = w.has_waker() && w.state() != v1::OFF_CPU_PREEMPTED;
    if (w.run_queue_ns() > 0) {
      Event e = Slice("run queue", "sched", w.pid(), w.tid(), wake, on - wake);
      e.Arg("state", OffCpuStateName(w.state()))
          .ArgUint("off_cpu_ns", w.off_cpu_ns())
          .ArgUint("run_queue_ns", w.run_queue_ns())
          .ArgUint("cpu", w.cpu());
      if (has_waker) AddWakerArgs(w.waker(), names_, &e);
    }
    if (!has_waker) return;
    const v1::Waker& k = w.waker();
    if (k.pid() == 0) kernel_seen_ = true;
    const uint64_t id = ++flow_id_;
    // Flow ends bind to the enclosing slice: zero-length slices make sure
    // there is one at both ends, whatever else was traced.
    {
      Event e = Slice("wake", "wakeup", k.pid(), k.tid(), wake, 0);
      e.ArgInt("wakee_pid", w.pid()).ArgInt("wakee_tid", w.tid());
      if (k.pid() != 0 && k.syscall_nr() >= 0) e.Arg("in_syscall", FormatWakerSyscall(k));
      MarkUntrackedWaker(k, &e);
    }
    Event(Next(), 's', "wakeup", "wakeup", k.pid(), k.tid()).Ts(Rel(wake)).FieldUint("id", id);
    if (w.run_queue_ns() == 0) {
      Event e = Slice("woken", "wakeup", w.pid(), w.tid(), on, 0);
      e.ArgInt("waker_pid", k.pid()).ArgInt("waker_tid", k.tid());
      MarkUntrackedWaker(k, &e);
    }
    Event(Next(), 'f', "wakeup", "wakeup", w.pid(), w.tid())
        .Ts(Rel(on))
        .FieldUint("id", id)
        .Field("bp", "e");
  }

  void Counter(std::string_view name, int32_t pid, uint64_t time_ns, std::string_view key,
               uint64_t value, bool millis = false) {
    SeeTime(time_ns);
    NoteThread(pid, pid);
    Event e(Next(), 'C', name, "", pid, pid);
    e.Ts(Rel(time_ns));
    if (millis) {
      e.ArgMillis(key, value);
    } else {
      e.ArgUint(key, value);
    }
  }

  void AddSyscallHistogram(const v1::SyscallHistogram& h) {
    const std::string name = SyscallName(h.syscall());
    Counter("calls: " + name, h.pid(), h.time_ns(), "count", h.count());
    Counter("total time: " + name, h.pid(), h.time_ns(), "ms", h.sum_ns(), true);
    if (h.timeouts() > 0) Counter("timeouts: " + name, h.pid(), h.time_ns(), "count", h.timeouts());
    if (h.errors() > 0) Counter("errors: " + name, h.pid(), h.time_ns(), "count", h.errors());
  }

  void AddSchedHistogram(const v1::SchedHistogram& h) {
    const bool rq = h.kind() == v1::SCHED_HISTOGRAM_RUN_QUEUE;
    if (!rq && h.kind() != v1::SCHED_HISTOGRAM_OFF_CPU) return;
    Counter(rq ? "run queue waits" : "off-CPU periods", h.pid(), h.time_ns(), "count", h.count());
    Counter(rq ? "run queue time" : "off-CPU time", h.pid(), h.time_ns(), "ms", h.sum_ns(), true);
  }

  void AddStats(const v1::Stats& s) {
    // The shim's own counts per process (the only ones in a shim-only file).
    for (const v1::ShimProcess& p : s.shim()) {
      Counter("shim records written", p.pid(), s.time_ns(), "count", p.written());
      Counter("shim records lost", p.pid(), s.time_ns(), "count",
              p.lost_buffer_full() + p.lost_no_buffer() + p.lost_write());
    }
    if (s.counters_size() == 0) return;
    SeeTime(s.time_ns());
    const int32_t pid = agent_pid_;
    NoteThread(pid, pid);
    struct Series {
      const char* name;
      uint64_t (*get)(const v1::KindCounters&);
    };
    static const Series kSeries[] = {
        {"records written", [](const v1::KindCounters& c) { return c.written(); }},
        {"sampled out", [](const v1::KindCounters& c) { return c.sampled_out(); }},
        {"lost", [](const v1::KindCounters& c) { return counters::Lost(c); }},
    };
    for (const Series& series : kSeries) {
      Event e(Next(), 'C', series.name, "", pid, pid);
      e.Ts(Rel(s.time_ns()));
      for (const v1::KindCounters& c : s.counters()) e.ArgUint(KindName(c.kind()), series.get(c));
    }
  }

  void AppendMetadata() {
    std::string* o = &buf_;
    auto key = [o](const char* k) {
      o->append(",\n  \"");
      o->append(k);
      o->append("\":");
    };
    o->append("{\"source\":\"probe-report\"");
    key("clock");
    AppendString(o, "CLOCK_MONOTONIC; ts = monotonic ns - start_time_ns, in microseconds");
    key("start_time_ns");
    AppendUint(o, base_ns_);
    if (has_header_) {
      const v1::Header& h = header_;
      key("format_version");
      AppendUint(o, h.format_version());
      key("hostname");
      AppendString(o, h.hostname());
      key("kernel_release");
      AppendString(o, h.kernel_release());
      key("agent_version");
      AppendString(o, h.agent_version());
      key("wall_clock_offset_ns");
      AppendInt64(o, h.wall_clock_offset_ns());
      std::string cmd;
      for (const std::string& a : h.command_line()) {
        if (!cmd.empty()) cmd.push_back(' ');
        cmd += a;
      }
      key("command_line");
      AppendString(o, cmd);
      key("agent_pid");
      AppendInt(o, h.agent_pid());
      key("min_latency_ns");
      AppendUint(o, h.min_latency_ns());
      key("shim_only");
      o->append(h.shim_only() ? "true" : "false");
    }
    if (has_trailer_) {
      key("stop_reason");
      AppendString(o, stop_reason_);
    }
    key("records");
    AppendUint(o, records_);
    if (unknown_records_ > 0) {
      key("unknown_records");
      AppendUint(o, unknown_records_);
    }
    key("events");
    AppendUint(o, events_);
    o->append("\n}\n");
  }

  const std::string path_;
  std::unique_ptr<OutputFile> out_;  // owns fd_
  int fd_;
  std::string buf_;
  int write_errno_ = 0;
  bool finished_ = false;

  bool has_header_ = false;
  v1::Header header_;
  uint64_t base_ns_ = 0;
  uint64_t last_ns_ = 0;
  int32_t agent_pid_ = 0;
  bool has_trailer_ = false;
  std::string stop_reason_;
  uint64_t trailer_time_ns_ = 0;
  bool kernel_seen_ = false;

  uint64_t records_ = 0;
  uint64_t unknown_records_ = 0;
  uint64_t events_ = 0;
  uint64_t flow_id_ = 0;

  const NameTable& names_;
  std::unordered_set<uint64_t> seen_;  // (pid, tid) used by events since names last went out
  std::unordered_map<uint64_t, std::vector<OpenSpan>> open_spans_;
  std::vector<PendingProcess> pending_;
};

}  // namespace

std::unique_ptr<Exporter> MakeChromeTraceExporter(const std::string& path, const NameTable& names,
                                                  std::string* error) {
  auto out = OutputFile::Create(path, error);
  if (!out) return nullptr;
  return std::make_unique<ChromeTraceExporter>(path, std::move(out), names);
}

}  // namespace probe
