/* The wakeup record: written at a target thread's switch-in, or, for the
 * return from a sleep inside a traced call, carried by the call's record and
 * written on its own only when that record is not (inflight.bpf.h's fold_*
 * fields). Shared by the scheduler and syscall programs. */
#ifndef PROBE_WAKEUP_RECORD_BPF_H
#define PROBE_WAKEUP_RECORD_BPF_H

#include "probe_shared_maps.bpf.h"
#include "inflight.bpf.h"
#include "sampling.bpf.h"
#include "record_batch.bpf.h"

/* Writes one kept wakeup record (counted as produced) of the thread whose
 * in-flight state is f: back on cpu at on_ns,
 * after the switch-out off_ns, woken at wake_ns; 0 marks a time that was
 * not seen, w then says why. */
static __always_inline void write_wakeup(struct inflight *f, __u32 tgid, __u32 tid, __u32 cpu,
                                         __u64 on_ns, __u64 off_ns, __u64 wake_ns, __u32 state,
                                         const struct probe_waker *w) {
  count(PROBE_CTR_WAKE_PRODUCED);
  struct staged at;
  struct probe_wakeup_event *e = stage_record(sizeof(*e), &at, f);
  if (!e) {
    count(PROBE_CTR_WAKE_RING_FULL);
    return;
  }
  fill_header(&e->hdr, PROBE_EV_WAKEUP, sizeof(*e), on_ns);
  e->hdr.cpu = cpu;
  e->pid = tgid;
  e->tid = tid;
  e->off_ns = off_ns;
  e->wake_ns = wake_ns;
  e->state = state;
  e->pad = 0;
  e->waker = *w;
  commit_record(e, sizeof(*e), &at, 0, 1);
}

/* The wakeup a call holds (fold_pending), if any, written on its own: its
 * call's record will not carry it (sampled out, filtered, the thread sleeps
 * again in the call, or the call's exit was not seen). */
static __always_inline void write_folded_wakeup(struct inflight *f, __u32 tgid, __u32 tid) {
  if (!f->fold_pending) return;
  f->fold_pending = 0;
  write_wakeup(f, tgid, tid, f->fold_cpu, f->on_ns, f->off_ns, f->wake_ns, f->fold_state,
               &f->waker);
}

#endif
