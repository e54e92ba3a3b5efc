// Where every event of a run ends up, counted without touching the kernel:
// the kernel's counters as read ([kind][reason], from one table), what the
// agent did with each kind (written, lost decoding or writing, pending a
// flush), the KindCounters entries built from both, and which kernel
// histograms are final. Pure: unit-tested without root.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <set>
#include <vector>

#include "counter_table.h"
#include "probe.pb.h"
#include "record_kind.h"  // KindOfRecord
extern "C" {
#include <linux/types.h>

#include "probe_events.h"
}

namespace probe {

constexpr int kKinds = v1::EventKind_ARRAYSIZE;

// One per-CPU counter of the BPF programs: which KindCounters count of which
// kind it is (or is part of: counters of the same kind and reason add up). in_record false: a count
// outside the file's identity, shown in the agent's summary only.
struct KernelCounter {
  probe_counter index;
  v1::EventKind kind;
  counters::Reason reason;
  bool in_record;
  const char* meaning;
};

// Every counter the BPF programs keep (bpf/probe_events.h), declared once.
inline constexpr KernelCounter kKernelCounters[] = {
    {PROBE_CTR_PROC_PRODUCED, v1::EVENT_KIND_PROCESS, counters::kProduced, true,
     "target processes that exited"},
    {PROBE_CTR_PROC_RING_FULL, v1::EVENT_KIND_PROCESS, counters::kLostRingFull, true,
     "exit records lost: ring buffer full"},
    {PROBE_CTR_SYS_PRODUCED, v1::EVENT_KIND_SYSCALL, counters::kProduced, true,
     "traced calls that completed or could not be tracked"},
    {PROBE_CTR_SYS_RING_FULL, v1::EVENT_KIND_SYSCALL, counters::kLostRingFull, true,
     "call records lost: ring buffer full"},
    {PROBE_CTR_SYS_FILTERED, v1::EVENT_KIND_SYSCALL, counters::kSampledMinLatency, true,
     "shorter than --min-latency: histogram only"},
    {PROBE_CTR_SYS_TABLE_FULL, v1::EVENT_KIND_SYSCALL, counters::kLostTableFull, true,
     "no in-flight slot for the thread"},
    {PROBE_CTR_SYS_HIST_FULL, v1::EVENT_KIND_SYSCALL, counters::kLostHistogramFull, true,
     "histogram map full: call missing from histograms"},
    {PROBE_CTR_SYS_SAMPLED, v1::EVENT_KIND_SYSCALL, counters::kSampledOneInN, true,
     "not chosen by 1-in-N"},
    {PROBE_CTR_SYS_FIRST_K, v1::EVENT_KIND_SYSCALL, counters::kSampledFirstK, true,
     "past the first K per (process, syscall) this second"},
    {PROBE_CTR_SYS_RATE, v1::EVENT_KIND_SYSCALL, counters::kSampledRate, true,
     "over the global records-per-second cap"},
    {PROBE_CTR_WAKE_PRODUCED, v1::EVENT_KIND_WAKEUP, counters::kProduced, true,
     "target threads put back on a CPU"},
    {PROBE_CTR_WAKE_RING_FULL, v1::EVENT_KIND_WAKEUP, counters::kLostRingFull, true,
     "wakeup records lost: ring buffer full"},
    {PROBE_CTR_WAKE_HIST_FULL, v1::EVENT_KIND_WAKEUP, counters::kLostHistogramFull, true,
     "scheduler histogram map full"},
    {PROBE_CTR_WAKE_TABLE_FULL, v1::EVENT_KIND_WAKEUP, counters::kLostTableFull, false,
     "thread switches untracked: no per-thread slot (outside produced)"},
    {PROBE_CTR_WAKE_SAMPLED, v1::EVENT_KIND_WAKEUP, counters::kSampledOneInN, true,
     "not chosen by 1-in-N"},
    {PROBE_CTR_WAKE_FIRST_K, v1::EVENT_KIND_WAKEUP, counters::kSampledFirstK, true,
     "past the first K per process this second"},
    {PROBE_CTR_WAKE_RATE, v1::EVENT_KIND_WAKEUP, counters::kSampledRate, true,
     "over the global records-per-second cap"},
    {PROBE_CTR_WAKE_UNSEEN, v1::EVENT_KIND_WAKEUP, counters::kWakeUnseen, true,
     "written with no wakeup seen since the switch-out"},
    {PROBE_CTR_WAKE_RACED, v1::EVENT_KIND_WAKEUP, counters::kWakeRaced, true,
     "woken while still switching out"},
    {PROBE_CTR_WAKE_NO_SWITCH_OUT, v1::EVENT_KIND_WAKEUP, counters::kSwitchNotSeen, true,
     "written with the switch-out not seen"},
    {PROBE_CTR_WAKE_NO_SWITCH_IN, v1::EVENT_KIND_WAKEUP, counters::kSwitchNotSeen, true,
     "written with the switch-in not seen"},
};

// The kernel's counters as read once, summed over CPUs.
struct KernelCounters {
  uint64_t value[kKinds][counters::kReasons] = {};
  // Ring-buffer losses per CPU, indexed by CPU, per kind.
  std::vector<uint64_t> ring_full_cpu[kKinds];

