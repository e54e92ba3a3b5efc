// CSV export: one file per record kind in a directory, each created on the
// first record of its kind, header row first, rows in file order.
//
//   processes.csv           ProcessLifetime and ProcessSnapshot (snapshot = true)
//   syscalls.csv            SyscallCall, breakdown flattened, waker comm and syscall named
//   syscall_histograms.csv  SyscallHistogram, buckets ';'-joined in one column
//   wakeups.csv             Wakeup, waker comm and syscall named
//   sched_histograms.csv    SchedHistogram
//   shim_calls.csv          ShimCall
//   markers.csv             Marker
//   thread_names.csv        ThreadName
//   counters.csv            one row per KindCounters of each Stats / Trailer (final = true)
//   syscall_percentiles.csv p50/p90/p99 per (pid, syscall), as the text report gives them
//   runs.csv                RepeatRun (--repeat N): one row per run
//   repeat_summary.csv      --repeat N: the command's time per run, and per
//                           process name the count per run and exec->exit:
//                           n, mean, sd, median, min, max (ns; means as decimals)
//
// Fields are quoted per RFC 4180 (those holding a comma, a quote, CR or LF;
// quotes doubled); rows end with LF. Enum values are their names without the
// prefix, lower case (pselect6, instant, sleeping, run_queue). Absent values
// (an unset optional fd, the breakdown of a call that never blocked, the
// waker of a preemption) are empty fields. argv is joined with spaces,
// arguments shell-quoted when needed (Python: shlex.split). Names, argv and
// paths are bytes: a byte that is not part of well-formed UTF-8 is written as
// \xHH, so the files are UTF-8 (as bytes.decode("utf-8", "backslashreplace")
// shows them in Python). Files are made as report/output_file.h says: never
// through a symlink, never truncated in place, mode 0600. Memory is bounded:
// one 64 KiB buffer per open file; wakers' names come from the NameTable.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstring>
#include <filesystem>
#include <memory>
#include <string_view>

#include "column_text.h"
#include "counters.h"
#include "exporter.h"
#include "output_file.h"
#include "text_escape.h"

namespace probe {
namespace {

constexpr size_t kBufferBytes = 64 * 1024;

bool IsAscii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

// One CSV file: buffered writes, the first error kept.
class CsvFile {
 public:
  CsvFile(int dirfd, const std::string& name, const std::string& path, std::string_view header)
      : path_(path) {
    out_ = OutputFile::CreateAt(dirfd, name, path, &error_);
    if (!out_) return;
    fd_ = out_->fd();
    buf_.reserve(kBufferBytes + 4096);
    buf_.append(header);
    buf_ += '\n';
  }
  CsvFile(const CsvFile&) = delete;
  CsvFile& operator=(const CsvFile&) = delete;

  const std::string& error() const { return error_; }

  // Names are bytes: any that are not UTF-8 go out as \xHH (text_escape.h).
  void Text(std::string_view raw) {
    Sep();
    std::string safe;
    std::string_view s = raw;
    if (!IsAscii(raw)) s = safe = Utf8Text(raw);
    if (s.find_first_of(",\"\r\n") == std::string_view::npos) {
      buf_.append(s);
      return;
    }
    buf_ += '"';
    for (char c : s) {
      if (c == '"') buf_ += '"';
      buf_ += c;
    }
    buf_ += '"';
  }
  template <typename T>
  void Num(T v) {
    Sep();
    char tmp[24];
    auto res = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, res.ptr);
  }
  void Bool(bool b) { Text(b ? "true" : "false"); }
  void Empty() { Sep(); }
  void EndRow() {
    buf_ += '\n';
    first_ = true;
    if (buf_.size() >= kBufferBytes) Flush();
  }

  bool Close(std::string* error) {
    Flush();
    fd_ = -1;
    if (error_.empty() && out_ && !out_->Commit(&error_)) out_.reset();
    if (!error_.empty()) {
      out_.reset();  // not committed: its new file is removed
      *error = error_;
    }
    return error_.empty();
  }

 private:
  void Sep() {
    if (!first_) buf_ += ',';
    first_ = false;
  }
  void Flush() {
    size_t done = 0;
    while (fd_ >= 0 && error_.empty() && done < buf_.size()) {
      ssize_t n = write(fd_, buf_.data() + done, buf_.size() - done);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        error_ = "cannot write " + path_ + ": " + (n < 0 ? strerror(errno) : "short write");
        break;
      }
      done += static_cast<size_t>(n);
    }
    buf_.clear();
  }

