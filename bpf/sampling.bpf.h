/* In-kernel sampling of per-event records, decided before ring-buffer space
 * is reserved, after the event is in the exact histograms and counters:
 * 1-in-N (a per-CPU xorshift seeded by the agent, so a run can be repeated),
 * the first K per (process, key) per second, and a global token bucket on
 * records per second. Process records never come here. Each event that is
 * dropped is counted under the first rule that dropped it. */
#ifndef PROBE_SAMPLING_BPF_H
#define PROBE_SAMPLING_BPF_H

#include "probe_shared_maps.bpf.h"

const volatile __u32 keep_one_in[PROBE_SAMPLE_KINDS] __weak = {};      /* 0/1: all */
const volatile __u32 first_per_second[PROBE_SAMPLE_KINDS] __weak = {}; /* 0: all */
const volatile __u64 max_records_per_s __weak = 0;                     /* 0: no cap */
const volatile __u64 sample_seed __weak = 0;

struct first_k_key {
  __u32 tgid;
  __u32 key; /* kind << 16 | syscall */
};

struct first_k_window {
  __u64 start_ns;
  __u64 count;
};

/* LRU: a process that stopped making calls ages out instead of filling it. */
struct {
  __uint(type, BPF_MAP_TYPE_LRU_HASH);
  __uint(max_entries, 16384);
  __type(key, struct first_k_key);
  __type(value, struct first_k_window);
} first_k SEC(".maps") __weak;

/* Mappable: the agent takes tokens from the same bucket for the shim's
 * records, so the cap holds for kernel and user-space records together. */
struct {
  __uint(type, BPF_MAP_TYPE_ARRAY);
  __uint(map_flags, BPF_F_MMAPABLE);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct rate_bucket);
} rate SEC(".maps") __weak;

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, __u64);
} sample_rng SEC(".maps") __weak;

static __always_inline bool one_in_n_keeps(__u32 n) {
  __u32 zero = 0;
  __u64 *s = bpf_map_lookup_elem(&sample_rng, &zero);
  if (!s) return true;
  __u64 x = *s;
  if (!x) x = (sample_seed ^ 0x9e3779b97f4a7c15ull) * (bpf_get_smp_processor_id() + 1) | 1;
  x ^= x >> 12;
  x ^= x << 25;
  x ^= x >> 27;
  *s = x;
  return ((x * 0x2545f4914f6cdd1dull) >> 32) % n == 0; /* high bits: the low ones are weak */
}

static __always_inline bool first_k_keeps(__u32 k, __u32 tgid, __u32 key, __u64 now) {
  struct first_k_key fk = {.tgid = tgid, .key = key};
  struct first_k_window *w = bpf_map_lookup_elem(&first_k, &fk);
  if (!w) {
    struct first_k_window fresh = {.start_ns = now, .count = 1};
    bpf_map_update_elem(&first_k, &fk, &fresh, BPF_NOEXIST);
    return true;
  }
  /* A new second: whoever sees it first restarts the window (a race loses
   * at most a few counts at the boundary). Compared without subtracting: a
   * thread whose now predates a restart by another CPU would wrap and
   * restart the window again, letting K more through. */
  if (now >= w->start_ns + 1000000000ull) {
    w->start_ns = now;
    w->count = 0;
  }
  return __sync_fetch_and_add(&w->count, 1) < k;
}

/* One bucket for the whole machine: the cap holds however the events spread
 * over CPUs. Refilled at most once a millisecond by whichever CPU gets
 * there; burst = a tenth of a second of records. */
static __always_inline bool rate_keeps(__u64 now) {
  __u32 zero = 0;
  struct rate_bucket *b = bpf_map_lookup_elem(&rate, &zero);
  if (!b) return true;
  __u64 last = b->refilled_ns;
  /* now can be before last: read at this program's start, while another CPU
   * or the agent (shim records) refilled since. now - last would wrap, and
   * the bucket fill up to a whole burst at once (the likely cause of a CI
   * run that saw 22 records kept in 53 ms at 100/s, burst 11). The agent's
   * TakeRateToken already compared this way. */
  if (now >= last + 1000000ull && __sync_val_compare_and_swap(&b->refilled_ns, last, now) == last) {
    __u64 elapsed = now - last;
    if (elapsed > 1000000000ull) elapsed = 1000000000ull;
    __s64 burst = max_records_per_s / 10 + 1;
    __s64 add = (__s64)(elapsed * max_records_per_s / 1000000000ull);
    __s64 was = __sync_fetch_and_add(&b->tokens, add);
    if (was + add > burst) __sync_fetch_and_add(&b->tokens, burst - (was + add));
  }
  if (__sync_fetch_and_add(&b->tokens, -1) > 0) return true;
  __sync_fetch_and_add(&b->tokens, 1);
  return false;
}

/* 0 to keep the record, else the counter that says why it was dropped.
 * ctr_sampled is the kind's SAMPLED counter; FIRST_K and RATE follow it. */
/* The 1-in-N rule alone: true when it drops this event. The syscall
 * programs draw it at entry, so a call it drops skips the user reads there. */
static __always_inline bool one_in_n_drops(__u32 kind) {
  if (kind >= PROBE_SAMPLE_KINDS) return false;
  __u32 n = keep_one_in[kind];
  return n > 1 && !one_in_n_keeps(n);
}

/* The rules after 1-in-N (first K per second, rate cap), for an event that
 * 1-in-N kept. */
static __always_inline __u32 sample_out_after_one_in_n(__u32 kind, __u32 ctr_sampled, __u32 tgid,
                                                       __u32 key, __u64 now) {
  if (kind >= PROBE_SAMPLE_KINDS) return 0;
  __u32 k = first_per_second[kind];
  if (k && !first_k_keeps(k, tgid, kind << 16 | key, now)) return ctr_sampled + 1;
  if (max_records_per_s && !rate_keeps(now)) return ctr_sampled + 2;
  return 0;
}

static __always_inline __u32 sample_out(__u32 kind, __u32 ctr_sampled, __u32 tgid, __u32 key,
                                        __u64 now) {
  if (one_in_n_drops(kind)) return ctr_sampled;
  return sample_out_after_one_in_n(kind, ctr_sampled, tgid, key, now);
}

#endif