  uint64_t at(v1::EventKind kind, counters::Reason reason) const { return value[kind][reason]; }
  // Sums one reason over the kinds.
  uint64_t Total(counters::Reason reason) const;
  // Events the kernel lost (the kLost rows of the record).
  uint64_t Lost() const;
};

// Builds KernelCounters from per-CPU reads: read(index) gives one value per
// CPU. Ring losses keep their per-CPU split, summed from the same read, so
// the total and the split always agree.
KernelCounters ReadKernelCounters(const std::function<std::vector<uint64_t>(uint32_t)>& read);

// What the agent did with the events of one kind.
struct KindTally {
  uint64_t written = 0;  // in the file (flushed)
  uint64_t lost_decode = 0;
  uint64_t lost_write = 0;
  uint64_t pending = 0;         // appended, not yet flushed: written or lost at the next flush
  uint64_t agent_produced = 0;  // made by the agent itself (unfinished lifetimes at stop)
};

// ... for every kind, indexed by v1::EventKind.
struct AgentCounters {
  KindTally kind[kKinds];
  uint64_t histograms_written = 0;

  uint64_t Lost() const;
  uint64_t LostDecode() const;
  uint64_t LostWrite() const;
  // Records in the file: every kind's, and the histograms.
  uint64_t TotalWritten() const;
  // One record appended (ok) or refused by a failed writer.
  void Appended(v1::EventKind kind, bool ok);
  // Records count as written once the writer has flushed them: a write that
  // fails (disk full) loses what was buffered since the last flush, and that
  // is counted as lost, not written. Call after every append or flush.
  void Settle(bool write_failed, uint64_t bytes_buffered);
};

// The record kind an event of the kernel becomes (for counting one that
// cannot be decoded); that of a decoded record is KindOfRecord (record_kind.h).
v1::EventKind KindOfEventType(const void* data, size_t size);

// One KindCounters entry per traced kind (in the order given), with what the
// kernel counted and what the agent did.
void FillCounters(const std::vector<v1::EventKind>& kinds, const KernelCounters& kernel,
                  const AgentCounters& agent,
                  google::protobuf::RepeatedPtrField<v1::KindCounters>* out);

// What was written of one kernel histogram map, and when a key is final: its
// process's exit record has been read, no thread of it can run any more (the
// last one runs on after the exit record, closing its files, and can be
// switched out and back in: those counts come later) and its latest count is
// in the file; or, when exits are not traced or a thread still ran at the
// exit's pass, no thread could run at the previous pass either and its count
// has not moved since, so a last count racing the read is written first,
// never lost.
class HistogramLedger {
 public:
  // Whether a key's merged count differs from what was last written.
  bool Changed(uint64_t id, uint64_t count) const;
  // Notes one key of this pass: written says whether its record was just
  // appended. Returns true when the key is final (the caller deletes it from
  // the kernel map; the ledger forgets it). may_run: whether a thread of the
  // process can still run (ThreadsMayRun); asked at most once.
  bool Visit(uint64_t id, uint64_t count, bool written, bool exited,
             const std::function<bool()>& may_run);
  // After every key of a pass was visited.
  void EndPass();
  static uint64_t Id(uint32_t pid, uint32_t key) { return (uint64_t(pid) << 32) | key; }

 private:
  std::map<uint64_t, uint64_t> written_;
  std::set<uint64_t> gone_, gone_now_;
};

}  // namespace probe
