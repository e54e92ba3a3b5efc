// --rotate: the seams of a run, where one file closes and the next begins
// (proto/FORMAT.md, "Rotated runs").
#include <algorithm>
#include <cstdio>
#include <set>
#include <string>

#include "proc_scan.h"
#include "recorder_run.h"
#include "recording_setup.h"

namespace probe {

void Recorder::WriteSnapshots(const std::set<int>& pids, CpuAtStart* cpu) {
  for (int pid : pids) {
    v1::Record snapshot;
    if (!SnapshotProcess(pid, snapshot.mutable_snapshot())) continue;
    if (cpu) cpu->Note(snapshot.snapshot());
    writer_->Append(snapshot);
  }
}

// By size: once the file holds SIZE. A file opens with the header and a
// snapshot of every live target (with --all, every process): where that
// alone takes more than half of SIZE, the file also holds SIZE / 2 of what
// follows, or each file would hold one record after its opening and a busy
// machine would make a file per record.
bool Recorder::RotationDue(uint64_t now) const {
  if (options_.rotate_ns > 0) return now >= next_rotate_;
  return OpenFileBytes() >=
         std::max(options_.rotate_bytes, opening_bytes_ + options_.rotate_bytes / 2);
}

void Recorder::DrainAll() {
  bpf_->ConsumeAll([this] {
    if (SizeSeamDue()) Rotate(MonotonicNs());
  });
}

bool Recorder::SizeSeamDue() const {
  return rotated_ && options_.rotate_bytes > 0 && !rotation_failed_ && !writer_->failed() &&
         RotationDue(0);
}

// A seam that cannot be made stops the run (in the drain loop) or leaves
// the rest of the last drain in the open file (after a stop, whose reason
// stays the trailer's).
void Recorder::RotationFailed() {
  rotation_failed_ = true;
  if (stop_reason_.empty()) stop_reason_ = "rotation failed";
}

// A seam: every record drained so far and the histograms up to now go into
// the closing file, closed with its period's counters (a last Stats and a
// Trailer saying "rotated"); the records drained from here on go into the
// next, which starts with the header and a snapshot of the live targets. The
// next file is made first: if it cannot be, the run stops in this one.
void Recorder::Rotate(uint64_t now) {
  // Records staged in a CPU's batch at the seam are then in a ring, where
  // the format says records made before a seam may wait (proto/FORMAT.md).
  bpf_->FlushBatches();
  histograms_.Emit(*bpf_, *writer_, agent_, /*seam=*/true);
  writer_->Flush();
  Settle();
  std::string error, warning;
  UniqueFd next = rotated_->OpenNext(&error);
  if (!next) {
    fprintf(stderr, "probe-agent: %s; the run stops in %s\n", error.c_str(),
            rotated_->open_path().c_str());
    RotationFailed();
    return;
  }
  // The counters once, for the last Stats and the Trailer alike.
  const KernelCounters kernel = bpf_->ReadCounters();
  v1::Record stats = MakeStats(kernel);
  v1::Stats run;
  FillCounters(TracedKinds(options_), kernel, agent_, run.mutable_counters());
  if (shim_) shim_->FillStats(&run);
  stats.mutable_stats()->clear_counters();
  counter_cut_.Seam(run.counters(), stats.mutable_stats()->mutable_counters());
  v1::Record record;
  auto* trailer = record.mutable_trailer();
  trailer->set_time_ns(stats.stats().time_ns());
  trailer->set_stop_reason("rotated");
  trailer->set_rotated(true);
  *trailer->mutable_counters() = stats.stats().counters();
  *trailer->mutable_shim() = run.shim();
  writer_->Append(stats);
  trailer->set_bytes_written(writer_->bytes_written());
  writer_->Append(record);
  if (!writer_->Sync()) {
    rotated_->AbandonNext();
    return;  // the drain loop stops on the failed writer
  }
  bytes_closed_ += writer_->bytes_written();
  writer_ = std::make_unique<RecordWriter>(
      std::move(next), rotated_->NameOf(rotated_->sequence() + 1) + RotatedFiles::kPartSuffix);
  if (!rotated_->Advance(&error, &warning)) {
    fprintf(stderr, "probe-agent: %s; it stays as %s%s\n", error.c_str(),
            rotated_->NameOf(rotated_->sequence() - 1).c_str(), RotatedFiles::kPartSuffix);
    RotationFailed();
  }
  if (!warning.empty()) fprintf(stderr, "probe-agent: warning: %s", warning.c_str());
  StartFile(now, record.trailer().time_ns());
}

// The next file's beginning: the run's header with its own sequence and
// period (from the seam: the closed file's Trailer.time_ns), and a snapshot
// of the targets alive now, as at the start.
void Recorder::StartFile(uint64_t now, uint64_t seam_ns) {
  next_rotate_ = now + options_.rotate_ns;
  thread_names_.Reset();
  v1::Record header = header_;
  header.mutable_header()->set_sequence(rotated_->sequence());
  header.mutable_header()->set_period_start_ns(seam_ns);
  writer_->Append(header);
  std::set<int> live;
  if (options_.all) {
    for (const auto& [pid, ppid] : ReadParentMap()) live.insert(pid);
  } else {
    for (int pid : bpf_->Targets()) live.insert(pid);
  }
  WriteSnapshots(live);
  writer_->Flush();
  Settle();
  opening_bytes_ = OpenFileBytes();
}

// The last file is renamed into place once whole and on disk; one the
// writer could not finish stays under its temporary name.
void Recorder::CloseLastFile() {
  std::string error, warning;
  const std::string part = rotated_->open_path();
  if (writer_->failed() || !writer_->Sync())
    fprintf(stderr, "probe-agent: %s stays as it is: the recording ends there\n", part.c_str());
  else if (!rotated_->Advance(&error, &warning))
    fprintf(stderr, "probe-agent: %s; it stays as %s\n", error.c_str(), part.c_str());
  if (!warning.empty()) fprintf(stderr, "probe-agent: warning: %s", warning.c_str());
}

}  // namespace probe
