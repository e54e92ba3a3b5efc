// Owns the loaded BPF programs, their links and the ring buffers: each
// kernel object, mapping and fd has an owner (a unique_ptr with its libbpf
// deleter, as bpftrace holds its bpf_object, or a UniqueFd).
// Open -> configure rodata -> load -> attach; errors come back as values.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "accounting.h"
#include "histogram_slots.h"
#include "probe.pb.h"
#include "unique_fd.h"
extern "C" {
#include <linux/types.h>

#include "probe_events.h"
}

struct probe_bpf;
struct ring_buffer;
struct probe_hist_key;
struct probe_hist;
struct bpf_map;

namespace probe {

class RecordBatchCursor;

struct BpfConfig {
  bool target_all = false;
  bool follow_children = true;
  uint64_t ring_buffer_bytes = 1u << 20;  // each ring
  // At most this many rings, sharded by CPU (ring_layout.h); 0 = auto.
  uint32_t ring_buffers = 0;
  bool emit_process_exits = true;
  bool trace_syscalls = true;
  bool trace_wakeups = true;
  bool waker_context = true;  // the irq, softirq and hrtimer programs
  uint64_t min_latency_ns = 0;
  // Sampling of per-event records, indexed by probe_sample_kind.
  uint32_t keep_one_in[PROBE_SAMPLE_KINDS] = {1, 1};
  uint32_t first_per_second[PROBE_SAMPLE_KINDS] = {0, 0};
  uint64_t max_records_per_s = 0;
  uint64_t sample_seed = 0;
  // Plain loads through untyped read-only views of kernel memory (kernel
  // 6.17+); Create retries without them when the kernel refuses, and
  // PROBE_BPF_COMPAT=1 in the environment turns them off.
  bool untyped_loads = true;
};

// Entries in the kernel's per-process tables. Each is removed at its
// process's exit, so once every target has exited both are 0: anything else
// is kernel memory leaked for as long as the agent runs.
struct KernelTableSizes {
  uint64_t targets = 0;    // the target map
  uint64_t processes = 0;  // fork/exec details of live targets
};

// Which family of kernel histograms (bpf/hist_slots.bpf.h).
enum class HistogramMap { kSyscalls, kScheduler };

using EventSink = std::function<void(const void* data, size_t size)>;

// The deleters of what libbpf and mmap give out.
struct SkeletonDeleter {
  void operator()(probe_bpf* skel) const;  // detaches links, closes maps
};
struct RingBufferDeleter {
  void operator()(ring_buffer* rb) const;
};
struct RateBucketUnmap {
  size_t bytes = 0;
  void operator()(rate_bucket* p) const;
};

class BpfSession {
 public:
  // Returns nullptr and a one-line *error on failure.
  static std::unique_ptr<BpfSession> Create(const BpfConfig& config, EventSink sink,
                                            std::string* error);
  BpfSession(const BpfSession&) = delete;
  BpfSession& operator=(const BpfSession&) = delete;

