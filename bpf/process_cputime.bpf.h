/* A process's user and system time when its last thread exits, as
 * getrusage() and time(1) give them.
 *
 * Which threads: the kernel's thread_group_cputime() sums the released
 * threads (the signal struct's sums) and every thread still listed. A
 * leader that exited first is one of those: it is released only with the
 * whole process, so the signal struct does not hold its time yet (a process
 * whose leader did all the work showed 0 ns). So are other threads still on
 * their way out of an exit_group. A thread released meanwhile moves from
 * the list to the sums under the signal struct's stats_lock; like the
 * kernel, the sum is taken again when that lock's count moved.
 *
 * How much: each thread's utime and stime are ticks (4 ms at HZ=250)
 * charged to whoever ran at the tick, so a process that ran 3 ms has 0 or
 * 4 ms; sum_exec_runtime is its run time up to the thread's last scheduler
 * update. Like the kernel's cputime_adjust(), the run time is the total and
 * the ticks only split it between user and system.
 *
 * Not counted: a thread's run time since its last scheduler update (a tick
 * or a switch), at most one tick per thread still running. The kernel's
 * getrusage() updates the caller first; a program cannot. */
#ifndef PROBE_PROCESS_CPUTIME_BPF_H
#define PROBE_PROCESS_CPUTIME_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

/* The open-coded thread iterator (kernel 6.7 on) and a referenced task by
 * pid (6.2 on): older than the sched_process_exit this program needs
 * (group_dead). */
extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task,
                             unsigned int flags) __ksym;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __ksym;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

/* Sums taken again at most this often while threads are being released. */
#define PROBE_CPUTIME_TRIES 4

struct cputime {
  __u64 utime; /* ticks of user time, in ns */
  __u64 stime; /* ticks of system time, in ns */
  __u64 rtime; /* run time, ns */
};

static __always_inline void add_thread_cputime(struct cputime *c, struct task_struct *t) {
  c->utime += BPF_CORE_READ(t, utime);
  c->stime += BPF_CORE_READ(t, stime);
  c->rtime += BPF_CORE_READ(t, se.sum_exec_runtime);
}

/* The released threads' sums, kept in the signal struct. */
static __always_inline void released_threads(struct cputime *c, struct task_struct *last) {
  c->utime = BPF_CORE_READ(last, signal, utime);
  c->stime = BPF_CORE_READ(last, signal, stime);
  c->rtime = BPF_CORE_READ(last, signal, sum_sched_runtime);
}

/* The released threads' sums and every listed thread, walked from the
 * leader: the iterator goes onwards from the task it is given, and the
 * leader comes first. The leader is taken by its pid (= the tgid) because
 * the verifier does not trust last->group_leader as it stands. */
static __always_inline void sum_process(struct cputime *c, struct task_struct *last,
                                        struct task_struct *leader) {
  released_threads(c, last);
  struct bpf_iter_task it;
  struct task_struct *t;
  bpf_iter_task_new(&it, leader, BPF_TASK_ITER_PROC_THREADS);
  while ((t = bpf_iter_task_next(&it))) add_thread_cputime(c, t);
  bpf_iter_task_destroy(&it);
}

static __always_inline __u32 stats_seq(struct task_struct *last) {
  return BPF_CORE_READ(last, signal, stats_lock.seqcount.seqcount.sequence);
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

static __always_inline void process_cputime(struct task_struct *last, __u64 *utime, __u64 *stime) {
  struct cputime c = {};
  struct task_struct *leader = bpf_task_from_pid(last->tgid);
  if (leader) {
    for (int i = 0; i < PROBE_CPUTIME_TRIES; i++) {
      __u32 seq = stats_seq(last);
      sum_process(&c, last, leader);
      if (!(seq & 1) && stats_seq(last) == seq) break;
    }
    bpf_task_release(leader);
  } else {
    /* Cannot happen while a thread of the process lives (the leader is
     * released last); the sums and the last thread then. */
    released_threads(&c, last);
    add_thread_cputime(&c, last);
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
