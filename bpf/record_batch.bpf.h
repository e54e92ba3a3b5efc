/* Records staged per CPU before they reach the ring (issue 19).
 *
 * A ring record costs a reservation (the ring's spinlock, the consumer's
 * position read from the line the agent last wrote, the producer's position
 * written for the agent to read) and a submit. At W1's ~1.8 M calls/s that
 * was ~117 ns per call of wall clock (bench/w1_mix_bench.py: probe
 * --events process,syscalls against the same with every record filtered).
 * Staged here, records reach the ring one batch at a time: when the next one
 * does not fit, and when the agent runs flush_batch on each CPU (every
 * 50 ms, at the end of a --repeat run and at stop).
 *
 * Only the programs of one CPU touch its batch, and they do not preempt one
 * another; an interrupt can still run one of ours in the middle of another.
 * busy keeps such a nested writer out (it writes to the ring directly), and
 * a flush that finds busy set leaves the batch for the agent's next call. */
#ifndef PROBE_RECORD_BATCH_BPF_H
#define PROBE_RECORD_BATCH_BPF_H

#include "probe_shared_maps.bpf.h"

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct probe_batch);
} batches SEC(".maps") __weak;

/* Where a record being written lives: in this CPU's batch, or reserved in
 * the ring (then ring is set and the record must be submitted). */
struct staged {
  struct probe_batch *batch;
  void *ring;
};

static __always_inline void count_n(__u32 idx, __u32 n) {
  __u64 *v = bpf_map_lookup_elem(&counters, &idx);
  if (v) *v += n;
}

/* Wakes the agent when a record of size bytes, not yet in the ring, takes
 * its pending data across wakeup_bytes (submit_flags counts a reserved one
 * as pending already). */
static __always_inline __u64 output_flags(void *ring, __u32 size) {
  __u64 pending = bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA);
  return pending < wakeup_bytes && pending + size + 8 >= wakeup_bytes ? BPF_RB_FORCE_WAKEUP
                                                                      : BPF_RB_NO_WAKEUP;
}

/* Hands the batch's records to this CPU's ring as one record. If the ring
 * has no room they are lost, each counted under its kind, as they would
 * have been one by one. The caller holds busy. */
static __always_inline void flush_held_batch(struct probe_batch *b) {
  __u64 used = b->used;
  bool empty = used <= sizeof(struct probe_event_header);
  /* Else clang folds the two tests into one on used - 17, which leaves the
   * size passed unbounded for the verifier. */
  barrier_var(used);
  if (!empty && used <= PROBE_BATCH_BYTES) {
    ((struct probe_event_header *)b->data)->size = used;
    void *ring = cpu_ring();
    if (!ring || bpf_ringbuf_output(ring, b->data, used, output_flags(ring, used)) != 0) {
      count_n(PROBE_CTR_SYS_RING_FULL, b->sys_records);
      count_n(PROBE_CTR_WAKE_RING_FULL, b->wake_records);
    }
  }
  b->used = 0;
  b->sys_records = 0;
  b->wake_records = 0;
}

/* Room for a record of size bytes: in this CPU's batch, or in the ring when
 * the batch is taken (a program interrupted by this one). NULL only when the
 * ring is full: the caller counts the loss. Always followed by
 * commit_record. */
static __always_inline void *stage_record(__u32 size, struct staged *s) {
  __u32 zero = 0;
  struct probe_batch *b = bpf_map_lookup_elem(&batches, &zero);
  s->batch = NULL;
  s->ring = NULL;
  if (b && !b->busy) {
    b->busy = 1;
    __u32 used = b->used;
    if (used > PROBE_BATCH_BYTES - size) {
      flush_held_batch(b);
      used = 0;
    }
    if (used == 0) {
      fill_header((struct probe_event_header *)b->data, PROBE_EV_BATCH, 0, 0);
      used = sizeof(struct probe_event_header);
    }
    /* Known already; said again for the verifier, which bounds the offset. */
    if (used <= PROBE_BATCH_BYTES - size) {
      b->used = used;
      s->batch = b;
      return b->data + used;
    }
    b->busy = 0;
  }
  s->ring = cpu_ring();
  return s->ring ? bpf_ringbuf_reserve(s->ring, size, 0) : NULL;
}

/* The record stage_record gave is complete: it holds sys call records and
 * wake wakeups (for the loss count should its batch find the ring full). */
static __always_inline void commit_record(void *rec, __u32 size, struct staged *s, __u32 sys,
                                          __u32 wake) {
  struct probe_batch *b = s->batch;
  if (b) {
    b->used += size;
    b->sys_records += sys;
    b->wake_records += wake;
    b->busy = 0;
    return;
  }
  bpf_ringbuf_submit(rec, submit_flags(s->ring, size));
}

/* Run by the agent on each CPU (BPF_F_TEST_RUN_ON_CPU): 1 when a program it
 * interrupted holds the batch, so the agent calls again. */
static __always_inline int flush_this_cpu(void) {
  __u32 zero = 0;
  struct probe_batch *b = bpf_map_lookup_elem(&batches, &zero);
  if (!b) return 0;
  if (b->busy) return 1;
  b->busy = 1;
  flush_held_batch(b);
  b->busy = 0;
  return 0;
}

#endif
