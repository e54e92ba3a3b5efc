#include "shim_consumer.h"

#include <algorithm>
#include <cstring>

namespace probe {

namespace {

// Loads from memory another process writes at the same time.
template <typename T>
T Load(const void* p) {
  T v;
  __atomic_load(reinterpret_cast<const T*>(p), &v, __ATOMIC_ACQUIRE);
  return v;
}

template <typename T>
void Store(void* p, T v) {
  __atomic_store(reinterpret_cast<T*>(p), &v, __ATOMIC_RELEASE);
}

bool IsPowerOfTwo(uint32_t v) { return v && !(v & (v - 1)); }

// One event out of shared memory into private memory, as four word loads
// the compiler may neither repeat nor defer: everything after looks at the
// copy only, so a writer changing the event cannot make what was checked
// differ from what is decoded. Events are 8-byte aligned (probe_shm.h).
probe_shm_event CopyEvent(const uint8_t* p) {
  uint64_t w[4];
  for (int i = 0; i < 4; ++i)
    w[i] = __atomic_load_n(reinterpret_cast<const uint64_t*>(p) + i, __ATOMIC_RELAXED);
  probe_shm_event e;
  static_assert(sizeof(e) == sizeof(w));
  memcpy(&e, w, sizeof(e));
  return e;
}

// PID_MAX_LIMIT on 64-bit: pid_max cannot be set higher, so no tid (in any
// pid namespace) reaches it.
constexpr int32_t kTidLimit = 4 * 1024 * 1024;
// Leeway of the clock checks. Past: the process start is read in 10 ms
// ticks, and a TSC timestamp from long ago is converted on a line that
// NTP's slewing of CLOCK_MONOTONIC (at most 500 ppm) has moved since, hence
// also 1/1000 of the process's age. Future: rdtsc is not ordered after the
// load of head, so another CPU's last TSC read may look a little ahead.
constexpr uint64_t kPastSlackNs = 1000000000;
constexpr uint64_t kFutureSlackNs = 1000000;

std::string FunctionList(uint32_t bits) {
  char out[256];
  probe_fn_list(bits, out, sizeof(out));
  return out;
}

}  // namespace

std::unique_ptr<ShimConsumer> ShimConsumer::Attach(uint8_t* base, size_t size, int32_t pid,
                                                   std::string* error, int32_t own_pid) {
  if (size < sizeof(probe_shm_header)) {
    *error = "region smaller than its header";
    return nullptr;
  }
  probe_shm_header h;
  memcpy(&h, base, sizeof(h));  // one snapshot: later changes to the header are ignored
  if (h.magic != PROBE_SHM_MAGIC || h.version != PROBE_SHM_VERSION) {
    *error = "not a probe shim region (magic or version)";
    return nullptr;
  }
  // In a pid namespace the shim knows itself by another number than ours.
  if (own_pid != kAnyPid && static_cast<int32_t>(h.pid) != pid &&
      (own_pid <= 0 || static_cast<int32_t>(h.pid) != own_pid)) {
    *error = "region belongs to pid " + std::to_string(h.pid);  // e.g. a parent's, after fork
    return nullptr;
  }
  if (h.nslots == 0 || h.nslots > PROBE_SHM_MAX_SLOTS || !IsPowerOfTwo(h.slot_events) ||
      h.slot_events > PROBE_SHM_MAX_SLOT_EVENTS || h.nnames > PROBE_SHM_MAX_NAMES ||
      probe_shm_total_bytes(h.nnames, h.nslots, h.slot_events) > size) {
    *error = "region geometry does not fit its size";
    return nullptr;
  }
  if (h.clock != PROBE_CLOCK_TSC && h.clock != PROBE_CLOCK_MONOTONIC) {
    *error = "unknown clock";
    return nullptr;
  }
  std::unique_ptr<ShimConsumer> c(new ShimConsumer());
  c->base_ = base;
  c->size_ = size;
  c->pid_ = pid;
  c->nslots_ = h.nslots;
  c->slot_events_ = h.slot_events;
  c->nnames_ = h.nnames;
  c->clock_ = h.clock;
  c->flags_ = h.flags;
  c->sample_every_ = h.sample_every ? h.sample_every : 1;
  c->min_duration_ns_ = h.min_duration_ns;
  c->first_per_second_ = h.first_per_second;
  c->functions_ = h.functions;
  // Start where the producer is: events published before attach are ours
  // too (the region may have recorded before the agent came).
  c->tails_.assign(h.nslots, 0);
  return c;
}

bool ShimConsumer::self_drained() const { return flags_ & PROBE_SHM_F_SELF_DRAINED; }

uint64_t ShimConsumer::ToNs(uint64_t t, const TscClock& clock) const {
  return clock_ == PROBE_CLOCK_TSC ? clock.ToNs(t) : t;
}

const std::string& ShimConsumer::Name(uint32_t id) {
  auto it = names_.find(id);
  if (it != names_.end()) return it->second;
  static const std::string kUnknown;
  if (id == 0 || id > nnames_) return kUnknown;
  const uint8_t* entry = base_ + probe_shm_names_offset() + uint64_t(id - 1) * 64;
  if (!Load<uint32_t>(entry)) return kUnknown;  // not published yet: ask again next time
  probe_shm_name n;
  memcpy(&n, entry, sizeof(n));
  size_t len = n.len < PROBE_SHM_NAME_TEXT ? n.len : PROBE_SHM_NAME_TEXT;
  std::string text(n.text, len);  // exact: Marker.name is bytes
  if (names_.size() >= PROBE_SHM_MAX_NAMES) return kUnknown;
  return names_.emplace(id, std::move(text)).first->second;
}

// Whether t can be a time of the region's process: not before it started,
// not after now (only 0 is refused when the start is not known).
bool ShimConsumer::InWindow(uint64_t t_ns, uint64_t now_ns) const {
  uint64_t slack = kPastSlackNs;
  if (clock_ == PROBE_CLOCK_TSC && now_ns > not_before_ns_)
    slack += (now_ns - not_before_ns_) / 1000;
  const uint64_t earliest = not_before_ns_ > slack ? not_before_ns_ - slack : 1;
  return t_ns >= earliest && t_ns <= now_ns + kFutureSlackNs;
}

// An event becomes a record only if the shim could have written it
// (preload/shim_internal.h, shim_thread.c): a thread that has a tid, a
// function the header says is wrapped, errno only with a failed result, a
// marker's fd 0 and a published name, and times between the process's start
// and now, so a duration is at most now - entry. Random bytes pass with a
// chance of about 12/65536 (kind) * (age / 2^64)^2 (start, then end, in the
// window) per event: 10^-23 for a process 3 s old (shim_hostile), 10^-14 a
// day old, 5 * 10^-10 a year old. Before, kind and end >= start alone let
// about 1 in 10^4 through (measured: 882 of 6.7 million).
bool ShimConsumer::DecodeEvent(const probe_shm_event& e, int32_t tid, const TscClock& clock,
                               uint64_t now_ns, v1::Record* r) {
  r->Clear();
  if (tid <= 0 || tid >= kTidLimit) return false;
  if (e.kind >= PROBE_EV_MARKER && e.kind <= PROBE_EV_MARKER + 2) {
    const uint64_t time = ToNs(e.start, clock);
    if (e.fd != 0 || !InWindow(time, now_ns)) return false;
    auto* m = r->mutable_marker();
    m->set_pid(pid_);
    m->set_tid(tid);
    m->set_type(static_cast<v1::MarkerType>(e.kind - PROBE_EV_MARKER));
    m->set_name(Name(e.aux));
    m->set_time_ns(time);
    m->set_arg0(e.value);
    m->set_arg1(static_cast<int64_t>(e.end));
    return !m->name().empty();
  }
  if (e.kind == 0 || e.kind >= PROBE_FN_COUNT || !((functions_ >> e.kind) & 1u)) return false;
  if (e.end < e.start || (e.value >= 0 && e.aux != 0)) return false;
  const uint64_t entry = ToNs(e.start, clock), exit = ToNs(e.end, clock);
  if (!InWindow(entry, now_ns) || !InWindow(exit, now_ns)) return false;
  auto* c = r->mutable_shim_call();
  c->set_pid(pid_);
  c->set_tid(tid);
  c->set_function(static_cast<v1::ShimFunction>(e.kind));
  c->set_entry_ns(entry);
  c->set_duration_ns(exit >= entry ? exit - entry : 0);
  c->set_result(e.value);
  c->set_fd(e.fd);
  c->set_error(e.value < 0 ? e.aux : 0);
  return true;
}

// Slots past the producer's high-water mark were never used: not touching
// them keeps their pages unallocated (a read fault on tmpfs allocates).
uint32_t ShimConsumer::SlotsInUse() const {
  uint32_t high = Load<uint32_t>(base_ + offsetof(probe_shm_header, slots_high));
  return high < nslots_ ? high : nslots_;
}

void ShimConsumer::Drain(const TscClock& clock, const Now& now, const Sink& sink,
                         const RateCheck& rate) {
  v1::Record record;
  const uint32_t used = SlotsInUse();
  for (uint32_t i = 0; i < used; ++i) {
    uint8_t* slot = base_ + probe_shm_slot_offset(nnames_, slot_events_, i);
    uint64_t tail = tails_[i];
    uint64_t head = Load<uint64_t>(slot + offsetof(probe_shm_slot, head));
    if (head == tail) continue;
    if (head < tail || head - tail > slot_events_) {
      // Not what a producer can do: skip to its head, count, go on.
      ++rejected_;
      tails_[i] = head;
      Store<uint64_t>(slot + offsetof(probe_shm_slot, tail), head);
      continue;
    }
    const int32_t tid = Load<int32_t>(slot + offsetof(probe_shm_slot, tid));
    const uint64_t now_ns = now();  // after head: every event below ended before
    const uint8_t* events = slot + PROBE_SHM_SLOT_BYTES;
    for (uint64_t t = tail; t != head; ++t) {
      const probe_shm_event e =
          CopyEvent(events + (t & (slot_events_ - 1)) * sizeof(probe_shm_event));
      if (!DecodeEvent(e, tid, clock, now_ns, &record)) {
        ++rejected_;
      } else if (rate && !rate()) {
        ++sampled_rate_;
      } else if (sink(record)) {
        ++written_;
      } else {
        ++lost_write_;
      }
    }
    tails_[i] = head;
    Store<uint64_t>(slot + offsetof(probe_shm_slot, tail), head);
  }
}

ShimTally ShimConsumer::Tally() const {
  ShimTally t;
  uint64_t seen = 0;
  const uint32_t used = SlotsInUse();
  // The counters are the shim's own word, in memory its process can scribble
  // on. Racing reads of an honest producer need not add up, so only what no
  // producer can reach is refused: a slot with a counter past 2^48 (years at
  // a billion calls a second) is counted as rejected and its numbers left
  // out, which also keeps the sums from wrapping.
  constexpr uint64_t kPlausible = 1ull << 48;
  for (uint32_t i = 0; i < used; ++i) {
    const uint8_t* slot = base_ + probe_shm_slot_offset(nnames_, slot_events_, i);
    const uint64_t c[] = {Load<uint64_t>(slot + offsetof(probe_shm_slot, seen)),
                          Load<uint64_t>(slot + offsetof(probe_shm_slot, sampled_out)),
                          Load<uint64_t>(slot + offsetof(probe_shm_slot, sampled_min_duration)),
                          Load<uint64_t>(slot + offsetof(probe_shm_slot, sampled_first_k)),
                          Load<uint64_t>(slot + offsetof(probe_shm_slot, lost_full))};
    if (std::any_of(std::begin(c), std::end(c), [](uint64_t v) { return v > kPlausible; })) {
      ++t.rejected;
      continue;
    }
    seen += c[0];
    t.sampled_out += c[1];
    t.sampled_min_latency += c[2];
    t.sampled_first_k += c[3];
    t.lost_buffer_full += c[4];
  }
  const uint64_t no_buffer = Load<uint64_t>(base_ + offsetof(probe_shm_header, lost_no_buffer));
  const uint64_t no_name = Load<uint64_t>(base_ + offsetof(probe_shm_header, lost_no_name));
  if (no_buffer > kPlausible || no_name > kPlausible)
    ++t.rejected;
  else
    t.lost_no_buffer = no_buffer + no_name;
  t.produced = seen + t.lost_no_buffer;
  // What the shim sampled out and did not say why was its 1-in-N (a
  // hostile shim's numbers may not add up: then none is attributed).
  const uint64_t explained = t.sampled_min_latency + t.sampled_first_k;
  t.sampled_one_in_n = t.sampled_out >= explained ? t.sampled_out - explained : 0;
  t.sampled_rate = sampled_rate_;
  t.sampled_out += sampled_rate_;
  t.written = written_;
  t.lost_write = lost_write_;
  t.rejected += rejected_;
  return t;
}

void ShimConsumer::FillProcess(v1::ShimProcess* p) const {
  ShimTally t = Tally();
  p->set_pid(pid_);
  p->set_produced(t.produced);
  p->set_written(t.written);
  p->set_sampled_out(t.sampled_out);
  p->set_lost_buffer_full(t.lost_buffer_full);
  p->set_lost_no_buffer(t.lost_no_buffer);
  p->set_rejected(t.rejected);
  p->set_lost_write(t.lost_write);
  p->set_sample_every(sample_every_);
  p->set_min_duration_ns(min_duration_ns_);
  p->set_first_per_second(first_per_second_);
  p->set_functions(FunctionList(functions_));
  p->set_tsc_clock(clock_ == PROBE_CLOCK_TSC);
}

}  // namespace probe
