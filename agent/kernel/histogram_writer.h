// Both kernel histogram families into the record file, each with its own
// ledger. Written every --histogram-interval, and sooner when processes come
// and go fast: each exit frees its slots, and the slots (16384 syscall, 4096
// scheduler, two per process; histogram_layout.h) must not fill with the dead
// between two intervals. With --rotate each file holds its period's counts only: the
// kernel's cumulative counts at the last seam are kept per key (the cut) and
// subtracted.
#pragma once
#include <cstdint>
#include <map>
#include <set>

#include "accounting.h"
#include "bpf_session.h"
#include "record_writer.h"

namespace probe {

class HistogramWriter {
 public:
  static constexpr uint32_t kExitsPerPass = 512;
  void NoteExit(uint32_t pid) { exited_.insert(pid); }
  bool Crowded() const { return exited_.size() >= kExitsPerPass; }
  // Cuts per file from now on (--rotate).
  void CutPerFile() { per_file_ = true; }
  // Writes what changed since the last pass. seam: the last pass into a
  // file that is closing; the next file's counts start here.
  void Emit(BpfSession& bpf, RecordWriter& writer, AgentCounters& agent, bool seam = false) {
    Emit(bpf, HistogramMap::kSyscalls, syscalls_, cut_[0], writer, agent, seam);
    Emit(bpf, HistogramMap::kScheduler, scheduler_, cut_[1], writer, agent, seam);
    exited_.clear();
  }

 private:
  void Emit(BpfSession& bpf, HistogramMap which, HistogramLedger& ledger,
            std::map<uint64_t, v1::Record>& cut, RecordWriter& writer, AgentCounters& agent,
            bool seam);

  HistogramLedger syscalls_, scheduler_;
  std::map<uint64_t, v1::Record> cut_[2];  // per map: cumulative counts at the last seam
  bool per_file_ = false;
  std::set<uint32_t> exited_;  // exit records read since the last pass
};

}  // namespace probe
