#include "bpf_session.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/capability.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <utility>

#include "event_decoder.h"
#include "histogram_layout.h"
#include "probe.skel.h"
#include "proc_scan.h"
#include "record_batch.h"
#include "ring_layout.h"
extern "C" {
#include "probe_events.h"
}

namespace probe {

static_assert(kMaxRingBuffers == PROBE_MAX_RINGS, "ring_layout.h and probe_events.h disagree");

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
  s->skel_.reset(probe_bpf__open());
  if (!s->skel_) {
    *error = std::string("cannot open BPF object: ") + strerror(errno);
    return nullptr;
  }
  auto* ro = s->skel_->rodata;
  ro->target_all = config.target_all;
  ro->follow_children = config.follow_children;
  ro->emit_exits = config.emit_process_exits;
  ro->self_tgid = static_cast<uint32_t>(getpid());
  ro->wakeup_bytes = config.ring_buffer_bytes / 4;  // per ring
  // A batch (bpf/record_batch.bpf.h) takes at most a sixteenth of a ring,
  // so a ring holds many; rings under 8 KiB per batch get records one by one.
  const uint64_t batch = std::min<uint64_t>(PROBE_BATCH_BYTES, config.ring_buffer_bytes / 16);
  ro->batch_bytes = batch >= 512 ? static_cast<uint32_t>(batch) : 0;
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) {
    *error = std::string("cannot count the possible CPUs: ") + strerror(-ncpu);
    return nullptr;
  }
  const RingLayout layout = ChooseRingLayout(config.ring_buffers, static_cast<uint32_t>(ncpu));
  ro->cpus_per_ring = layout.cpus_per_ring;
  ro->ring_count = layout.rings;
  // A sixteenth of each ring is kept for process exits (bulk_limit_bytes in
  // bpf/probe_shared_maps.bpf.h), in rings where that holds four of them
  // even after the CPUs sharing the ring all passed the limit's test at
  // once, each with a whole batch.
  const uint64_t kept = config.ring_buffer_bytes / 16;
  const uint64_t sharing = std::min<uint64_t>(layout.cpus_per_ring, static_cast<uint64_t>(ncpu));
  const uint64_t overshoot = (sharing - 1) * (ro->batch_bytes + 8);
  if (kept >= overshoot + 4 * (sizeof(probe_proc_exit_event) + 8))
    ro->bulk_limit_bytes = config.ring_buffer_bytes - kept;
  ro->min_latency_ns = config.min_latency_ns;
  for (int k = 0; k < PROBE_SAMPLE_KINDS; ++k) {
    ro->keep_one_in[k] = config.keep_one_in[k];
    ro->first_per_second[k] = config.first_per_second[k];
  }
  ro->max_records_per_s = config.max_records_per_s;
  ro->sample_seed = config.sample_seed;
  ro->untyped_loads = config.untyped_loads && !getenv("PROBE_BPF_COMPAT");
  // Run on a CPU by FlushBatches, never attached.
  bpf_program__set_autoattach(s->skel_->progs.flush_batch, false);
  // Families left out are not loaded, so they cost nothing at run time.
  const bool wakeups = config.trace_wakeups;
  for (bpf_program* p :
       {s->skel_->progs.resolve_ksyms, s->skel_->progs.on_sys_enter, s->skel_->progs.on_sys_exit})
    bpf_program__set_autoload(p, config.trace_syscalls);
  for (bpf_program* p :
       {s->skel_->progs.on_waking, s->skel_->progs.on_wakeup, s->skel_->progs.on_switch})
    bpf_program__set_autoload(p, wakeups);
  // on_switch hands a leaving thread's staged records on; without it, this.
  bpf_program__set_autoload(s->skel_->progs.on_switch_flush, config.trace_syscalls && !wakeups);
  const bool context = wakeups && config.waker_context;
  ro->waker_context_tracked = context;
  for (bpf_program* p : {s->skel_->progs.resolve_wakeup_ksyms, s->skel_->progs.on_irq_entry,
                         s->skel_->progs.on_irq_exit, s->skel_->progs.on_softirq_entry,
                         s->skel_->progs.on_softirq_exit, s->skel_->progs.on_hrtimer_entry,
                         s->skel_->progs.on_hrtimer_exit})
    bpf_program__set_autoload(p, context);
  // Each family's index, slot array and free queue hold the same count.
  const auto size_slots = [&](HistogramSlotMaps m, uint32_t wanted) {
    const uint32_t n =
        ChooseHistogramSlots(wanted, bpf_map__value_size(m.slots), static_cast<uint32_t>(ncpu));
    for (bpf_map* map : {m.index, m.slots, m.free, m.owner}) bpf_map__set_max_entries(map, n);
    return n;
  };
  const HistogramSlotMaps sys_maps = {s->skel_->maps.sys_hist_index, s->skel_->maps.sys_hist_slots,
                                      s->skel_->maps.sys_hist_free, s->skel_->maps.sys_hist_owner};
  const HistogramSlotMaps sched_maps = {
      s->skel_->maps.sched_hist_index, s->skel_->maps.sched_hist_slots,
      s->skel_->maps.sched_hist_free, s->skel_->maps.sched_hist_owner};
  ro->sys_hist_count = size_slots(sys_maps, kSyscallHistogramSlots);
  ro->sched_hist_count = size_slots(sched_maps, kSchedHistogramSlots);
  if (!s->CreateRings(config.ring_buffer_bytes, layout.rings, error)) return nullptr;
  if (int err = probe_bpf__load(s->skel_.get())) {
    // An older kernel's verifier: once more, as for it.
    if (ro->untyped_loads && config.trace_syscalls) {
      BpfConfig older = config;
      older.untyped_loads = false;
      EventSink again = std::move(s->sink_);
      s.reset();
      return Create(older, std::move(again), error);
    }
    *error = std::string("cannot load BPF programs: ") + strerror(-err) +
             " (set PROBE_DEBUG_LIBBPF=1 for the verifier log)";
    return nullptr;
  }
  if (config.trace_syscalls && !s->ResolveEventfd(error)) return nullptr;
  if (context && !s->ResolveHrtimerWakeup(error)) return nullptr;
  if (config.trace_syscalls) s->sys_hist_ = HistogramSlots(sys_maps);
  if (wakeups) s->sched_hist_ = HistogramSlots(sched_maps);
  // Every ring is in place before the programs run: none finds an empty slot.
  if (!s->InstallRings(error)) return nullptr;
  // The --max-rate bucket, shared with the kernel for the shim's records.
  const size_t page = size_t(sysconf(_SC_PAGESIZE));
  void* bucket =
      mmap(nullptr, page, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(s->skel_->maps.rate), 0);
  if (bucket == MAP_FAILED) {
    *error = std::string("cannot map the rate bucket: ") + strerror(errno);
    return nullptr;
  }
  s->rate_bucket_ = std::unique_ptr<rate_bucket, RateBucketUnmap>(static_cast<rate_bucket*>(bucket),
                                                                  RateBucketUnmap{page});
  // The context programs' entries go last, after their exits: an irq,
  // softirq or hrtimer whose entry ran while its exit program was not yet
  // attached would leave that CPU in its context for good (an hrtimer's exit
  // restores the timer it interrupted), naming a timer for every later task
  // wakeup there. An exit seen without its entry only clears.
  probe_bpf* skel = s->skel_.get();
  const std::pair<bpf_program*, bpf_link**> entries[] = {
      {skel->progs.on_irq_entry, &skel->links.on_irq_entry},
      {skel->progs.on_softirq_entry, &skel->links.on_softirq_entry},
      {skel->progs.on_hrtimer_entry, &skel->links.on_hrtimer_entry}};
  for (const auto& [prog, link] : entries) bpf_program__set_autoattach(prog, false);
  if (int err = probe_bpf__attach(skel)) {
    *error = std::string("cannot attach BPF programs: ") + strerror(-err);
    return nullptr;
  }
  for (const auto& [prog, link] : entries) {
    if (!bpf_program__autoload(prog)) continue;
    // Held by the skeleton's links: freed by its detach and destroy.
    *link = bpf_program__attach(prog);
    if (!*link) {
      *error = std::string("cannot attach ") + bpf_program__name(prog) + ": " + strerror(errno);
      return nullptr;
    }
  }
  return s;
}

