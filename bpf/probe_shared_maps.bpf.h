/* Maps and settings that every program file of the agent uses. Each file
 * declares them __weak; bpftool's static linker merges the files into one
 * object (probe.bpf.o) where each exists once. */
#ifndef PROBE_SHARED_MAPS_BPF_H
#define PROBE_SHARED_MAPS_BPF_H

#include "probe_events.h"

/* Per object, set by the agent through rodata before load. */
const volatile bool target_all __weak = false;
/* The agent itself: never a target, or with --all its own polling would be
 * traced, producing records about draining records. */
const volatile __u32 self_tgid __weak = 0;
/* Submits wake the agent only once this much is waiting: batching keeps a
 * busy target's cost down, and a filling ring still drains before 100 ms. */
const volatile __u64 wakeup_bytes __weak = 1 << 18;
/* How full calls and wakeups may make a ring: the rest is kept for process
 * exits, so that a flood of calls the agent cannot drain in time does not
 * also cost the lifetime of the process that made them. Set by the agent
 * (a sixteenth of a ring kept, in rings big enough to keep a few exits). */
const volatile __u64 bulk_limit_bytes __weak = ~0ull;
/* Ring buffers sharded by CPU: CPU c writes to ring c / cpus_per_ring (the
 * last ring takes any CPU past ring_count * cpus_per_ring). Producers on one
 * ring serialise on its spinlock; on different rings they do not. */
const volatile __u32 cpus_per_ring __weak = 1;
const volatile __u32 ring_count __weak = 1;

/* tgid -> 1. Seeded by the agent; children added at fork. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, __u8);
} targets SEC(".maps") __weak;

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, PROBE_CTR_MAX);
  __type(key, __u32);
  __type(value, __u64);
} counters SEC(".maps") __weak;

/* Slot i: the ring of CPUs i * cpus_per_ring onwards. The agent creates
 * ring_count rings of --ring-buffer bytes, gives the first to libbpf as the
 * template (this max_entries is only a placeholder) and fills the slots
 * before attach. */
struct probe_ring {
  __uint(type, BPF_MAP_TYPE_RINGBUF);
  __uint(max_entries, 1 << 20);
};

struct {
  __uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
  __uint(max_entries, PROBE_MAX_RINGS);
  __type(key, __u32);
  __array(values, struct probe_ring);
} rings SEC(".maps") __weak;

static __always_inline void count_n(__u32 idx, __u32 n) {
  __u64 *v = bpf_map_lookup_elem(&counters, &idx);
  if (v) *v += n;
}

static __always_inline void count(__u32 idx) { count_n(idx, 1); }

static __always_inline bool is_target(__u32 tgid) {
  if (target_all) return tgid != self_tgid;
  return bpf_map_lookup_elem(&targets, &tgid) != NULL;
}

/* Bumped after every insert into targets (on_fork here, AddTarget in the
 * agent): a negative answer cached before the bump is then stale. */
__u64 targets_gen __weak = 0;

struct not_target_cache {
  __u32 tgid;
  __u32 valid;
  __u64 gen;
};

/* The last process found not to be a target, per CPU: a tight syscall loop
 * of an untargeted process then pays an inlined array load and a compare
 * instead of a hash lookup per call (issue 19). Only "no" is cached; "yes"
 * has its per-thread slot. */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct not_target_cache);
} not_target SEC(".maps") __weak;

/* True when this CPU last found tgid not to be a target and no target was
 * added since: an inlined array load, no helper call. */
static __always_inline bool known_not_target(__u32 tgid) {
  __u32 zero = 0;
  struct not_target_cache *c = bpf_map_lookup_elem(&not_target, &zero);
  return c && c->valid && c->tgid == tgid && c->gen == *(volatile __u64 *)&targets_gen;
}

/* is_target, with the per-CPU negative cache in front of the hash. */
static __always_inline bool is_target_cached(__u32 tgid) {
  if (target_all) return tgid != self_tgid;
  __u32 zero = 0;
  struct not_target_cache *c = bpf_map_lookup_elem(&not_target, &zero);
  /* Read before the lookup: an insert that the lookup misses bumps it later. */
  __u64 gen = *(volatile __u64 *)&targets_gen;
  if (c && c->valid && c->tgid == tgid && c->gen == gen) return false;
  if (bpf_map_lookup_elem(&targets, &tgid)) return true;
  if (c) {
    c->tgid = tgid;
    c->gen = gen;
    c->valid = 1;
  }
  return false;
}

static __always_inline void fill_header(struct probe_event_header *h, __u16 type, __u16 size,
                                        __u64 time_ns) {
  h->type = type;
  h->size = size;
  h->cpu = bpf_get_smp_processor_id();
  h->time_ns = time_ns;
}

/* The ring of the current CPU; NULL only if the agent left its slot empty,
 * which callers count as a full ring, so nothing is lost uncounted. */
static __always_inline void *cpu_ring(void) {
  /* One ring (up to 4 CPUs) needs no division: the verifier knows the
   * read-only ring_count and drops the branch; a division is tens of cycles
   * on every record (issue 19). */
  __u32 idx = 0;
  if (ring_count > 1) {
    idx = bpf_get_smp_processor_id() / cpus_per_ring;
    if (idx >= ring_count) idx = ring_count - 1;
  }
  return bpf_map_lookup_elem(&rings, &idx);
}

/* Wakes the agent when a record of size bytes took the ring's pending data
 * (pending, that record and its 8-byte header included) across
 * wakeup_bytes: one wakeup per crossing per ring, none per event even when
 * the agent is stalled. */
static __always_inline __u64 wakeup_flag(__u64 pending, __u32 size) {
  return pending >= wakeup_bytes && pending < wakeup_bytes + size + 8 ? BPF_RB_FORCE_WAKEUP
                                                                      : BPF_RB_NO_WAKEUP;
}

/* For a record already reserved, so counted in the ring's pending data. */
static __always_inline __u64 submit_flags(void *ring, __u32 size) {
  return wakeup_flag(bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA), size);
}

/* For a record about to be copied in (bpf_ringbuf_output) to a ring holding
 * pending bytes. */
static __always_inline __u64 output_flags(__u64 pending, __u32 size) {
  return wakeup_flag(pending + size + 8, size);
}

/* Whether a call or wakeup record of size bytes may go into a ring holding
 * pending bytes (bulk_limit_bytes). */
static __always_inline bool bulk_fits(__u64 pending, __u32 size) {
  return pending + size + 8 <= bulk_limit_bytes;
}

#endif
