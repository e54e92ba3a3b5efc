// Owns the loaded BPF programs, their links and the ring buffers (RAII).
// Open -> configure rodata -> load -> attach; errors come back as values.
#pragma once
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "probe.pb.h"
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
};

struct KernelCounters {
  uint64_t proc_produced = 0;
  uint64_t proc_ring_full = 0;
  uint64_t sys_produced = 0;
  uint64_t sys_ring_full = 0;
  uint64_t sys_filtered = 0;
  uint64_t sys_table_full = 0;
  uint64_t sys_hist_full = 0;
  uint64_t wake_produced = 0;
  uint64_t wake_ring_full = 0;
  uint64_t wake_hist_full = 0;
  uint64_t wake_table_full = 0;
  uint64_t sys_sampled = 0, sys_first_k = 0, sys_rate = 0;
  uint64_t wake_sampled = 0, wake_first_k = 0, wake_rate = 0;
  uint64_t wake_unseen = 0, wake_raced = 0;
  uint64_t wake_no_switch_out = 0, wake_no_switch_in = 0;
  // Ring-buffer losses per CPU, indexed by CPU.
  std::vector<uint64_t> proc_ring_full_cpu, sys_ring_full_cpu, wake_ring_full_cpu;
};

// Entries in the kernel's per-process tables. Each is removed at its
// process's exit, so once every target has exited both are 0: anything else
// is kernel memory leaked for as long as the agent runs.
struct KernelTableSizes {
  uint64_t targets = 0;    // the target map
  uint64_t processes = 0;  // fork/exec details of live targets
};

// Which kernel histogram map.
enum class HistogramMap { kSyscalls, kScheduler };

// Called with a key and its per-CPU values (ncpu of them).
using HistogramVisitor =
    std::function<void(const probe_hist_key& key, const probe_hist* per_cpu, int ncpu)>;

using EventSink = std::function<void(const void* data, size_t size)>;

class BpfSession {
 public:
  // Returns nullptr and a one-line *error on failure.
  static std::unique_ptr<BpfSession> Create(const BpfConfig& config, EventSink sink,
                                            std::string* error);
  ~BpfSession();
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
  // Delivers everything, however long it takes (after Detach: finite).
  void ConsumeAll();
  static constexpr int kEventsPerRingPerPass = 16384;
  // Stops the programs (maps stay readable), so that after ConsumeAll the
  // counters balance: nothing is produced that is not drained.
  void Detach();
  KernelCounters ReadCounters() const;
  KernelTableSizes CountTableEntries() const;
  // Visits every syscall histogram in the kernel.
  void ForEachHistogram(HistogramMap which, const HistogramVisitor& visit) const;
  void DeleteHistogram(HistogramMap which, const probe_hist_key& key);
  // Adds what the kernel saw at exec (time, path, argv) to an unfinished record.
  void AddExecInfo(int tgid, v1::ProcessLifetime* out) const;
  // How many ring buffers the kernel side writes to (sharded by CPU).
  uint32_t ring_buffers() const { return static_cast<uint32_t>(ring_fds_.size()); }
  // The --max-rate token bucket the kernel uses, mapped for the agent.
  rate_bucket* RateBucket() const { return rate_bucket_; }

 private:
  // A file descriptor closed when it goes out of scope.
  class OwnedFd {
   public:
    explicit OwnedFd(int fd) : fd_(fd) {}
    OwnedFd(OwnedFd&& o) noexcept : fd_(o.fd_) { o.fd_ = -1; }
    OwnedFd& operator=(OwnedFd&&) = delete;
    ~OwnedFd();
    int get() const { return fd_; }

   private:
    int fd_;
  };

  BpfSession() = default;
  bool CreateRings(uint64_t bytes, uint32_t count, std::string* error);
  bool InstallRings(std::string* error);
  static int OnEvent(void* ctx, void* data, size_t size);
  bool ResolveEventfd(std::string* error);
  bool ResolveHrtimerWakeup(std::string* error);
  bpf_map* HistogramMapOf(HistogramMap which) const;
  probe_bpf* skel_ = nullptr;
  bool syscalls_ = false;
  bool wakeups_ = false;
  rate_bucket* rate_bucket_ = nullptr;
  size_t rate_bucket_len_ = 0;
  std::vector<OwnedFd> ring_fds_;  // one RINGBUF map per shard, also held by the rings map
  // One drain per ring (libbpf 1.1 cannot consume one ring of a multi-ring
  // ring_buffer), all behind one epoll fd.
  std::vector<ring_buffer*> drains_;
  int epoll_fd_ = -1;
  size_t next_drain_ = 0;
  int budget_left_ = 0;
  bool backlog_ = false;  // the last Consume left events behind
  EventSink sink_;
};

// Checks what loading needs, so the error names the missing piece.
bool CheckBpfPrerequisites(std::string* error);

}  // namespace probe
