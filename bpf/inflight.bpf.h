/* A thread's traced syscall in progress, in task-local storage: the syscall
 * programs fill it at entry and read it at exit, the scheduler programs add
 * what happened in between (blocked, woken by whom, back on CPU when). The
 * kernel frees it with the task, so a thread that exits or is killed
 * mid-call leaves nothing behind (an exec keeps the task, and its slot). __weak: one map in the
 * linked object. */
#ifndef PROBE_INFLIGHT_BPF_H
#define PROBE_INFLIGHT_BPF_H

#include "probe_events.h"

struct inflight {
  __u64 start_ns;
  __u64 sampled_out; /* 1-in-N dropped its record, drawn at entry */
  __s64 timeout_ns;
  __u64 value;
  __s32 fd;
  __u32 arg;
  __u16 syscall; /* 0 when idle */
  __u16 flags;
  __u32 nr;
  /* Scheduler view of the call; zero until it blocks. For a call that blocks
   * more than once, the last episode is described and blocked_ns sums all. */
  __u64 off_ns;     /* switched out sleeping */
  __u64 wake_ns;    /* woken after off_ns */
  __u64 on_ns;      /* back on a CPU after wake_ns */
  __u64 blocked_ns; /* sum of off -> wake over the call */
  struct probe_waker waker;
  /* 1 while the return from the call's last sleep (off_ns, wake_ns, on_ns,
   * waker) is a kept wakeup record not yet written: the call's record
   * carries it (wakeup_record.bpf.h). Counted as produced when written. */
  __u16 fold_pending;
  __u16 fold_state; /* PROBE_OFF_* of that sleep */
  __u32 fold_cpu;   /* the CPU it came back on */
  /* The thread's scheduler state, in or out of a syscall. */
  __u64 s_off_ns;  /* switched out */
  __u64 s_wake_ns; /* woken (= s_off_ns when preempted), 0 while asleep */
  __u32 s_state;   /* PROBE_OFF_* */
  __u32 s_out;     /* 1 from switch-out to switch-in */
  struct probe_waker s_waker;
  /* The last sched_waking of the thread, not yet settled by its
   * sched_wakeup: only the sched_wakeup knows whether that wake ended a
   * sleep (the thread was switched out) or found it still running. */
  __u64 waking_ns;
  struct probe_waker waking_waker;
  /* The process's histogram slots (+1; 0: not looked up yet), per syscall
   * and per scheduler histogram: see hist_slots.bpf.h. */
  __u32 sys_slot[PROBE_SYS_MAX];
  __u32 sched_slot[PROBE_SCHED_KINDS];
  /* Where the thread's last staged record waits (record_batch.bpf.h): CPU
   * + 1 (0: none) and that batch's gen then. */
  __u32 staged_cpu;
  __u32 staged_gen;
};

struct {
  __uint(type, BPF_MAP_TYPE_TASK_STORAGE);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __type(key, int);
  __type(value, struct inflight);
} inflight SEC(".maps") __weak;

/* A task no BPF program gave local storage (most untargeted ones): a plain
 * load instead of a helper call per scheduler event (issue 19). */
static __always_inline bool has_storage(struct task_struct *t) { return t->bpf_storage != NULL; }

#endif
