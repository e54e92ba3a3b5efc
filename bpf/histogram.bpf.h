/* Exact log2 histograms, per CPU, shared by the syscall and scheduler
 * programs. */
#ifndef PROBE_HISTOGRAM_BPF_H
#define PROBE_HISTOGRAM_BPF_H

#include "probe_events.h"

static __always_inline __u32 log2_bucket(__u64 v) {
  __u32 r = 0;
  /* Unrolled binary search: bounded for the verifier. */
  if (v >> 32) {
    v >>= 32;
    r += 32;
  }
  if (v >> 16) {
    v >>= 16;
    r += 16;
  }
  if (v >> 8) {
    v >>= 8;
    r += 8;
  }
  if (v >> 4) {
    v >>= 4;
    r += 4;
  }
  if (v >> 2) {
    v >>= 2;
    r += 2;
  }
  if (v >> 1) r += 1;
  return r < PROBE_HIST_BUCKETS ? r : PROBE_HIST_BUCKETS - 1;
}

/* Per-CPU values and preemption is off in the tracepoint: plain adds. */
static __always_inline void hist_add(struct probe_hist *h, __u64 d, bool timed_out, bool error) {
  if (h->count == 0 || d < h->min_ns) h->min_ns = d;
  if (d > h->max_ns) h->max_ns = d;
  h->count += 1;
  h->sum_ns += d;
  if (timed_out) h->timeouts += 1;
  if (error) h->errors += 1;
  h->buckets[log2_bucket(d)] += 1;
}

#endif
