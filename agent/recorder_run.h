// The Recorder of one recording run (recorder.cc), declared here so that its
// --rotate half lives in its own file (recorder_rotation.cc).
#pragma once
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "accounting.h"
#include "bpf_session.h"
#include "cpu_at_start.h"
#include "histogram_writer.h"
#include "kernel_names.h"
#include "launcher.h"
#include "options.h"
#include "record_file.h"
#include "record_writer.h"
#include "repeat_tracker.h"
#include "rotated_files.h"
#include "rotation_cut.h"
#include "run_spawner.h"
#include "shim_collector.h"
#include "target_attach.h"
#include "thread_names.h"
#include "unique_fd.h"

namespace probe {

// One recording run: SetUp (BPF, targets, output, header), DrainLoop until
// a stop, Finish (last drain, unfinished lifetimes, stats and trailer) and
// Summary. Every kernel object and fd is held by a member with an owner, so
// leaving at any point releases them; only the output file needs a word
// (Abandon), and only a file this run created is removed.
class Recorder {
 public:
  Recorder(const Options& options, const std::vector<std::string>& argv)
      : options_(options), argv_(argv), start_ns_(MonotonicNs()) {}

  // Returns the exit status when the run cannot start.
  std::optional<int> SetUp();
  void DrainLoop();
  void Finish();
  int Summary();

 private:
  bool OpenOutput(std::string* error);
  bool StartShim(std::string* error);
  std::optional<int> AttachTargets(std::string* error);
  void OnEvent(const void* data, size_t size);
  void AppendEventRecord(v1::Record* record);
  bool OnShimRecord(const v1::Record& record) { return writer_->Append(record); }
  bool IsTarget(int pid) const { return bpf_->IsTarget(pid); }
  void Settle() { agent_.Settle(writer_->failed(), writer_->bytes_buffered()); }
  // What the open file holds once flushed.
  uint64_t OpenFileBytes() const { return writer_->bytes_written() + writer_->bytes_buffered(); }
  // Delivers everything in the rings and batches (Finish, and each --repeat
  // run's end), closing a file that fills on the way at a seam like any other.
  void DrainAll();
  v1::Record MakeStats(const KernelCounters& kernel) const;
  void Tick(uint64_t now);
  // The launched command (--repeat: the current run's): its pid, its release.
  int CommandPid() const { return spawner_ ? run_pid_ : launcher_.pid(); }
  bool ReleaseCommand(std::string* error) {
    return spawner_ ? spawner_->Release(error) : launcher_.Release(error);
  }
  bool BeginRun(std::string* error);
  void StepRepeat(uint64_t now);
  void EndRun();
  int RepeatStatus();
  // Writes a snapshot of each live process of pids; with cpu, notes their
  // CPU time then (the opening snapshots, not a rotation's).
  void WriteSnapshots(const std::set<int>& pids, CpuAtStart* cpu = nullptr);
  // --rotate: the open file is due to close; Rotate closes it at a seam and
  // goes on in the next; CloseLastFile renames the last one into place.
  bool RotationDue(uint64_t now) const;
  // --rotate SIZE: the open file is full and a seam can still be made; the
  // cap holds for the drain after a stop too.
  bool SizeSeamDue() const;
  void RotationFailed();
  void Rotate(uint64_t now);
  void StartFile(uint64_t now, uint64_t seam_ns);
  void CloseLastFile();
  // Says why the run cannot go on, removes the output if this run created
  // it, and returns the exit status.
  int Abandon(const std::string& error, int status = 1);

  const Options& options_;
  const std::vector<std::string>& argv_;
  const uint64_t start_ns_;
  const uint64_t page_size_ = static_cast<uint64_t>(sysconf(_SC_PAGESIZE));
  TargetPins pins_;
  UniqueFd signal_fd_;
  std::unique_ptr<RecordFile> output_;
  std::unique_ptr<RotatedFiles> rotated_;  // --rotate: instead of output_
  std::unique_ptr<RecordWriter> writer_;
  v1::Record header_;       // every file's, with its own sequence and period
  CounterCut counter_cut_;  // --rotate: counters at the last seam
  uint64_t next_rotate_ = 0, bytes_closed_ = 0;
  bool rotation_failed_ = false;  // the run goes on in the open file
  uint64_t opening_bytes_ = 0;    // the open file's header and snapshots
  // Declared before the session, whose sink writes into them (and so
  // destroyed after it). The shim's rate check reads the session's bucket:
  // it is only called from the drain loop and Finish.
  AgentCounters agent_;
  ThreadNames thread_names_;
  KernelNames kernel_names_;  // irq handler and timer names for waker contexts
  HistogramWriter histograms_;
  v1::Record event_record_, name_record_;
  v1::Record folded_record_;  // the wakeup a blocked call's event can carry
  std::unique_ptr<ShimCollector> shim_;
  std::unique_ptr<BpfSession> bpf_;
  Launcher launcher_;  // after bpf_: a held child is killed before the programs go
  // --repeat N: the helper that forks each run, and the runs' bookkeeping.
  std::unique_ptr<RunSpawner> spawner_;
  std::unique_ptr<RepeatTracker> repeat_;
  CpuAtStart cpu_at_start_;  // of processes that existed at the start
  int run_pid_ = -1;
  bool run_failed_to_start_ = false;
  std::string preload_library_;
  std::vector<int> roots_;
  // The drain loop's state.
  std::string stop_reason_;
  int child_status_ = -1;
  bool tty_ = false;
  uint64_t next_tick_ = 0, next_histograms_ = 0, next_shim_scan_ = 0, next_target_check_ = 0;
  uint64_t last_written_ = 0;
  KernelCounters final_kernel_;
};

}  // namespace probe
