// SPDX-License-Identifier: GPL-2.0
/* Scheduler view of target threads: when a thread leaves the CPU (sleeping or
 * preempted), who wakes it and what the waker was doing, and how long it then
 * waits on the run queue. Each return to a CPU becomes a wakeup record and
 * lands in exact per-process histograms of run-queue delay and off-CPU time.
 * A blocked traced syscall also gets its breakdown (see inflight.bpf.h).
 *
 * Per-thread state is the task-local in-flight slot, created at a target
 * thread's first switch-out. Other threads cost a load of task->bpf_storage
 * per switch, sched_waking and sched_wakeup (a task-storage probe if another
 * BPF program gave them storage), plus the per-CPU not-target cache, or on a
 * miss one targets lookup, at each switch-out. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "probe_shared_maps.bpf.h"
#include "inflight.bpf.h"
#include "histogram.bpf.h"
#include "hist_slots.bpf.h"
#include "sampling.bpf.h"
#include "waker_context.bpf.h"
#include "wakeup_record.bpf.h"

char LICENSE[] SEC("license") __weak = "GPL";

#define PF_KTHREAD 0x00200000
#define TASK_INTERRUPTIBLE 0x1
#define TASK_UNINTERRUPTIBLE 0x2

/* Per-process run-queue and off-CPU histograms. */
PROBE_HIST_SLOT_MAPS(sched_hist)

/* Plain loads from the trusted task and its saved registers: cheaper than a
 * helper call per field, and this runs on every wakeup of a target. */
static __always_inline void fill_waker(struct probe_waker *w, struct task_struct *wakee) {
  struct task_struct *cur = bpf_get_current_task_btf();
  w->nr = -1;
  w->fd = -1;
  __builtin_memcpy(w->comm, cur->comm, sizeof(w->comm));
  /* In an interrupt, a softirq or a timer, the task is only the one it
   * interrupted; the context says what woke the thread. */
  fill_context(w, wakee);
  if (cur->flags & PF_KTHREAD) {
    w->pid = 0;
    w->tid = 0;
    return;
  }
  w->pid = cur->tgid;
  w->tid = cur->pid;
  /* In a syscall the saved user registers hold its number and arguments. */
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(cur);
  long nr = regs->orig_ax;
  if (nr >= 0 && nr < 1024) {
    w->nr = (__s32)nr;
    w->fd = (__s32)regs->di;
  }
}

static __always_inline void add_sched_histogram(struct inflight *f, __u32 tgid, __u32 kind,
                                                __u64 d) {
  struct probe_hist *h = NULL;
  if (kind < PROBE_SCHED_KINDS) h = HIST_SLOT(sched_hist, &f->sched_slot[kind], tgid, kind);
  if (!h) {
    count(PROBE_CTR_WAKE_HIST_FULL);
    return;
  }
  hist_add(h, d, false, false);
}

/* Records a wakeup of a thread that is off CPU: now, by the current task. */
static __always_inline void woken(struct inflight *f, __u64 now, const struct probe_waker *w) {
  f->s_wake_ns = now;
  f->s_waker = *w;
  if (f->syscall && f->off_ns && !f->wake_ns) {
    f->wake_ns = now;
    f->blocked_ns += now - f->off_ns;
    f->waker = *w;
  }
}

/* sched_waking runs in the waker's context, so it is where the waker is
 * seen; but whether that wake ends a sleep is only settled later. It can come
 * while the thread is still on its way to sleep, racing the switch-out on
 * another CPU, or find the thread running (the wake then only resets its
 * state, and a later sleep has its own wake). So it only notes the waker;
 * sched_wakeup of the same wake decides. Between the two no other
 * sched_waking of the thread can come (the waker holds its pi_lock, then the
 * thread is TASK_WAKING until the wakeup). */
SEC("tp_btf/sched_waking")
int BPF_PROG(on_waking, struct task_struct *p) {
  if (!has_storage(p)) return 0;
  struct inflight *f = bpf_task_storage_get(&inflight, p, NULL, 0);
  if (!f) return 0;
  fill_waker(&f->waking_waker, p);
  f->waking_ns = bpf_ktime_get_ns();
  return 0;
}