// Creates the rings before load. The first is also the rings map's template
// (its inner map), so every ring matches it, size included (this kernel
// checks type and flags, not size). Given as an fd because libbpf 1.1 cannot
// resize the template it makes itself: bpf_map__set_max_entries on an inner
// map dereferences its NULL object.
bool BpfSession::CreateRings(uint64_t bytes, uint32_t count, std::string* error) {
  for (uint32_t i = 0; i < count; ++i) {
    int fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "probe_ring", 0, 0, static_cast<uint32_t>(bytes),
                            nullptr);
    if (fd < 0) {
      *error = "cannot create ring buffer " + std::to_string(i + 1) + " of " +
               std::to_string(count) + " (" + std::to_string(bytes >> 10) +
               " KiB each): " + strerror(errno);
      return false;
    }
    ring_fds_.emplace_back(fd);
  }
  if (int err = bpf_map__set_inner_map_fd(skel_->maps.rings, ring_fds_[0].get())) {
    *error = std::string("cannot set the ring buffer template: ") + strerror(-err);
    return false;
  }
  return true;
}

// After load: puts each ring in its slot of the rings map, gives it its own
// libbpf ring_buffer (drained by Consume) and adds that to the epoll fd Poll
// waits on.
bool BpfSession::InstallRings(std::string* error) {
  epoll_fd_.reset(epoll_create1(EPOLL_CLOEXEC));
  if (!epoll_fd_) {
    *error = std::string("cannot create an epoll fd for the ring buffers: ") + strerror(errno);
    return false;
  }
  for (uint32_t idx = 0; idx < ring_fds_.size(); ++idx) {
    int fd = ring_fds_[idx].get();
    int err = bpf_map__update_elem(skel_->maps.rings, &idx, sizeof(idx), &fd, sizeof(fd), BPF_ANY);
    if (!err) {
      std::unique_ptr<ring_buffer, RingBufferDeleter> rb(
          ring_buffer__new(fd, &BpfSession::OnEvent, this, nullptr));
      if (rb) {
        epoll_event ev{};
        ev.events = EPOLLIN;
        ev.data.u32 = idx;
        if (epoll_ctl(epoll_fd_.get(), EPOLL_CTL_ADD, ring_buffer__epoll_fd(rb.get()), &ev) != 0)
          err = -errno;
        drains_.push_back(std::move(rb));
      } else {
        err = -errno;
      }
    }
    if (err) {
      *error = "cannot install ring buffer " + std::to_string(idx + 1) + " of " +
               std::to_string(ring_fds_.size()) + ": " + strerror(-err);
      return false;
    }
  }
  return true;
}

