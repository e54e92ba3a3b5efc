#include "bpf_session.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "event_decoder.h"
#include "process.skel.h"
#include "syscalls.skel.h"
#include "wakeups.skel.h"
extern "C" {
#include "probe_events.h"
}

namespace probe {

namespace {

bool HasCapability(int cap) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct data[2]{};
  if (syscall(SYS_capget, &hdr, data) != 0) return false;
  return (data[cap / 32].effective & (1u << (cap % 32))) != 0;
}

int QuietPrint(enum libbpf_print_level level, const char* fmt, va_list args) {
  if (level == LIBBPF_WARN && getenv("PROBE_DEBUG_LIBBPF")) return vfprintf(stderr, fmt, args);
  return 0;
}

}  // namespace

bool CheckBpfPrerequisites(std::string* error) {
  if (access("/sys/kernel/btf/vmlinux", R_OK) != 0) {
    *error =
        "this kernel has no BTF (/sys/kernel/btf/vmlinux missing): probe needs "
        "CONFIG_DEBUG_INFO_BTF=y";
    return false;
  }
  bool root = geteuid() == 0;
  bool caps = HasCapability(CAP_BPF) && HasCapability(CAP_PERFMON);
  if (!root && !caps) {
    *error = "insufficient privileges: run as root, or grant CAP_BPF and CAP_PERFMON";
    return false;
  }
  return true;
}

std::unique_ptr<BpfSession> BpfSession::Create(const BpfConfig& config, EventSink sink,
                                               std::string* error) {
  libbpf_set_print(QuietPrint);
  std::unique_ptr<BpfSession> s(new BpfSession());
  s->sink_ = std::move(sink);
  s->skel_ = process_bpf__open();
  if (!s->skel_) {
    *error = std::string("cannot open BPF object: ") + strerror(errno);
    return nullptr;
  }
  s->skel_->rodata->target_all = config.target_all;
  s->skel_->rodata->follow_children = config.follow_children;
  s->skel_->rodata->emit_exits = config.emit_process_exits;
  s->skel_->rodata->self_tgid = static_cast<uint32_t>(getpid());
  s->skel_->rodata->wakeup_bytes = config.ring_buffer_bytes / 4;
  if (int err = bpf_map__set_max_entries(s->skel_->maps.events,
                                         static_cast<uint32_t>(config.ring_buffer_bytes))) {
    *error = std::string("cannot size ring buffer: ") + strerror(-err);
    return nullptr;
  }
  if (int err = process_bpf__load(s->skel_)) {
    *error = std::string("cannot load BPF programs: ") + strerror(-err) +
             " (set PROBE_DEBUG_LIBBPF=1 for the verifier log)";
    return nullptr;
  }
  if (config.trace_syscalls && !s->LoadSyscalls(config, error)) return nullptr;
  if (config.trace_syscalls && config.trace_wakeups && !s->LoadWakeups(config, error))
    return nullptr;
  if (int err = process_bpf__attach(s->skel_)) {
    *error = std::string("cannot attach BPF programs: ") + strerror(-err);
    return nullptr;
  }
  if (s->sys_) {
    if (int err = syscalls_bpf__attach(s->sys_)) {
      *error = std::string("cannot attach syscall programs: ") + strerror(-err);
      return nullptr;
    }
  }
  if (s->wake_) {
    if (int err = wakeups_bpf__attach(s->wake_)) {
      *error = std::string("cannot attach scheduler programs: ") + strerror(-err);
      return nullptr;
    }
  }
  s->ring_ =
      ring_buffer__new(bpf_map__fd(s->skel_->maps.events), &BpfSession::OnEvent, s.get(), nullptr);
  if (!s->ring_) {
    *error = std::string("cannot open ring buffer: ") + strerror(errno);
    return nullptr;
  }
  return s;
}

