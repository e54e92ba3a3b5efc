// SPDX-License-Identifier: GPL-2.0
/* The scheduler's view of traced syscalls in progress: when the thread went
 * off CPU sleeping, who woke it and what the waker was doing, and when it got
 * back on a CPU. Only threads with an in-flight slot (targets, in a traced
 * call) are touched; every other switch or wakeup costs two task-storage
 * probes that find nothing. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "inflight.bpf.h"

char LICENSE[] SEC("license") = "GPL";

#define PF_KTHREAD 0x00200000
static __always_inline void fill_waker(struct probe_waker *w) {
  struct task_struct *cur = bpf_get_current_task_btf();
  w->nr = -1;
  w->fd = -1;
  /* TODO: a wakeup from an interrupt is attributed to the task it
   * interrupted: __preempt_count, which would tell, is not in kallsyms. */
  if (cur->flags & PF_KTHREAD) {
    w->pid = 0;
    w->tid = 0;
    bpf_get_current_comm(w->comm, sizeof(w->comm));
    return;
  }
  __u64 id = bpf_get_current_pid_tgid();
  w->pid = id >> 32;
  w->tid = (__u32)id;
  bpf_get_current_comm(w->comm, sizeof(w->comm));
  /* In a syscall the saved user registers hold its number and arguments. */
  struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(cur);
  long nr = BPF_CORE_READ(regs, orig_ax);
  if (nr >= 0 && nr < 1024) {
    w->nr = (__s32)nr;
    w->fd = (__s32)BPF_CORE_READ(regs, di);
  }
}

SEC("tp_btf/sched_waking")
int BPF_PROG(on_waking, struct task_struct *p) {
  struct inflight *f = bpf_task_storage_get(&inflight, p, NULL, 0);
  if (!f || !f->syscall || !f->off_ns || f->wake_ns) return 0;
  f->wake_ns = bpf_ktime_get_ns();
  f->blocked_ns += f->wake_ns - f->off_ns;
  fill_waker(&f->waker);
  return 0;
}

SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch, bool preempt, struct task_struct *prev, struct task_struct *next,
             unsigned int prev_state) {
  struct inflight *f = bpf_task_storage_get(&inflight, prev, NULL, 0);
  if (f && f->syscall && prev_state != 0) { /* 0: TASK_RUNNING, i.e. preempted */
    f->off_ns = bpf_ktime_get_ns();
    f->wake_ns = 0;
    f->on_ns = 0;
  }
  f = bpf_task_storage_get(&inflight, next, NULL, 0);
  if (f && f->syscall && f->wake_ns && !f->on_ns) f->on_ns = bpf_ktime_get_ns();
  return 0;
}