void SkeletonDeleter::operator()(probe_bpf* skel) const { probe_bpf__destroy(skel); }
void RingBufferDeleter::operator()(ring_buffer* rb) const { ring_buffer__free(rb); }
void RateBucketUnmap::operator()(rate_bucket* p) const { munmap(p, bytes); }

// eventfds are recognised by their read_iter; a syscall program looks up its
// address once (bpf_kallsyms_lookup_name), faster than reading kallsyms.
bool BpfSession::ResolveEventfd(std::string* error) {
  LIBBPF_OPTS(bpf_test_run_opts, run);
  int err = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.resolve_ksyms), &run);
  if (err || skel_->bss->eventfd_read_iter == 0) {
    *error = "cannot find eventfd_read in the kernel's symbols: eventfds cannot be recognised";
    return false;
  }
  return true;
}

// A wait's own timeout is an hrtimer_sleeper, whose function is hrtimer_wakeup.
bool BpfSession::ResolveHrtimerWakeup(std::string* error) {
  LIBBPF_OPTS(bpf_test_run_opts, run);
  int err = bpf_prog_test_run_opts(bpf_program__fd(skel_->progs.resolve_wakeup_ksyms), &run);
  if (err || skel_->bss->hrtimer_wakeup_fn == 0) {
    *error = "cannot find hrtimer_wakeup in the kernel's symbols: timeouts cannot be recognised";
    return false;
  }
  return true;
}