// The syscall programs share targets, counters and the ring buffer with the
// process programs: same fds, handed over before load.
bool BpfSession::LoadSyscalls(const BpfConfig& config, std::string* error) {
  sys_ = syscalls_bpf__open();
  if (!sys_) {
    *error = std::string("cannot open syscall BPF object: ") + strerror(errno);
    return false;
  }
  sys_->rodata->target_all = config.target_all;
  sys_->rodata->min_latency_ns = config.min_latency_ns;
  sys_->rodata->self_tgid = static_cast<uint32_t>(getpid());
  sys_->rodata->wakeup_bytes = config.ring_buffer_bytes / 4;
  bpf_map__set_max_entries(sys_->maps.events, static_cast<uint32_t>(config.ring_buffer_bytes));
  int err = bpf_map__reuse_fd(sys_->maps.targets, bpf_map__fd(skel_->maps.targets));
  if (!err) err = bpf_map__reuse_fd(sys_->maps.counters, bpf_map__fd(skel_->maps.counters));
  if (!err) err = bpf_map__reuse_fd(sys_->maps.events, bpf_map__fd(skel_->maps.events));
  if (err) {
    *error = std::string("cannot share maps with the syscall programs: ") + strerror(-err);
    return false;
  }
  if ((err = syscalls_bpf__load(sys_))) {
    *error = std::string("cannot load syscall BPF programs: ") + strerror(-err) +
             " (set PROBE_DEBUG_LIBBPF=1 for the verifier log)";
    return false;
  }
  LIBBPF_OPTS(bpf_test_run_opts, run);
  err = bpf_prog_test_run_opts(bpf_program__fd(sys_->progs.resolve_ksyms), &run);
  if (err || sys_->bss->eventfd_read_iter == 0) {
    *error = "cannot find eventfd_read in the kernel's symbols: eventfds cannot be recognised";
    return false;
  }
  return true;
}

// The scheduler programs annotate the syscall programs' in-flight slots.
bool BpfSession::LoadWakeups(const BpfConfig& config, std::string* error) {
  wake_ = wakeups_bpf__open();
  if (!wake_) {
    *error = std::string("cannot open scheduler BPF object: ") + strerror(errno);
    return false;
  }
  wake_->rodata->target_all = config.target_all;
  wake_->rodata->self_tgid = static_cast<uint32_t>(getpid());
  wake_->rodata->wakeup_bytes = config.ring_buffer_bytes / 4;
  bpf_map__set_max_entries(wake_->maps.events, static_cast<uint32_t>(config.ring_buffer_bytes));
  int err = bpf_map__reuse_fd(wake_->maps.inflight, bpf_map__fd(sys_->maps.inflight));
  if (!err) err = bpf_map__reuse_fd(wake_->maps.targets, bpf_map__fd(skel_->maps.targets));
  if (!err) err = bpf_map__reuse_fd(wake_->maps.counters, bpf_map__fd(skel_->maps.counters));
  if (!err) err = bpf_map__reuse_fd(wake_->maps.events, bpf_map__fd(skel_->maps.events));
  if (err) {
    *error = std::string("cannot share maps with the scheduler programs: ") + strerror(-err);
    return false;
  }
  if (int err = wakeups_bpf__load(wake_)) {
    *error = std::string("cannot load scheduler BPF programs: ") + strerror(-err) +
             " (set PROBE_DEBUG_LIBBPF=1 for the verifier log)";
    return false;
  }
  return true;
}

BpfSession::~BpfSession() {
  wakeups_bpf__destroy(wake_);
  ring_buffer__free(ring_);
  syscalls_bpf__destroy(sys_);  // detaches links, closes maps
  process_bpf__destroy(skel_);
}

int BpfSession::OnEvent(void* ctx, void* data, size_t size) {
  static_cast<BpfSession*>(ctx)->sink_(data, size);
  return 0;
}

bool BpfSession::AddTarget(int tgid) {
  uint32_t key = static_cast<uint32_t>(tgid);
  uint8_t one = 1;
  return bpf_map__update_elem(skel_->maps.targets, &key, sizeof(key), &one, sizeof(one), BPF_ANY) ==
         0;
}