  std::string path_;
  std::unique_ptr<OutputFile> out_;  // owns fd_
  int fd_ = -1;
  std::string buf_;
  bool first_ = true;
  std::string error_;
};

enum FileKind {
  kProcesses,
  kSyscalls,
  kSyscallHistograms,
  kWakeups,
  kSchedHistograms,
  kShimCalls,
  kMarkers,
  kThreadNames,
  kCounters,
  kPercentiles,
  kRuns,
  kRepeatSummary,
  kFileKinds,
};

struct FileSpec {
  const char* name;
  const char* header;
};

constexpr FileSpec kFiles[kFileKinds] = {
    {"processes.csv",
     "snapshot,pid,ppid,comm,exe,argv,argv_truncated,start_time_ns,threads,fork_time_ns,"
     "exec_time_ns,exit_time_ns,exec_to_exit_ns,fork_to_exec_ns,exit_code,exit_signal,"
     "core_dumped,user_time_ns,system_time_ns,peak_rss_bytes,finished,exec_count,run_index,"
     "user_time_before_ns,system_time_before_ns"},
    {"syscalls.csv",
     "pid,tid,syscall,start_time_ns,duration_ns,ret,interrupted,fd,nfds,timeout_ns,timed_out,"
     "value,eventfd_flags,to_block_ns,blocked_ns,run_queue_ns,return_ns,total_blocked_ns,woken,"
     "waker_pid,waker_tid,waker_comm,waker_syscall_nr,waker_fd,waker_syscall,waker_context,"
     "waker_context_detail"},
    {"syscall_histograms.csv",
     "pid,syscall,time_ns,count,sum_ns,min_ns,max_ns,timeouts,errors,log2_buckets"},
    {"wakeups.csv",
     "pid,tid,on_cpu_time_ns,cpu,off_cpu_time_ns,wake_time_ns,state,off_cpu_ns,run_queue_ns,"
     "waker_pid,waker_tid,waker_comm,waker_syscall_nr,waker_fd,waker_syscall,waker_context,"
     "waker_context_detail"},
    {"sched_histograms.csv", "pid,kind,time_ns,count,sum_ns,min_ns,max_ns,log2_buckets"},
    {"shim_calls.csv", "pid,tid,function,entry_ns,duration_ns,result,fd,error"},
    {"markers.csv", "pid,tid,type,name,time_ns,arg0,arg1"},
    {"thread_names.csv", "pid,tid,comm"},
    {"counters.csv", nullptr},  // CsvCountersHeader(): the columns of the counter table
    {"syscall_percentiles.csv", "pid,syscall,count,p50_ns,p90_ns,p99_ns,max_ns,exact"},
    {"runs.csv",
     "index,pid,start_time_ns,exec_time_ns,end_time_ns,duration_ns,exit_code,exit_signal,"
     "succeeded,processes"},
    {"repeat_summary.csv", "figure,comm,n,mean,sd,median,min,max"},
};

class CsvExporter : public Exporter {
 public:
  CsvExporter(std::string dir, UniqueFd dirfd, const TraceSummary& summary)
      : dir_(std::move(dir)), dirfd_(std::move(dirfd)), summary_(summary), names_(summary.names) {}

  void OnProcess(const v1::ProcessLifetime& p) override {
    Process(p);
    repeats_.OnProcess(p);
  }
  void OnHeader(const v1::Header& h) override { repeats_.OnHeader(h); }
  void OnSnapshot(const v1::ProcessSnapshot& s) override { Snapshot(s); }
  void OnSyscall(const v1::SyscallCall& c) override { Syscall(c); }
  void OnSyscallHistogram(const v1::SyscallHistogram& h) override { SyscallHistogram(h); }
  void OnWakeup(const v1::Wakeup& w) override { Wakeup(w); }
  void OnSchedHistogram(const v1::SchedHistogram& h) override { SchedHistogram(h); }
  void OnShimCall(const v1::ShimCall& c) override { ShimCall(c); }
  void OnMarker(const v1::Marker& m) override { Marker(m); }
  void OnThreadName(const v1::ThreadName& t) override { ThreadName(t); }
  void OnStats(const v1::Stats& st) override {
    Counters(st.time_ns(), false, st.counters(), st.bytes_written());
  }
  void OnTrailer(const v1::Trailer& t) override {
    Counters(t.time_ns(), true, t.counters(), t.bytes_written());
  }
  void OnRepeatRun(const v1::RepeatRun& r) override {
    Run(r);
    repeats_.OnRepeatRun(r);
  }