/* The wake noted at sched_waking took effect. It ended a sleep exactly when
 * the thread was switched out and not yet woken: a wake that finds the thread
 * still dequeuing waits (on its rq lock or its on_cpu) until the switch-out is
 * done, so the switch-out is always seen first. A thread not switched out was
 * running, and one switched out preempted is already runnable: nothing ended. */
SEC("tp_btf/sched_wakeup")
int BPF_PROG(on_wakeup, struct task_struct *p) {
  if (!has_storage(p)) return 0;
  struct inflight *f = bpf_task_storage_get(&inflight, p, NULL, 0);
  if (!f) return 0;
  __u64 t = f->waking_ns;
  f->waking_ns = 0;
  if (!t || !f->s_out || f->s_wake_ns) return 0;
  /* Woken while it was still switching out: runnable from the switch-out. */
  if (t < f->s_off_ns) {
    count(PROBE_CTR_WAKE_RACED);
    t = f->s_off_ns;
  }
  woken(f, t, &f->waking_waker);
  return 0;
}

/* One clock read per switch, taken only when a target is involved. */
static __always_inline __u64 clock_once(__u64 *now) {
  if (!*now) *now = bpf_ktime_get_ns();
  return *now;
}

/* The sampling rules for a wakeup of a thread of tgid: true when it is
 * kept; a dropped one is counted (produced and sampled) here. */
static __always_inline bool wakeup_kept(__u32 tgid, __u64 now) {
  __u32 dropped = sample_out(PROBE_SAMPLE_WAKEUPS, PROBE_CTR_WAKE_SAMPLED, tgid, 0xffff, now);
  if (!dropped) return true;
  count(PROBE_CTR_WAKE_PRODUCED);
  count(dropped);
  return false;
}

/* One wakeup record: a switch-in (on_ns), after the switch-out off_ns, woken
 * at wake_ns. 0 marks a time that was not seen; w then says why. */
static __always_inline void emit_wakeup(struct task_struct *t, struct inflight *f, __u64 now,
                                        __u64 on_ns, __u64 off_ns, __u64 wake_ns, __u32 state,
                                        const struct probe_waker *w) {
  __u32 tgid = t->tgid;
  if (!wakeup_kept(tgid, now)) return;
  write_wakeup(f, tgid, t->pid, bpf_get_smp_processor_id(), on_ns, off_ns, wake_ns, state, w);
}

static __always_inline void set_unknown(struct probe_waker *w, __u32 reason) {
  __builtin_memset(w, 0, sizeof(*w));
  w->nr = -1;
  w->fd = -1;
  w->ctx = PROBE_WAKER_UNKNOWN;
  w->ctx_id = reason;
}

