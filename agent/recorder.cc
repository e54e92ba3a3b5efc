#include "recorder.h"

#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <optional>
#include <set>

#include "accounting.h"
#include "bpf_session.h"
#include "event_decoder.h"
#include "histogram_writer.h"
#include "kernel_names.h"
#include "launcher.h"
#include "output_stream.h"
#include "preload_check.h"
#include "privileges.h"
#include "proc_scan.h"
#include "rate_bucket.h"
#include "record_file.h"
#include "record_kind.h"
#include "record_writer.h"
#include "recorder_run.h"
#include "recording_setup.h"
#include "repeat_tracker.h"
#include "rotated_files.h"
#include "rotation_cut.h"
#include "run_spawner.h"
#include "run_summary.h"
#include "shim_collector.h"
#include "stop_signals.h"
#include "target_attach.h"
#include "thread_names.h"
#include "unique_fd.h"

namespace probe {

namespace {

constexpr uint64_t kSecondNs = 1000000000ull;

BpfConfig MakeBpfConfig(const Options& o) {
  BpfConfig cfg;
  cfg.target_all = o.all;
  cfg.follow_children = o.follow_children;
  cfg.ring_buffer_bytes = o.ring_buffer_bytes;
  cfg.ring_buffers = o.ring_buffers;
  cfg.emit_process_exits = o.trace_process;
  cfg.trace_syscalls = o.trace_syscalls;
  cfg.trace_wakeups = o.trace_wakeups;
  cfg.waker_context = o.waker_context;
  cfg.min_latency_ns = o.min_latency_ns;
  cfg.keep_one_in[PROBE_SAMPLE_SYSCALLS] = o.syscalls_one_in;
  cfg.keep_one_in[PROBE_SAMPLE_WAKEUPS] = o.wakeups_one_in;
  cfg.first_per_second[PROBE_SAMPLE_SYSCALLS] = o.syscalls_first_per_s;
  cfg.first_per_second[PROBE_SAMPLE_WAKEUPS] = o.wakeups_first_per_s;
  cfg.max_records_per_s = o.max_records_per_s;
  cfg.sample_seed = o.sample_seed;
  return cfg;
}

}  // namespace

int Recorder::Abandon(const std::string& error, int status) {
  if (!error.empty()) fprintf(stderr, "probe-agent: %s\n", error.c_str());
  writer_.reset();
  if (rotated_ && !rotated_->Abandon())
    fprintf(stderr, "probe-agent: warning: could not remove the unfinished %s\n",
            rotated_->open_path().c_str());
  if (output_ && output_->created() && !output_->RemoveIfCreated())
    fprintf(stderr, "probe-agent: warning: could not remove the unfinished %s\n",
            output_->path().c_str());
  return status;
}

bool Recorder::OpenOutput(std::string* error) {
  if (OutputIsStdout(options_)) {
    UniqueFd fd = OpenStdoutForRecords(error);
    if (!fd) return false;
    writer_ = std::make_unique<RecordWriter>(std::move(fd), "stdout");
    return true;
  }
  if (options_.rotate_ns > 0 || options_.rotate_bytes > 0) {
    rotated_ = RotatedFiles::Create(options_.output, options_.force, options_.keep_files, error);
    if (!rotated_) return false;
    UniqueFd fd = rotated_->OpenNext(error);
    std::string unused;
    if (!fd || !rotated_->Advance(error, &unused)) return false;
    writer_ = std::make_unique<RecordWriter>(std::move(fd), rotated_->open_path());
    histograms_.CutPerFile();
    return true;
  }
  bool told = false;
  // A FIFO without a reader: wait for one, with SIGINT/SIGTERM/SIGHUP live
  // through the signal fd (they are blocked, so a blocking open() would be
  // ended by SIGKILL only).
  auto keep_waiting = [&] {
    if (!told)
      fprintf(stderr, "probe-agent: waiting for a reader on %s (Ctrl-C to stop)\n",
              options_.output.c_str());
    told = true;
    return !StopSignal(signal_fd_.get(), RecordFile::kFifoPollMs);
  };
  output_ = RecordFile::Create(options_.output, options_.force, error, keep_waiting);
  if (!output_) return false;
  writer_ = std::make_unique<RecordWriter>(output_->TakeFd(), options_.output);
  return true;
}

// A decoded kernel record into the file: names added, a thread's name record
// before its first mention, counted written or lost under its kind.
void Recorder::AppendEventRecord(v1::Record* record) {
  kernel_names_.Annotate(record);
  if (thread_names_.Intern(record, &name_record_)) writer_->Append(name_record_);
  agent_.Appended(KindOfRecord(*record), writer_->Append(*record));
}

void Recorder::OnEvent(const void* data, size_t size) {
  // A blocked call's event can hold the thread's wakeup too: a second record,
  // counted under its own kind.
  const bool folded = DecodeFoldedWakeup(data, size, &folded_record_);
  if (DecodeEvent(data, size, &event_record_, page_size_) != DecodeResult::kOk) {
    agent_.kind[KindOfEventType(data, size)].lost_decode++;
    if (folded) agent_.kind[v1::EVENT_KIND_WAKEUP].lost_decode++;
    return;
  }
  if (event_record_.has_process()) {
    cpu_at_start_.Annotate(event_record_.mutable_process());
    if (repeat_) repeat_->Tag(event_record_.mutable_process());
  }
  AppendEventRecord(&event_record_);
  if (folded) AppendEventRecord(&folded_record_);
  Settle();
  // --rotate SIZE: the file is full; the drain loop (or the drain after a
  // stop) closes it before the next record.
  if (SizeSeamDue()) bpf_->EndPass();
  const v1::ProcessLifetime* process = ProcessOf(event_record_);
  if (!process) return;
  if (process->finished()) histograms_.NoteExit(uint32_t(process->pid()));
  if (shim_) shim_->NoteExited(process->pid());
}

// The shim's collector and, with --preload, the launched command's
// environment. A collector that cannot start is a warning, unless --preload
// needs it.
bool Recorder::StartShim(std::string* error) {
  std::string why;
  if (auto regions = ShimRegions::Create(&why)) {
    shim_ = std::make_unique<ShimCollector>(std::move(regions), options_.all);
    if (options_.max_records_per_s > 0) {
      rate_bucket* bucket = bpf_->RateBucket();
      const uint64_t max_rate = options_.max_records_per_s;
      shim_->SetRateCheck(
          [bucket, max_rate] { return TakeRateToken(bucket, max_rate, MonotonicNs()); });
    }
  } else {
    fprintf(stderr, "probe-agent: warning: %s; shim regions will not be read\n", why.c_str());
  }
  if (!options_.preload) return true;
  preload_library_ = FindShimLibrary(options_, error);
  if (preload_library_.empty() || !shim_) {
    if (!shim_) *error = "--preload needs the shim socket";
    return false;
  }
  std::string obstacle = PreloadObstacle(FindExecutable(options_.command[0]));
  if (!obstacle.empty())
    fprintf(stderr, "probe-agent: warning: %s; recording kernel events only\n", obstacle.c_str());
  return true;
}

// Targets go into the map after attach, then /proc is scanned, so a fork
// racing with start-up is caught by one or the other. Writes the header and
// the snapshots of the processes already running.
std::optional<int> Recorder::AttachTargets(std::string* error) {
  std::vector<int> gone;
  roots_ = pins_.AddLive(*bpf_, &gone);
  if (!ReportGoneTargets(gone, roots_.empty() && CommandPid() <= 0)) return Abandon("");
  const std::vector<int> pinned = roots_;
  if (CommandPid() > 0) {
    roots_.push_back(CommandPid());
    bpf_->AddTarget(CommandPid());
  }
  std::set<int> initial;
  if (options_.all) {
    for (const auto& [pid, ppid] : ReadParentMap()) initial.insert(pid);
  } else {
    initial = WithDescendants(roots_, ReadParentMap(), options_.follow_children);
    AddFoundTargets(*bpf_, initial, pinned);
  }
  PrivilegePlan privileges = PlanPrivilegeDrop({.read_target_memory = shim_ && !options_.all,
                                                .signal_child = CommandPid() > 0,
                                                .kernel_release = KernelRelease(),
                                                .snapshot_processes = rotated_ != nullptr},
                                               InvokingSudoUser());
  header_ = MakeHeader(options_, argv_, roots_, start_ns_, preload_library_);
  header_.mutable_header()->set_ring_buffers(bpf_->ring_buffers());
  if (!options_.keep_privileges) header_.mutable_header()->set_privileges(DescribePlan(privileges));
  if (rotated_) {
    header_.mutable_header()->set_sequence(rotated_->sequence());
    header_.mutable_header()->set_period_start_ns(header_.header().ready_time_ns());
    next_rotate_ = header_.header().ready_time_ns() + options_.rotate_ns;
  }
  writer_->Append(header_);
  initial.erase(CommandPid());  // not yet exec'd: its lifetime record says all
  WriteSnapshots(initial, &cpu_at_start_);
  writer_->Flush();
  opening_bytes_ = OpenFileBytes();
  // Everything that needs root is done: the programs are attached, the
  // maps, rings, socket and file are open. Fail closed: a run that cannot
  // drop does not go on as root.
  if (rotated_ && !options_.keep_privileges &&
      !DirectoryWritableAfterDrop(rotated_->dir_fd(), privileges))
    return Abandon("cannot rotate in the directory of " + options_.output + ": uid " +
                   std::to_string(privileges.user->uid) +
                   ", whom the agent drops to, cannot create files there (--keep-privileges "
                   "runs without dropping)");
  if (!options_.keep_privileges && !DropPrivileges(privileges, error))
    return Abandon(*error + " (--keep-privileges runs without dropping)");
  if (rotated_ && !rotated_->CheckWritable(error)) return Abandon(*error);
  // A command that cannot be run leaves no recording: it never ran.
  if (CommandPid() > 0 && !ReleaseCommand(error)) return Abandon(*error, 127);
  return std::nullopt;
}

std::optional<int> Recorder::SetUp() {
  std::string error;
  if (!CheckBpfPrerequisites(&error)) return Abandon(error);
  // Pinned now: the pids may name other processes by the time BPF is attached.
  if (!pins_.Open(options_.pids, &error)) return Abandon(error);
  signal_fd_ = MakeSignalFd();
  if (!OpenOutput(&error)) return Abandon(error);
  bpf_ = BpfSession::Create(
      MakeBpfConfig(options_), [this](const void* data, size_t size) { OnEvent(data, size); },
      &error);
  if (!bpf_) return Abandon(error);
  if (!StartShim(&error)) return Abandon(error);
  std::vector<std::string> child_env;
  if (options_.preload) {
    child_env = ShimEnvironment(preload_library_, shim_->socket_name());
    for (auto& e : ShimSamplingEnvironment(options_)) child_env.push_back(std::move(e));
  }
  // The child is forked after attach and held before exec, so its
  // fork-to-exec time is its own and not the agent's start-up.
  // --repeat: every run, the first included, is forked by a helper forked
  // now, before the privileges are dropped (run_spawner.h).
  if (options_.repeat > 0) {
    spawner_ = RunSpawner::Create(options_.command, child_env, &error);
    repeat_ = std::make_unique<RepeatTracker>(options_.repeat);
    if (!spawner_ || !BeginRun(&error)) return Abandon(error);
  } else if (!options_.command.empty() && !launcher_.Start(options_.command, child_env, &error)) {
    return Abandon(error);
  }
  return AttachTargets(&error);
}

v1::Record Recorder::MakeStats(const KernelCounters& kernel) const {
  v1::Record record;
  auto* stats = record.mutable_stats();
  stats->set_time_ns(MonotonicNs());
  v1::Stats run;
  FillCounters(TracedKinds(options_), kernel, agent_, run.mutable_counters());
  if (shim_) shim_->FillStats(&run);
  if (rotated_)
    counter_cut_.Period(run.counters(), stats->mutable_counters());
  else
    *stats->mutable_counters() = run.counters();
  *stats->mutable_shim() = run.shim();
  stats->set_bytes_written(writer_->bytes_written());
  *stats->mutable_sampling() = MakeSampling(options_);
  return record;
}

// Once a second: everything flushed and settled, a stats record, and the
// progress line on a terminal.
void Recorder::Tick(uint64_t now) {
  next_tick_ = now + kSecondNs;
  writer_->Flush();
  Settle();
  writer_->Append(MakeStats(bpf_->ReadCounters()));
  writer_->Flush();
  if (!tty_) return;
  KernelCounters kernel = bpf_->ReadCounters();
  const uint64_t written = agent_.TotalWritten();
  fputs(ProgressLine((now - start_ns_) / 1e9, written - last_written_, writer_->bytes_written(),
                     kernel.Lost() + agent_.Lost())
            .c_str(),
        stderr);
  last_written_ = written;
}

void Recorder::DrainLoop() {
  tty_ = isatty(STDERR_FILENO);
  const uint64_t deadline =
      options_.duration_s > 0 ? start_ns_ + uint64_t(options_.duration_s * 1e9) : 0;
  next_tick_ = MonotonicNs() + kSecondNs;
  next_histograms_ = MonotonicNs() + options_.histogram_interval_ns;
  auto is_target = [this](int pid) { return IsTarget(pid); };
  auto shim_sink = [this](const v1::Record& r) { return OnShimRecord(r); };
  const int child = launcher_.pid();
  while (stop_reason_.empty()) {
    // Shim rings are per thread and bounded: drain them every 10 ms.
    // Waits for a ring's wakeup, or the timeout (records below the wakeup
    // threshold wake nobody), then drains a bounded amount of each ring.
    bpf_->Poll(options_.preload || repeat_ || (shim_ && shim_->active()) ? 10 : 100);
    if (options_.drain_delay_ns) {  // --drain-delay: a slow consumer on purpose (tests)
      timespec d{time_t(options_.drain_delay_ns / kSecondNs),
                 long(options_.drain_delay_ns % kSecondNs)};
      nanosleep(&d, nullptr);
    }
    if (shim_) {
      const bool full = MonotonicNs() >= next_shim_scan_;
      if (full) next_shim_scan_ = MonotonicNs() + kSecondNs;
      shim_->Tick(is_target, full ? bpf_->Targets() : std::vector<int>(), full, shim_sink);
    }
    if (StopSignal(signal_fd_.get(), 0)) stop_reason_ = "signal";
    if (child > 0 && child_status_ < 0) {
      int status;
      if (waitpid(child, &status, WNOHANG) == child) child_status_ = status;
    }
    const uint64_t now = MonotonicNs();
    if (deadline && now >= deadline) stop_reason_ = "duration";
    // Walking the target map costs two bpf() calls per bucket chain: under
    // load the ring wakes this loop hundreds of times a second, so look
    // every 100 ms, not every pass.
    if (repeat_ && stop_reason_.empty()) StepRepeat(now);
    if (!repeat_ && !options_.all && stop_reason_.empty() && (child <= 0 || child_status_ >= 0) &&
        now >= next_target_check_) {
      next_target_check_ = now + 100000000ull;
      if (bpf_->Targets().empty()) stop_reason_ = "targets exited";
    }
    if ((now >= next_histograms_ || histograms_.Crowded()) && stop_reason_.empty()) {
      next_histograms_ = now + options_.histogram_interval_ns;
      histograms_.Emit(*bpf_, *writer_, agent_);
    }
    if (now >= next_tick_ && stop_reason_.empty()) Tick(now);
    if (rotated_ && stop_reason_.empty() && RotationDue(now)) Rotate(now);
    if (writer_->failed()) stop_reason_ = "write failed";
  }
  if (tty_) fprintf(stderr, "\n");
}

void Recorder::Finish() {
  bpf_->Detach();
  DrainAll();  // everything submitted before the programs stopped
  histograms_.Emit(*bpf_, *writer_, agent_);
  auto is_target = [this](int pid) { return IsTarget(pid); };
  if (shim_)
    shim_->Finish(is_target, bpf_->Targets(),
                  [this](const v1::Record& r) { return OnShimRecord(r); });
  // Processes still alive get an unfinished record.
  for (int pid : options_.all ? std::vector<int>() : bpf_->Targets()) {
    v1::Record r;
    if (UnfinishedLifetime(pid, r.mutable_process())) {
      bpf_->AddExecInfo(pid, r.mutable_process());
      cpu_at_start_.Annotate(r.mutable_process());
      if (repeat_) repeat_->Tag(r.mutable_process());
      agent_.kind[v1::EVENT_KIND_PROCESS].agent_produced++;
      agent_.Appended(v1::EVENT_KIND_PROCESS, writer_->Append(r));
    }
  }
  // The last stats record and the trailer hold the same final counters,
  // with every record before them flushed and settled.
  writer_->Flush();
  Settle();
  final_kernel_ = bpf_->ReadCounters();
  writer_->Append(MakeStats(final_kernel_));
  v1::Record record;
  auto* trailer = record.mutable_trailer();
  trailer->set_time_ns(MonotonicNs());
  trailer->set_stop_reason(stop_reason_);
  v1::Trailer run;
  FillCounters(TracedKinds(options_), final_kernel_, agent_, run.mutable_counters());
  if (shim_) shim_->FillTrailer(&run);
  if (rotated_)
    counter_cut_.Period(run.counters(), trailer->mutable_counters());
  else
    *trailer->mutable_counters() = run.counters();
  *trailer->mutable_shim() = run.shim();
  trailer->set_bytes_written(writer_->bytes_written());
  FillKernelTables(*bpf_, trailer->mutable_kernel_tables());
  writer_->Append(record);
  writer_->Flush();
  if (rotated_) CloseLastFile();
}

int Recorder::Summary() {
  std::string output = rotated_ ? rotated_->NameOf(1) : options_.output;
  if (rotated_ && rotated_->sequence() > 1)
    output = rotated_->NameOf(1) + " .. " + rotated_->NameOf(rotated_->sequence()) + " (" +
             std::to_string(rotated_->sequence()) + " files)";
  const RunTotals run{output, bytes_closed_ + writer_->bytes_written(), stop_reason_,
                      options_.ring_buffer_bytes, writer_->failed()};
  fputs(RecordsLine(run, final_kernel_, agent_).c_str(), stderr);
  if (shim_ && shim_->used())
    fprintf(stderr, "probe-agent: %" PRIu64 " shim records (user-space calls and markers)\n",
            shim_->written());
  if (shim_ && !shim_->Warning().empty())
    fprintf(stderr, "probe-agent: warning: %s\n", shim_->Warning().c_str());
  if (options_.preload && shim_ && !shim_->used())
    fprintf(stderr,
            "probe-agent: warning: --preload: no process loaded the shim or called a wrapped "
            "function\n");
  fputs(LossWarnings(run, final_kernel_, agent_).c_str(), stderr);
  if (writer_->failed()) {
    fputs(WriteFailedLine(writer_->error(), writer_->bytes_written(), agent_.LostWrite()).c_str(),
          stderr);
    return 1;
  }
  if (repeat_) return RepeatStatus();
  // A command that ended by itself passes its status on (a failing workload
  // fails the script that wraps it). One stopped by the agent (SIGINT,
  // SIGTERM, --duration) does not: the run did what was asked, and the
  // command's status is in its process record.
  const int child = launcher_.pid();
  if (child > 0 && child_status_ >= 0) return ShellExitStatus(child_status_);
  if (child > 0) {
    kill(child, SIGTERM);
    waitpid(child, &child_status_, 0);
  }
  return 0;
}

// Forks the next run's command, held before exec (targeted by the caller).
bool Recorder::BeginRun(std::string* error) {
  run_pid_ = spawner_->Start(error);
  if (run_pid_ <= 0) return false;
  repeat_->Begin(run_pid_, MonotonicNs());
  return true;
}

// A run is over when its command has exited and no target is left (its
// last descendant exited). Then the next run starts, after --repeat-delay.
void Recorder::StepRepeat(uint64_t now) {
  if (!repeat_->active()) return;
  int status;
  if (!repeat_->command_exited() && spawner_->PollExit(false, &status))
    repeat_->CommandExited(status);
  if (!repeat_->command_exited() || now < next_target_check_) return;
  next_target_check_ = now + 10000000ull;  // the next run waits for this look: 10 ms
  if (!bpf_->Targets().empty()) return;
  EndRun();
  if (!stop_reason_.empty()) return;  // its drain's seam could not be made
  if (repeat_->done()) {
    stop_reason_ = "targets exited";
    return;
  }
  // --repeat-delay, cut short by --duration (no run starts past it) or a signal.
  const uint64_t deadline =
      options_.duration_s > 0 ? start_ns_ + uint64_t(options_.duration_s * 1e9) : UINT64_MAX;
  const uint64_t delay_ns = std::min(options_.repeat_delay_ns, now < deadline ? deadline - now : 0);
  if (delay_ns && StopSignal(signal_fd_.get(), int((delay_ns + 999999) / 1000000)))
    stop_reason_ = "signal";
  else if (MonotonicNs() >= deadline)
    stop_reason_ = "duration";
  if (!stop_reason_.empty()) return;
  std::string error;
  if (!BeginRun(&error) || !bpf_->AddTarget(run_pid_) || !spawner_->Release(&error)) {
    fprintf(stderr, "probe-agent: run %u: %s\n", repeat_->started(),
            error.empty() ? "cannot target it" : error.c_str());
    run_failed_to_start_ = true;
    stop_reason_ = "cannot run";
  }
}

// Every record of the run goes out before the next run starts: its exits
// drained from the rings, its processes' final histograms written (and
// dropped from the maps, so a pid reused by a later run starts afresh), the
// shim's regions read, then its RepeatRun record.
void Recorder::EndRun() {
  DrainAll();  // a process's exit is submitted before its target is removed
  histograms_.Emit(*bpf_, *writer_, agent_);
  if (shim_)
    shim_->Tick([this](int pid) { return IsTarget(pid); }, std::vector<int>(), true,
                [this](const v1::Record& r) { return OnShimRecord(r); });
  writer_->Append(repeat_->End(MonotonicNs()));
  writer_->Flush();
}

// 0 when every run that ended succeeded, else the first failed run's status
// with one line naming the failed runs; 127 when a run could not be
// started. A run the agent stopped (SIGINT, SIGTERM, --duration) has no
// RepeatRun record and does not count as failed, as for a single launch.
int Recorder::RepeatStatus() {
  if (repeat_->active() && !repeat_->command_exited() && !run_failed_to_start_) {
    kill(run_pid_, SIGTERM);
    int status;
    spawner_->PollExit(true, &status);
  }
  const std::string failed = repeat_->FailureLine();
  if (!failed.empty()) fprintf(stderr, "probe-agent: %s\n", failed.c_str());
  if (run_failed_to_start_) return 127;
  return repeat_->ExitStatus();
}

int RunRecorder(const Options& options, const std::vector<std::string>& argv) {
  Recorder recorder(options, argv);
  if (std::optional<int> status = recorder.SetUp()) return *status;
  recorder.DrainLoop();
  recorder.Finish();
  return recorder.Summary();
}

}  // namespace probe