  bool Finish(std::string* error) override {
    Percentiles();
    RepeatSummary();
    bool ok = true;
    for (auto& f : files_) {
      if (!f) continue;
      std::string e;
      if (!f->Close(&e) && ok) {
        *error = e;
        ok = false;
      }
    }
    return ok;
  }

 private:
  // The file of a kind, opened on first use; its errors surface in Finish.
  CsvFile& File(FileKind k) {
    if (!files_[k])
      files_[k] = std::make_unique<CsvFile>(
          dirfd_.get(), kFiles[k].name, dir_ + "/" + kFiles[k].name,
          kFiles[k].header ? std::string(kFiles[k].header) : CsvCountersHeader());
    return *files_[k];
  }

  void Process(const v1::ProcessLifetime& p) {
    CsvFile& f = File(kProcesses);
    f.Bool(false);
    f.Num(p.pid());
    f.Num(p.ppid());
    f.Text(p.comm());
    f.Text(p.exe());
    f.Text(JoinArgv(p.argv()));
    f.Bool(p.argv_truncated());
    f.Empty();  // start_time_ns
    f.Empty();  // threads
    // Empty, not 0, where the value is not known: no exec seen, or not
    // finished when the recording stopped (a 0 would enter averages).
    const bool exec = p.exec_time_ns() != 0, done = p.finished();
    f.Num(p.fork_time_ns());
    exec ? f.Num(p.exec_time_ns()) : f.Empty();
    done ? f.Num(p.exit_time_ns()) : f.Empty();
    exec&& done ? f.Num(p.exec_to_exit_ns()) : f.Empty();
    exec ? f.Num(p.fork_to_exec_ns()) : f.Empty();
    done ? f.Num(p.exit_code()) : f.Empty();
    done ? f.Num(p.exit_signal()) : f.Empty();
    done ? f.Bool(p.core_dumped()) : f.Empty();
    f.Num(p.user_time_ns());
    f.Num(p.system_time_ns());
    f.Num(p.peak_rss_bytes());
    f.Bool(p.finished());
    f.Num(p.exec_count());
    f.Num(p.run_index());
    // Its CPU time when the recording started, for a process that existed
    // then: the total less the total then is the recording's share (one of
    // user and system alone can go below it: /proc split the one, the
    // kernel the other).
    p.has_user_time_before_ns() ? f.Num(p.user_time_before_ns()) : f.Empty();
    p.has_system_time_before_ns() ? f.Num(p.system_time_before_ns()) : f.Empty();
    f.EndRow();
  }

  void Snapshot(const v1::ProcessSnapshot& s) {
    CsvFile& f = File(kProcesses);
    f.Bool(true);
    f.Num(s.pid());
    f.Num(s.ppid());
    f.Text(s.comm());
    f.Text(s.exe());
    f.Text(JoinArgv(s.argv()));
    f.Empty();  // argv_truncated
    f.Num(s.start_time_ns());
    std::string threads;  // tid:comm;tid:comm
    for (const v1::Thread& t : s.threads()) {
      if (!threads.empty()) threads += ';';
      threads += std::to_string(t.tid()) + ":" + t.comm();
    }
    f.Text(threads);
    for (int i = 0; i < 8; ++i) f.Empty();  // fork_time_ns .. core_dumped
    // Its CPU time when the snapshot was taken (since its own start).
    s.has_user_time_ns() ? f.Num(s.user_time_ns()) : f.Empty();
    s.has_system_time_ns() ? f.Num(s.system_time_ns()) : f.Empty();
    for (int i = 0; i < 6; ++i) f.Empty();  // peak_rss_bytes .. system_time_before_ns
    f.EndRow();
  }

  void Waker(CsvFile& f, const v1::Waker& w) {
    f.Num(w.pid());
    f.Num(w.tid());
    f.Text(names_.WakerComm(w));
    f.Num(w.syscall_nr());
    if (w.has_fd())
      f.Num(w.fd());
    else
      f.Empty();
    // Its name, as the text report gives it (the number stays for scripts).
    f.Text(w.syscall_nr() >= 0 ? X86SyscallName(w.syscall_nr()) : std::string());
    // What woke it: in every context but "task", the columns before are the
    // task the interrupt or timer happened to interrupt, not the waker
    // ("untracked": the recording could not tell, --no-waker-context).
    f.Text(EnumName(v1::WakerContext_descriptor(), w.context(), "WAKER_CONTEXT_"));
    f.Text(WakerContextDetail(w));
  }

  static void NoWaker(CsvFile& f) {
    for (int i = 0; i < 8; ++i) f.Empty();
  }