int BpfSession::OnEvent(void* ctx, void* data, size_t size) {
  auto* self = static_cast<BpfSession*>(ctx);
  if (IsRecordBatch(data, size)) {
    RecordBatchCursor batch(data, size);
    self->Deliver(&batch);
  } else {
    self->sink_(data, size);
    --self->budget_left_;
  }
  // A negative return stops libbpf after this event (it is consumed).
  return self->budget_left_ > 0 && !self->end_pass_ ? 0 : -EAGAIN;
}

// A batch's records one by one, as if each were a ring record of its own.
// If the sink ends the pass (the file is full) the rest waits in held_ for
// the next pass, as it would have waited in the ring.
void BpfSession::Deliver(RecordBatchCursor* batch) {
  const void* record;
  size_t size;
  while (!end_pass_ && batch->Next(&record, &size)) {
    sink_(record, size);
    --budget_left_;
  }
  if (batch->rest_size() > 0)
    held_.insert(held_.end(), batch->rest(), batch->rest() + batch->rest_size());
}

// What an ended pass left of a batch, before anything newer.
void BpfSession::DeliverHeld() {
  std::vector<uint8_t> held;
  held.swap(held_);
  RecordBatchCursor rest(held.data(), held.size(), RecordBatchCursor::kNoHeader);
  Deliver(&rest);
}

// Every CPU's batch as the map holds it now; empty if it cannot be read.
std::vector<probe_batch> BpfSession::ReadBatches() const {
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return {};
  std::vector<probe_batch> all(static_cast<size_t>(ncpu));
  const uint32_t zero = 0;
  if (bpf_map__lookup_elem(skel_->maps.batches, &zero, sizeof(zero), all.data(),
                           all.size() * sizeof(probe_batch), 0) != 0)
    return {};
  return all;
}

void BpfSession::FlushBatches() {
  last_flush_ns_ = MonotonicNs();
  const int fd = bpf_program__fd(skel_->progs.flush_batch);
  // Only CPUs whose batch holds records get the IPI: an idle or isolated
  // CPU is left in peace. One that fills after this read waits for the next.
  const std::vector<probe_batch> all = ReadBatches();
  for (size_t cpu = 0; cpu < all.size(); ++cpu) {
    if (all[cpu].used <= sizeof(probe_event_header)) continue;
    // 1: the flush interrupted a program writing the batch; it is free again
    // microseconds later. An offline CPU fails (ENXIO): its batch is read
    // from the map at stop.
    for (int attempt = 0; attempt < 4; ++attempt) {
      LIBBPF_OPTS(bpf_test_run_opts, run, .flags = BPF_F_TEST_RUN_ON_CPU,
                  .cpu = static_cast<__u32>(cpu));
      if (bpf_prog_test_run_opts(fd, &run) != 0 || run.retval == 0) break;
    }
  }
}

// After Detach no program writes a batch: what FlushBatches could not hand
// to a ring (a CPU gone offline) is read here and delivered with the next
// Consume, ahead of what is in the rings then.
void BpfSession::TakeStrandedBatches() {
  std::vector<probe_batch> all = ReadBatches();
  bool any = false;
  for (const probe_batch& b : all) {
    const size_t used = std::min<size_t>(b.used, sizeof(b.data));
    if (used <= sizeof(probe_event_header)) continue;
    held_.insert(held_.end(), b.data + sizeof(probe_event_header), b.data + used);
    any = true;
  }
  if (!any) return;
  std::fill(all.begin(), all.end(), probe_batch{});
  const uint32_t zero = 0;
  bpf_map__update_elem(skel_->maps.batches, &zero, sizeof(zero), all.data(),
                       all.size() * sizeof(probe_batch), BPF_ANY);
}

bool BpfSession::AddTarget(int tgid) {
  uint32_t key = static_cast<uint32_t>(tgid);
  uint8_t one = 1;
  bool ok =
      bpf_map__update_elem(skel_->maps.targets, &key, sizeof(key), &one, sizeof(one), BPF_ANY) == 0;
  // After the insert: invalidates the programs' cached "not a target" answers.
  if (skel_->bss) __atomic_fetch_add(&skel_->bss->targets_gen, 1, __ATOMIC_SEQ_CST);
  return ok;
}