std::vector<int> BpfSession::Targets() const {
  std::vector<int> out;
  uint32_t key, next;
  uint32_t* prev = nullptr;
  while (bpf_map__get_next_key(skel_->maps.targets, prev, &next, sizeof(next)) == 0) {
    out.push_back(static_cast<int>(next));
    key = next;
    prev = &key;
  }
  return out;
}

int BpfSession::Poll(int timeout_ms) { return ring_buffer__poll(ring_, timeout_ms); }
int BpfSession::Consume() { return ring_buffer__consume(ring_); }

KernelCounters BpfSession::ReadCounters() const {
  KernelCounters c;
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return c;
  std::vector<uint64_t> values(static_cast<size_t>(ncpu));
  auto sum = [&](uint32_t idx) {
    uint64_t total = 0;
    if (bpf_map__lookup_elem(skel_->maps.counters, &idx, sizeof(idx), values.data(),
                             values.size() * sizeof(uint64_t), 0) == 0) {
      for (uint64_t v : values) total += v;
    }
    return total;
  };
  c.proc_produced = sum(PROBE_CTR_PROC_PRODUCED);
  c.proc_ring_full = sum(PROBE_CTR_PROC_RING_FULL);
  c.sys_produced = sum(PROBE_CTR_SYS_PRODUCED);
  c.sys_ring_full = sum(PROBE_CTR_SYS_RING_FULL);
  c.sys_filtered = sum(PROBE_CTR_SYS_FILTERED);
  c.sys_table_full = sum(PROBE_CTR_SYS_TABLE_FULL);
  c.sys_hist_full = sum(PROBE_CTR_SYS_HIST_FULL);
  c.wake_produced = sum(PROBE_CTR_WAKE_PRODUCED);
  c.wake_ring_full = sum(PROBE_CTR_WAKE_RING_FULL);
  c.wake_hist_full = sum(PROBE_CTR_WAKE_HIST_FULL);
  c.wake_table_full = sum(PROBE_CTR_WAKE_TABLE_FULL);
  return c;
}

bpf_map* BpfSession::HistogramMapOf(HistogramMap which) const {
  if (which == HistogramMap::kSyscalls) return sys_ ? sys_->maps.histograms : nullptr;
  return wake_ ? wake_->maps.sched_histograms : nullptr;
}

void BpfSession::ForEachHistogram(HistogramMap which, const HistogramVisitor& visit) const {
  bpf_map* map = HistogramMapOf(which);
  if (!map) return;
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return;
  std::vector<probe_hist> values(static_cast<size_t>(ncpu));
  probe_hist_key key, next;
  probe_hist_key* prev = nullptr;
  while (bpf_map__get_next_key(map, prev, &next, sizeof(next)) == 0) {
    if (bpf_map__lookup_elem(map, &next, sizeof(next), values.data(),
                             values.size() * sizeof(probe_hist), 0) == 0) {
      visit(next, values.data(), ncpu);
    }
    key = next;
    prev = &key;
  }
}

void BpfSession::DeleteHistogram(HistogramMap which, const probe_hist_key& key) {
  if (bpf_map* map = HistogramMapOf(which)) bpf_map__delete_elem(map, &key, sizeof(key), 0);
}

void BpfSession::AddExecInfo(int tgid, v1::ProcessLifetime* out) const {
  uint32_t key = static_cast<uint32_t>(tgid);
  probe_proc_info info;
  if (bpf_map__lookup_elem(skel_->maps.procs, &key, sizeof(key), &info, sizeof(info), 0) != 0)
    return;
  if (info.exec_ns == 0) return;
  out->set_exec_time_ns(info.exec_ns);
  out->set_exec_count(info.exec_count);
  if (info.exec_ns >= out->fork_time_ns())
    out->set_fork_to_exec_ns(info.exec_ns - out->fork_time_ns());
}

}  // namespace probe