/* Returns prev's in-flight state, NULL when it has none. */
static __always_inline struct inflight *switched_out(struct task_struct *prev,
                                                     unsigned int prev_state, __u64 *clock) {
  struct inflight *f = has_storage(prev) ? bpf_task_storage_get(&inflight, prev, NULL, 0) : NULL;
  if (!f) {
    if (!is_target_cached(prev->tgid)) return NULL;
    f = bpf_task_storage_get(&inflight, prev, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
    if (!f) {
      count(PROBE_CTR_WAKE_TABLE_FULL);
      return NULL;
    }
  }
  __u64 now = clock_once(clock);
  /* The kernel did not run this program when the thread came back on a
   * CPU: that period is still a record, with its on-CPU time unknown. */
  if (f->s_out) {
    count(PROBE_CTR_WAKE_NO_SWITCH_IN);
    set_unknown(&f->s_waker, PROBE_UNKNOWN_SWITCH_IN_NOT_SEEN);
    emit_wakeup(prev, f, now, 0, f->s_off_ns, 0, f->s_state, &f->s_waker);
  }
  f->s_off_ns = now;
  f->s_out = 1;
  if (prev_state == 0) { /* TASK_RUNNING: preempted, runnable at once */
    f->s_state = PROBE_OFF_PREEMPTED;
    f->s_wake_ns = now;
    f->s_waker.pid = 0;
    f->s_waker.tid = 0;
    f->s_waker.nr = -1;
    f->s_waker.fd = -1;
    f->s_waker.comm[0] = 0;
    f->s_waker.ctx = PROBE_WAKER_TASK;
    f->s_waker.ctx_id = 0;
    f->s_waker.ctx_fn = 0;
    return f;
  }
  f->s_state = prev_state & TASK_INTERRUPTIBLE     ? PROBE_OFF_SLEEPING
               : prev_state & TASK_UNINTERRUPTIBLE ? PROBE_OFF_BLOCKED
                                                   : PROBE_OFF_OTHER;
  f->s_wake_ns = 0;
  if (f->syscall) {
    /* Asleep again in the same call: the last return from a sleep is not
     * the one the call's record will carry. */
    write_folded_wakeup(f, prev->tgid, prev->pid);
    f->off_ns = now;
    f->wake_ns = 0;
    f->on_ns = 0;
  }
  return f;
}

/* Back on a CPU after a sleep whose wakeup was not seen (e.g. a program
 * skipped by the kernel's recursion protection): the record says the wake
 * time and the waker are unknown, never someone else's. */
static __always_inline void wake_not_seen_after_switch_out(struct inflight *f) {
  count(PROBE_CTR_WAKE_UNSEEN);
  set_unknown(&f->s_waker, PROBE_UNKNOWN_WAKING_NOT_SEEN);
  if (f->syscall && f->off_ns && !f->wake_ns) f->waker = f->s_waker;
}

static __always_inline void switched_in(struct task_struct *next, __u64 *clock) {
  if (!has_storage(next)) return;
  struct inflight *f = bpf_task_storage_get(&inflight, next, NULL, 0);
  if (!f) return;
  __u64 now = clock_once(clock);
  /* A slot is made at a switch-out, or at a syscall entry while running:
   * back on a CPU without being out means the kernel did not run this
   * program at the switch-out. Still a record: its off time is unknown. */
  if (!f->s_out) {
    count(PROBE_CTR_WAKE_NO_SWITCH_OUT);
    set_unknown(&f->s_waker, PROBE_UNKNOWN_SWITCH_OUT_NOT_SEEN);
    emit_wakeup(next, f, now, now, 0, 0, PROBE_OFF_OTHER, &f->s_waker);
    return;
  }
  f->s_out = 0;
  if (!f->s_wake_ns) wake_not_seen_after_switch_out(f);
  /* With the wake unknown, the call's breakdown still gets its on-CPU time:
   * the time from off to on is then unknown, never "blocked". */
  if (f->syscall && f->off_ns && !f->on_ns) f->on_ns = now;
  if (f->s_wake_ns) {
    add_sched_histogram(f, next->tgid, PROBE_SCHED_RUN_QUEUE, now - f->s_wake_ns);
    if (f->s_state != PROBE_OFF_PREEMPTED)
      add_sched_histogram(f, next->tgid, PROBE_SCHED_OFF_CPU, f->s_wake_ns - f->s_off_ns);
  }
  /* Back from a sleep inside a traced call: the call's record holds this
   * very wakeup (off, wake, on, waker), so it carries it instead of a record
   * of its own here, which costs about a third of this program (issue 19).
   * Sampled now like any wakeup; counted as produced when written. */
  if (f->syscall && f->s_state != PROBE_OFF_PREEMPTED && f->off_ns == f->s_off_ns &&
      f->wake_ns == f->s_wake_ns && f->on_ns == now) {
    if (wakeup_kept(next->tgid, now)) {
      f->fold_pending = 1;
      f->fold_state = (__u16)f->s_state;
      f->fold_cpu = bpf_get_smp_processor_id();
    }
    return;
  }
  emit_wakeup(next, f, now, now, f->s_off_ns, f->s_wake_ns, f->s_state, &f->s_waker);
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
             unsigned int prev_state) {
  __u64 clock = 0;
  /* Preempted after setting a sleep state but before sleeping: still
   * runnable, so a preemption, whatever prev_state says. */
  struct inflight *f = switched_out(prev, preempt ? 0 : prev_state, &clock);
  /* After switched_out, which can write a record of prev's. */
  if (f) flush_for_leaving(f);
  switched_in(next, &clock);
  return 0;
}