void BpfSession::RemoveTarget(int tgid) {
  uint32_t key = static_cast<uint32_t>(tgid);
  bpf_map__delete_elem(skel_->maps.targets, &key, sizeof(key), 0);
}

bool BpfSession::IsTarget(int tgid) const {
  uint32_t key = static_cast<uint32_t>(tgid);
  uint8_t value;
  return bpf_map__lookup_elem(skel_->maps.targets, &key, sizeof(key), &value, sizeof(value), 0) ==
         0;
}

namespace {

// The keys of a map keyed by pid (targets, procs).
std::vector<uint32_t> PidKeys(const bpf_map* map) {
  std::vector<uint32_t> out;
  uint32_t key, next;
  uint32_t* prev = nullptr;
  while (bpf_map__get_next_key(map, prev, &next, sizeof(next)) == 0) {
    out.push_back(next);
    key = next;
    prev = &key;
  }
  return out;
}

}  // namespace

std::vector<int> BpfSession::Targets() const {
  std::vector<uint32_t> keys = PidKeys(skel_->maps.targets);
  return std::vector<int>(keys.begin(), keys.end());
}

KernelTableSizes BpfSession::CountTableEntries() const {
  return {PidKeys(skel_->maps.targets).size(), PidKeys(skel_->maps.procs).size()};
}

int BpfSession::Poll(int timeout_ms) {
  epoll_event ready[8];
  if (epoll_wait(epoll_fd_.get(), ready, 8, backlog_ ? 0 : timeout_ms) < 0 && errno != EINTR)
    return -errno;
  if (MonotonicNs() - last_flush_ns_ >= kBatchFlushIntervalNs) FlushBatches();
  return Consume();
}

int BpfSession::Consume() {
  int total = 0;
  backlog_ = false;
  end_pass_ = false;
  if (!held_.empty()) {
    budget_left_ = kEventsPerRingPerPass;
    DeliverHeld();
    total += kEventsPerRingPerPass - budget_left_;
  }
  for (size_t k = 0; k < drains_.size() && !end_pass_; ++k) {
    budget_left_ = kEventsPerRingPerPass;
    int n = ring_buffer__consume(drains_[(next_drain_ + k) % drains_.size()].get());
    if (n < 0) {  // stopped by the budget or EndPass (OnEvent is the only source of errors)
      backlog_ = true;
      n = kEventsPerRingPerPass - budget_left_;
    }
    total += n;
  }
  if (end_pass_ || !held_.empty()) backlog_ = true;
  if (!drains_.empty()) next_drain_ = (next_drain_ + 1) % drains_.size();
  return total;
}

void BpfSession::ConsumeAll(const std::function<void()>& between) {
  FlushBatches();
  if (detached_) TakeStrandedBatches();
  do {
    Consume();
    between();
  } while (backlog_);
}

void BpfSession::Detach() {
  probe_bpf__detach(skel_.get());
  detached_ = true;
}

KernelCounters BpfSession::ReadCounters() const {
  const int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return KernelCounters();
  return ReadKernelCounters([&](uint32_t index) {
    std::vector<uint64_t> values(static_cast<size_t>(ncpu));
    if (bpf_map__lookup_elem(skel_->maps.counters, &index, sizeof(index), values.data(),
                             values.size() * sizeof(uint64_t), 0) != 0)
      std::fill(values.begin(), values.end(), 0);
    return values;
  });
}

void BpfSession::AddExecInfo(int tgid, v1::ProcessLifetime* out) const {
  uint32_t key = static_cast<uint32_t>(tgid);
  probe_proc_info info;
  if (bpf_map__lookup_elem(skel_->maps.procs, &key, sizeof(key), &info, sizeof(info), 0) != 0)
    return;
  if (info.exec_ns == 0) return;
  out->set_exec_time_ns(info.exec_ns);
  out->set_exec_count(info.exec_count);
  out->set_first_exec_time_ns(info.first_exec_ns);
  if (info.exec_ns >= out->fork_time_ns())
    out->set_fork_to_exec_ns(info.exec_ns - out->fork_time_ns());
}

}  // namespace probe
