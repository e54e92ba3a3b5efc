/* Records staged per CPU before they reach the ring (issue 19).
 *
 * A ring record costs a reservation (the ring's spinlock, the consumer's
 * position read from the line the agent last wrote, the producer's position
 * written for the agent to read) and a submit. At W1's ~1.8 M calls/s that
 * was ~117 ns per call of wall clock (bench/w1_mix_bench.py: probe
 * --events process,syscalls against the same with every record filtered).
 * Staged here, records reach the ring one batch at a time: when the next one
 * does not fit, when a thread with a record in the batch leaves the CPU, and
 * when the agent runs flush_batch on a CPU (about every 100 ms, at the end of
 * a --repeat run, at a rotation seam and at stop).
 *
 * Order: a thread's records reach the ring in the order it made them, as
 * they did one by one. Its records wait in one CPU's batch at a time, and
 * that batch is handed on when the thread is switched out (flush_for_leaving
 * from sched_switch), which comes before it can run anywhere else.
 *
 * Only the programs of one CPU touch its batch. They run with preemption
 * off, so one interrupts another only from an interrupt: today that is the
 * agent's flush (an IPI). busy keeps the interrupting one out: a writer
 * then goes to the ring directly, the flush leaves the batch for next time.
 * A kernel that ran these programs preemptibly (PREEMPT_RT) would need an
 * atomic exchange on busy instead. */
#ifndef PROBE_RECORD_BATCH_BPF_H
#define PROBE_RECORD_BATCH_BPF_H

#include "probe_shared_maps.bpf.h"
#include "inflight.bpf.h"

/* Bytes of a batch in use, header included; set by the agent to at most a
 * sixteenth of a ring, so a batch always fits, and to 0 for rings too small
 * to batch (records then go to the ring one by one). */
const volatile __u32 batch_bytes __weak = PROBE_BATCH_BYTES;

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct probe_batch);
} batches SEC(".maps") __weak;

/* This CPU's batch (NULL only if the map lookup fails). */
static __always_inline struct probe_batch *this_cpu_batch(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&batches, &zero);
}

/* Where a record being written lives: in this CPU's batch, or reserved in
 * the ring (then ring is set and the record must be submitted). */
struct staged {
  struct probe_batch *batch;
  void *ring;
};

/* Hands the batch's records to this CPU's ring as one record. If the ring
 * has no room (short of what is kept for process exits) they are lost, each
 * counted under its kind, as they would have been one by one. The caller
 * holds busy. */
static __always_inline void flush_held_batch(struct probe_batch *b) {
  __u64 used = b->used;
  bool empty = used <= sizeof(struct probe_event_header);
  /* Else clang folds the two tests into one on used - 17, which leaves the
   * size passed unbounded for the verifier. */
  barrier_var(used);
  if (!empty && used <= PROBE_BATCH_BYTES) {
    ((struct probe_event_header *)b->data)->size = used;
    void *ring = cpu_ring();
    __u64 pending = ring ? bpf_ringbuf_query(ring, BPF_RB_AVAIL_DATA) : 0;
    if (!ring || !bulk_fits(pending, used) ||
        bpf_ringbuf_output(ring, b->data, used, output_flags(pending, used)) != 0) {
      count_n(PROBE_CTR_SYS_RING_FULL, b->sys_records);
      count_n(PROBE_CTR_WAKE_RING_FULL, b->wake_records);
    }
    b->gen++;
  }
  b->used = 0;
  b->sys_records = 0;
  b->wake_records = 0;
}

/* busy is the batch's lock against an interrupting program of ours on this
 * CPU: the compiler must not move the batch's loads and stores across it
 * (it did: used was stored after busy was cleared). */
static __always_inline void take_batch(struct probe_batch *b) {
  b->busy = 1;
  barrier();
}

static __always_inline void release_batch(struct probe_batch *b) {
  barrier();
  b->busy = 0;
}

/* Room for a record of size bytes, made by the thread whose in-flight state
 * is f: in this CPU's batch, or in the ring when the batch is taken (a
 * program interrupted by this one) or batching is off. NULL only when the
 * ring is full (short of what is kept for process exits): the caller counts
 * the loss. Always followed by commit_record. */
static __always_inline void *stage_record(__u32 size, struct staged *s, struct inflight *f) {
  struct probe_batch *b = batch_bytes ? this_cpu_batch() : NULL;
  s->batch = NULL;
  s->ring = NULL;
  if (b && !b->busy) {
    take_batch(b);
    __u32 used = b->used;
    if (used + size > batch_bytes) {
      flush_held_batch(b);
      used = 0;
    }
    if (used == 0) {
      fill_header((struct probe_event_header *)b->data, PROBE_EV_BATCH, 0, 0);
      used = sizeof(struct probe_event_header);
    }
    /* The first test for a batch_bytes too small for the record; the second
     * for the verifier, which bounds the offset by it. */
    if (used + size <= batch_bytes && used <= PROBE_BATCH_BYTES - size) {
      b->used = used;
      s->batch = b;
      f->staged_cpu = bpf_get_smp_processor_id() + 1;
      f->staged_gen = b->gen;
      return b->data + used;
    }
    release_batch(b);
  }
  s->ring = cpu_ring();
  if (!s->ring) return NULL;
  /* Read-only: without a limit the verifier drops the query. */
  if (bulk_limit_bytes != ~0ull && !bulk_fits(bpf_ringbuf_query(s->ring, BPF_RB_AVAIL_DATA), size))
    return NULL;
  return bpf_ringbuf_reserve(s->ring, size, 0);
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
    release_batch(b);
    return;
  }
  bpf_ringbuf_submit(rec, submit_flags(s->ring, size));
}

/* Empties b, this CPU's batch, into its ring; false when a program this
 * one interrupted holds it. */
static __always_inline bool flush_batch_now(struct probe_batch *b) {
  if (b->busy) return false;
  take_batch(b);
  flush_held_batch(b);
  release_batch(b);
  return true;
}

static __always_inline bool flush_this_cpu(void) {
  struct probe_batch *b = this_cpu_batch();
  return b ? flush_batch_now(b) : true;
}

/* The thread of f leaves this CPU (sched_switch): if its last record still
 * waits in this CPU's batch, the batch goes to the ring now, before the
 * thread can make a record anywhere else. */
static __always_inline void flush_for_leaving(struct inflight *f) {
  __u32 cpu1 = f->staged_cpu;
  if (!cpu1) return;
  f->staged_cpu = 0;
  if (cpu1 != bpf_get_smp_processor_id() + 1) return;
  struct probe_batch *b = this_cpu_batch();
  if (b && b->gen == f->staged_gen) flush_batch_now(b);
}

#endif
