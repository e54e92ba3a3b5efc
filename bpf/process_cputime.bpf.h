/* A process's user and system time when its last thread exits, as
 * getrusage() and time(1) give them.
 *
 * Which threads: the kernel's thread_group_cputime() sums the released
 * threads (the signal struct's sums) and every thread still listed. A
 * leader that exited first is one of those: it is released only with the
 * whole process, so the signal struct does not hold its time yet (a process
 * whose leader did all the work showed 0 ns). So are other threads still on
 * their way out of an exit_group.
 *
 * How much: each thread's utime and stime are ticks (4 ms at HZ=250)
 * charged to whoever ran at the tick, so a process that ran 3 ms has 0 or
 * 4 ms; sum_exec_runtime is its exact run time. Like the kernel's
 * cputime_adjust(), the run time is the total and the ticks only split it
 * between user and system. */
#ifndef PROBE_PROCESS_CPUTIME_BPF_H
#define PROBE_PROCESS_CPUTIME_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* The open-coded thread iterator (kernel 6.7 on) and a referenced task by
 * pid (6.2 on). Weak, and used only by on_exit: on an older kernel its load
 * fails and the agent loads on_exit_before_6_7 instead, which uses none. */
extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task,
                             unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __weak __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __weak __ksym;
extern struct task_struct *bpf_task_from_pid(s32 pid) __weak __ksym;
extern void bpf_task_release(struct task_struct *p) __weak __ksym;

struct cputime {
  __u64 utime; /* ticks of user time, in ns */
  __u64 stime; /* ticks of system time, in ns */
  __u64 rtime; /* exact run time, ns */
};

static __always_inline void add_thread_cputime(struct cputime *c, struct task_struct *t) {
  c->utime += BPF_CORE_READ(t, utime);
  c->stime += BPF_CORE_READ(t, stime);
  c->rtime += BPF_CORE_READ(t, se.sum_exec_runtime);
}

/* Every listed thread, walked from the leader: the iterator goes onwards
 * from the task it is given, and the leader comes first. The leader is
 * taken by its pid (= the tgid) because the verifier does not trust
 * last->group_leader as it stands. False when it cannot be done. */
static __always_inline bool add_listed_threads(struct cputime *c, struct task_struct *last) {
  struct task_struct *leader = bpf_task_from_pid(last->tgid);
  if (!leader) return false;
  struct bpf_iter_task it;
  struct task_struct *t;
  bpf_iter_task_new(&it, leader, BPF_TASK_ITER_PROC_THREADS);
  while ((t = bpf_iter_task_next(&it))) add_thread_cputime(c, t);
  bpf_iter_task_destroy(&it);
  bpf_task_release(leader);
  return true;
}

/* part * rtime / total, for part <= total, without overflowing 64 bits
 * (the kernel uses mul_u64_u64_div_u64): part / total as a 32-bit fraction
 * once both fit 32 bits, then rtime times it in two halves. */
static __always_inline __u64 share_of(__u64 rtime, __u64 part, __u64 total) {
  if (part >= total) return rtime;
  for (int i = 0; i < 32 && (total >> 32); i++) {
    total >>= 1;
    part >>= 1;
  }
  if (total == 0) return 0;
  __u64 frac = (part << 32) / total; /* < 2^32: part < total */
  return (rtime >> 32) * frac + (((rtime & 0xffffffffull) * frac) >> 32);
}

static __always_inline void process_cputime(struct task_struct *last, __u64 *utime, __u64 *stime,
                                            bool thread_iterator) {
  struct cputime c = {
      .utime = BPF_CORE_READ(last, signal, utime),
      .stime = BPF_CORE_READ(last, signal, stime),
      .rtime = BPF_CORE_READ(last, signal, sum_sched_runtime),
  };
  if (!thread_iterator || !add_listed_threads(&c, last)) {
    /* Older kernels: the last thread and the leader; a thread exiting at
     * the same moment as the last one is missed. */
    add_thread_cputime(&c, last);
    struct task_struct *leader = BPF_CORE_READ(last, group_leader);
    if (leader != last) add_thread_cputime(&c, leader);
  }
  /* cputime_adjust(): no ticks of one kind, all of the other; else split
   * the run time as the ticks split. */
  if (c.stime == 0) {
    *utime = c.rtime;
    *stime = 0;
  } else if (c.utime == 0) {
    *utime = 0;
    *stime = c.rtime;
  } else {
    *stime = share_of(c.rtime, c.stime, c.stime + c.utime);
    *utime = c.rtime - *stime;
  }
}

#endif