  void Syscall(const v1::SyscallCall& c) {
    CsvFile& f = File(kSyscalls);
    f.Num(c.pid());
    f.Num(c.tid());
    f.Text(EnumName(v1::Syscall_descriptor(), c.syscall(), "SYSCALL_"));
    f.Num(c.start_time_ns());
    f.Num(c.duration_ns());
    f.Num(c.ret());
    f.Bool(c.interrupted());
    if (c.has_fd())
      f.Num(c.fd());
    else
      f.Empty();
    f.Num(c.nfds());
    if (c.has_timeout())
      f.Num(c.timeout_ns());
    else
      f.Empty();
    f.Bool(c.timed_out());
    if (c.has_value())
      f.Num(c.value());
    else
      f.Empty();
    f.Num(c.eventfd_flags());
    if (c.has_breakdown()) {
      const v1::WaitBreakdown& b = c.breakdown();
      f.Num(b.to_block_ns());
      f.Num(b.blocked_ns());
      f.Num(b.run_queue_ns());
      f.Num(b.return_ns());
      // Absent when it blocked once: the same as blocked_ns.
      f.Num(b.total_blocked_ns() != 0 ? b.total_blocked_ns() : b.blocked_ns());
      f.Bool(b.woken());
      if (b.woken())
        Waker(f, b.waker());
      else
        NoWaker(f);
    } else {
      for (int i = 0; i < 6; ++i) f.Empty();
      NoWaker(f);
    }
    f.EndRow();
  }

  void SyscallHistogram(const v1::SyscallHistogram& h) {
    CsvFile& f = File(kSyscallHistograms);
    f.Num(h.pid());
    f.Text(EnumName(v1::Syscall_descriptor(), h.syscall(), "SYSCALL_"));
    f.Num(h.time_ns());
    f.Num(h.count());
    f.Num(h.sum_ns());
    f.Num(h.min_ns());
    f.Num(h.max_ns());
    f.Num(h.timeouts());
    f.Num(h.errors());
    f.Text(JoinNumbers(h.log2_buckets()));
    f.EndRow();
  }

  void Wakeup(const v1::Wakeup& w) {
    CsvFile& f = File(kWakeups);
    f.Num(w.pid());
    f.Num(w.tid());
    f.Num(w.on_cpu_time_ns());
    f.Num(w.cpu());
    f.Num(w.off_cpu_time_ns());
    f.Num(w.wake_time_ns());
    f.Text(EnumName(v1::OffCpuState_descriptor(), w.state(), "OFF_CPU_"));
    f.Num(w.off_cpu_ns());
    f.Num(w.run_queue_ns());
    if (w.has_waker())
      Waker(f, w.waker());
    else
      NoWaker(f);
    f.EndRow();
  }

  void SchedHistogram(const v1::SchedHistogram& h) {
    CsvFile& f = File(kSchedHistograms);
    f.Num(h.pid());
    f.Text(EnumName(v1::SchedHistogramKind_descriptor(), h.kind(), "SCHED_HISTOGRAM_"));
    f.Num(h.time_ns());
    f.Num(h.count());
    f.Num(h.sum_ns());
    f.Num(h.min_ns());
    f.Num(h.max_ns());
    f.Text(JoinNumbers(h.log2_buckets()));
    f.EndRow();
  }

  void ShimCall(const v1::ShimCall& c) {
    CsvFile& f = File(kShimCalls);
    f.Num(c.pid());
    f.Num(c.tid());
    f.Text(EnumName(v1::ShimFunction_descriptor(), c.function(), "SHIM_"));
    f.Num(c.entry_ns());
    f.Num(c.duration_ns());
    f.Num(c.result());
    f.Num(c.fd());
    f.Num(c.error());
    f.EndRow();
  }

  void Marker(const v1::Marker& m) {
    CsvFile& f = File(kMarkers);
    f.Num(m.pid());
    f.Num(m.tid());
    f.Text(EnumName(v1::MarkerType_descriptor(), m.type(), "MARKER_"));
    f.Text(m.name());
    f.Num(m.time_ns());
    f.Num(m.arg0());
    f.Num(m.arg1());
    f.EndRow();
  }

  void ThreadName(const v1::ThreadName& t) {
    CsvFile& f = File(kThreadNames);
    f.Num(t.pid());
    f.Num(t.tid());
    f.Text(t.comm());
    f.EndRow();
  }