  bool AddTarget(int tgid);
  void RemoveTarget(int tgid);
  bool IsTarget(int tgid) const;
  std::vector<int> Targets() const;
  // Waits up to timeout_ms for events (not at all while a backlog is left)
  // and delivers them to the sink.
  int Poll(int timeout_ms);
  // Delivers what is waiting, at most kEventsPerRingPerPass of each ring,
  // starting from a different ring each time: a producer faster than the
  // agent must not keep it from its signals, ticks and other rings.
  int Consume();
  // Delivers everything, however long it takes (after Detach: finite):
  // the records staged in each CPU's batch first go to the rings. between
  // runs after each pass, so that a pass the sink ended (EndPass: the file
  // is full) can be followed by a seam before the next.
  void ConsumeAll(const std::function<void()>& between = [] {});
  // Hands each CPU's staged records (bpf/record_batch.bpf.h) to its ring.
  // Poll calls it at most every kBatchFlushIntervalNs (its wait can make it
  // up to 100 ms), so a record waits about that long at most on a CPU that
  // has gone quiet.
  void FlushBatches();
  static constexpr uint64_t kBatchFlushIntervalNs = 50'000'000;
  static constexpr int kEventsPerRingPerPass = 16384;
  // Called from the sink: the pass ends after the event being delivered and
  // the rest waits in the rings for the next one (--rotate SIZE: the file
  // is full and must be closed before another record goes in).
  void EndPass() { end_pass_ = true; }
  // Stops the programs (maps stay readable), so that after ConsumeAll the
  // counters balance: nothing is produced that is not drained.
  void Detach();
  KernelCounters ReadCounters() const;
  KernelTableSizes CountTableEntries() const;
  // Visits every histogram of the family in the kernel.
  void ForEachHistogram(HistogramMap which, const HistogramVisitor& visit) const {
    Slots(which).ForEach(visit);
  }
  // A finished key: its slot goes back to the kernel at the second
  // RecycleHistograms from now (histogram_slots.h). Call that at the start
  // of each pass over the family.
  void DeleteHistogram(HistogramMap which, const probe_hist_key& key) { Slots(which).Delete(key); }
  void RecycleHistograms(HistogramMap which) { Slots(which).Recycle(); }
  // Adds what the kernel saw at exec (time, path, argv) to an unfinished record.
  void AddExecInfo(int tgid, v1::ProcessLifetime* out) const;
  // How many ring buffers the kernel side writes to (sharded by CPU).
  uint32_t ring_buffers() const { return static_cast<uint32_t>(ring_fds_.size()); }
  // The --max-rate token bucket the kernel uses, mapped for the agent.
  rate_bucket* RateBucket() const { return rate_bucket_.get(); }

 private:
  BpfSession() = default;
  bool CreateRings(uint64_t bytes, uint32_t count, std::string* error);
  bool InstallRings(std::string* error);
  static int OnEvent(void* ctx, void* data, size_t size);
  void Deliver(RecordBatchCursor* batch);
  void DeliverHeld();
  void TakeStrandedBatches();
  std::vector<probe_batch> ReadBatches() const;
  bool ResolveEventfd(std::string* error);
  bool ResolveHrtimerWakeup(std::string* error);
  const HistogramSlots& Slots(HistogramMap which) const {
    return which == HistogramMap::kSyscalls ? sys_hist_ : sched_hist_;
  }
  HistogramSlots& Slots(HistogramMap which) {
    return which == HistogramMap::kSyscalls ? sys_hist_ : sched_hist_;
  }
  // Destroyed in reverse order: the mapping, the drains, the epoll fd, then
  // the skeleton (its programs and maps), then the rings.
  std::vector<UniqueFd> ring_fds_;  // one RINGBUF map per shard, also held by the rings map
  std::unique_ptr<probe_bpf, SkeletonDeleter> skel_;
  HistogramSlots sys_hist_, sched_hist_;  // empty for a family not loaded
  UniqueFd epoll_fd_;
  // One drain per ring (libbpf 1.1 cannot consume one ring of a multi-ring
  // ring_buffer), all behind epoll_fd_.
  std::vector<std::unique_ptr<ring_buffer, RingBufferDeleter>> drains_;
  std::unique_ptr<rate_bucket, RateBucketUnmap> rate_bucket_;
  size_t next_drain_ = 0;
  bool end_pass_ = false;
  int budget_left_ = 0;
  bool backlog_ = false;  // the last Consume left events behind
  bool detached_ = false;
  uint64_t last_flush_ns_ = 0;
  // Records of a batch not yet delivered (no batch header): the rest of one
  // whose pass ended, or batches read from the map after Detach.
  std::vector<uint8_t> held_;
  EventSink sink_;
};

// Checks what loading needs, so the error names the missing piece.
bool CheckBpfPrerequisites(std::string* error);

}  // namespace probe
