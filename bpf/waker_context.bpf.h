/* The context a wakeup runs in, per CPU: a device interrupt, a softirq, an
 * expiring hrtimer, or none of them (task context). The per-CPU preempt count
 * would tell but is not in kallsyms here, so the irq, softirq and hrtimer
 * tracepoints keep it. Each entry stamps its slot with a per-CPU sequence
 * number; the innermost context is the active slot with the highest stamp
 * (softirqs run on irq exit, hrtimers in hardirq or in the hrtimer softirq,
 * and a device interrupt can land in a softirq or a soft hrtimer).
 * Included by wakeups.bpf.c only. */
#ifndef PROBE_WAKER_CONTEXT_BPF_H
#define PROBE_WAKER_CONTEXT_BPF_H

#include "probe_events.h"

struct cpu_context {
  __u64 seq;
  __u64 hardirq_seq; /* 0: not in a device interrupt handler */
  __u32 irq;
  __u32 softirq_vec;
  __u64 softirq_seq;
  /* An hrtimer callback, and the one it interrupted (a hard timer expiring in
   * a soft timer's callback): at most two deep. */
  __u64 timer_seq, timer_fn, timer_task;
  __u64 outer_timer_seq, outer_timer_fn, outer_timer_task;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct cpu_context);
} cpu_contexts SEC(".maps");

/* hrtimer_wakeup, the function of every hrtimer_sleeper (the timeouts of
 * select, poll, epoll_wait, nanosleep, futex waits): set by
 * resolve_wakeup_ksyms at start-up. */
__u64 hrtimer_wakeup_fn = 0;

SEC("syscall")
int resolve_wakeup_ksyms(void *ctx) {
  bpf_kallsyms_lookup_name("hrtimer_wakeup", sizeof("hrtimer_wakeup"), 0, &hrtimer_wakeup_fn);
  return 0;
}

static __always_inline struct cpu_context *this_cpu_context(void) {
  __u32 zero = 0;
  return bpf_map_lookup_elem(&cpu_contexts, &zero);
}

SEC("tp_btf/irq_handler_entry")
int BPF_PROG(on_irq_entry, int irq, struct irqaction *action) {
  struct cpu_context *c = this_cpu_context();
  if (!c) return 0;
  c->hardirq_seq = ++c->seq;
  c->irq = irq;
  return 0;
}

SEC("tp_btf/irq_handler_exit")
int BPF_PROG(on_irq_exit, int irq, struct irqaction *action, int ret) {
  struct cpu_context *c = this_cpu_context();
  if (c) c->hardirq_seq = 0;
  return 0;
}

SEC("tp_btf/softirq_entry")
int BPF_PROG(on_softirq_entry, unsigned int vec) {
  struct cpu_context *c = this_cpu_context();
  if (!c) return 0;
  c->softirq_seq = ++c->seq;
  c->softirq_vec = vec;
  return 0;
}

SEC("tp_btf/softirq_exit")
int BPF_PROG(on_softirq_exit, unsigned int vec) {
  struct cpu_context *c = this_cpu_context();
  if (c) c->softirq_seq = 0;
  return 0;
}

SEC("tp_btf/hrtimer_expire_entry")
int BPF_PROG(on_hrtimer_entry, struct hrtimer *timer, ktime_t *now) {
  struct cpu_context *c = this_cpu_context();
  if (!c) return 0;
  c->outer_timer_seq = c->timer_seq;
  c->outer_timer_fn = c->timer_fn;
  c->outer_timer_task = c->timer_task;
  __u64 fn = (__u64)timer->function;
  c->timer_fn = fn;
  c->timer_task = 0;
  /* An hrtimer_sleeper: the task it will wake is its own timeout's. */
  if (fn && fn == hrtimer_wakeup_fn) {
    struct hrtimer_sleeper *s = container_of(timer, struct hrtimer_sleeper, timer);
    c->timer_task = (__u64)BPF_CORE_READ(s, task);
  }
  c->timer_seq = ++c->seq;
  return 0;
}

SEC("tp_btf/hrtimer_expire_exit")
int BPF_PROG(on_hrtimer_exit, struct hrtimer *timer) {
  struct cpu_context *c = this_cpu_context();
  if (!c) return 0;
  c->timer_seq = c->outer_timer_seq;
  c->timer_fn = c->outer_timer_fn;
  c->timer_task = c->outer_timer_task;
  c->outer_timer_seq = 0;
  return 0;
}

/* False when the agent left the context programs out (--no-waker-context):
 * a waker is then only the task on the CPU, and the record says so rather
 * than call it a task in process context. */
const volatile bool waker_context_tracked __weak = true;

/* Sets w's context for a wakeup of wakee happening now on this CPU. */
static __always_inline void fill_context(struct probe_waker *w, struct task_struct *wakee) {
  w->ctx = waker_context_tracked ? PROBE_WAKER_TASK : PROBE_WAKER_UNTRACKED;
  w->ctx_id = 0;
  w->ctx_fn = 0;
  if (!waker_context_tracked) return;
  struct cpu_context *c = this_cpu_context();
  if (!c) return;
  __u64 best = 0;
  if (c->hardirq_seq > best) {
    best = c->hardirq_seq;
    w->ctx = PROBE_WAKER_HARDIRQ;
    w->ctx_id = c->irq;
  }
  if (c->softirq_seq > best) {
    best = c->softirq_seq;
    w->ctx = PROBE_WAKER_SOFTIRQ;
    w->ctx_id = c->softirq_vec;
  }
  if (c->timer_seq > best) {
    w->ctx = c->timer_task == (__u64)wakee ? PROBE_WAKER_OWN_TIMEOUT : PROBE_WAKER_TIMER;
    w->ctx_fn = c->timer_fn;
  }
}

#endif