  // Per (process, syscall): the percentiles the text report and the HTML
  // page print, from the same summary (exact = false: interpolated in the
  // histogram's bucket, what they mark with ~).
  void Percentiles() {
    if (summary_.syscalls.empty()) return;
    CsvFile& f = File(kPercentiles);
    for (const SyscallRow& r : summary_.syscalls.Rows()) {
      f.Num(r.key.pid);
      f.Text(EnumName(v1::Syscall_descriptor(), r.key.syscall, "SYSCALL_"));
      f.Num(r.histogram.count());
      f.Num(r.quantiles.p50_ns);
      f.Num(r.quantiles.p90_ns);
      f.Num(r.quantiles.p99_ns);
      f.Num(r.histogram.max_ns());
      f.Bool(r.quantiles.exact);
      f.EndRow();
    }
  }

  void Run(const v1::RepeatRun& r) {
    CsvFile& f = File(kRuns);
    f.Num(r.index());
    f.Num(r.pid());
    f.Num(r.start_time_ns());
    f.Num(r.exec_time_ns());
    f.Num(r.end_time_ns());
    f.Num(r.duration_ns());
    f.Num(r.exit_code());
    f.Num(r.exit_signal());
    f.Bool(r.succeeded());
    f.Num(r.processes());
    f.EndRow();
  }

  // figure "command_time_ns" (comm empty), then per comm "per_run" and
  // "exec_to_exit_ns": what the text report's repeated-runs section prints.
  void RepeatSummary() {
    if (!repeats_.repeated()) return;
    CsvFile& f = File(kRepeatSummary);
    auto row = [&f](const char* figure, const std::string& comm, const Spread& s) {
      f.Text(figure);
      f.Text(comm);
      f.Num(s.n);
      for (double v : {s.mean, s.sd, s.median, s.min, s.max}) f.Num(v);
      f.EndRow();
    };
    row("command_time_ns", "", repeats_.CommandTime());
    for (const ProcessAcrossRuns& p : repeats_.Processes()) {
      row("per_run", p.name, p.per_run);
      row("exec_to_exit_ns", p.name, p.exec_to_exit_ns);
    }
  }

  void Counters(uint64_t time_ns, bool final,
                const google::protobuf::RepeatedPtrField<v1::KindCounters>& counters,
                uint64_t bytes_written) {
    if (counters.empty()) return;
    CsvFile& f = File(kCounters);
    for (const v1::KindCounters& k : counters) {
      f.Num(time_ns);
      f.Bool(final);
      f.Text(EnumName(v1::EventKind_descriptor(), k.kind(), "EVENT_KIND_"));
      for (const CounterValue& v : CsvCounterColumns(k)) f.Num(v.value);
      std::string losses;  // cpu:lost;cpu:lost
      for (const v1::CpuLoss& l : k.cpu_losses()) {
        if (!losses.empty()) losses += ';';
        losses += std::to_string(l.cpu()) + ":" + std::to_string(l.lost_ring_full());
      }
      f.Text(losses);
      f.Num(bytes_written);
      f.EndRow();
    }
  }

  std::string dir_;
  UniqueFd dirfd_;  // the files are made in it; outlives them (declared first)
  std::unique_ptr<CsvFile> files_[kFileKinds];
  const TraceSummary& summary_;  // fed by the caller, record by record, as this is
  const NameTable& names_;
  // Fed the raw records (the summary's hold names escaped for a terminal),
  // so names go out as every CSV's do.
  RepeatRuns repeats_;
};

}  // namespace

std::unique_ptr<Exporter> MakeCsvExporter(const std::string& dir, const TraceSummary& summary,
                                          std::string* error) {
  if (dir.empty()) {
    *error = "CSV directory is empty";
    return nullptr;
  }
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  struct stat st;
  if (lstat(dir.c_str(), &st) != 0) {
    *error = "cannot create directory " + dir + ": " + (ec ? ec.message() : strerror(errno));
    return nullptr;
  }
  if (S_ISLNK(st.st_mode)) {
    *error = "cannot write CSV files to " + dir + ": is a symbolic link (never followed)";
    return nullptr;
  }
  if (!S_ISDIR(st.st_mode)) {
    *error = "cannot write CSV files to " + dir + ": not a directory";
    return nullptr;
  }
  // The files are made relative to this fd: the directory is not followed
  // even if a symlink replaces it later.
  UniqueFd dirfd(open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
  if (dirfd.get() < 0 || access(dir.c_str(), W_OK | X_OK) != 0) {
    *error = "cannot write CSV files to " + dir + ": " +
             (errno == ELOOP ? "is a symbolic link (never followed)" : strerror(errno));
    return nullptr;
  }
  return std::make_unique<CsvExporter>(dir, std::move(dirfd), summary);
}

}  // namespace probe
