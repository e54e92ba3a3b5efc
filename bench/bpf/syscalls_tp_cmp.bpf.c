// SPDX-License-Identifier: GPL-2.0
/* Benchmark-only: the design comparison "one raw tracepoint pair for all
 * syscalls (tp_btf/sys_enter, tp_btf/sys_exit)" versus "per-syscall
 * tracepoints (tracepoint/syscalls/sys_enter_NAME, sys_exit_NAME)".
 *
 * This object includes the agent's own bpf/syscalls.bpf.c unchanged (its maps,
 * its resolve_ksyms and its two tp_btf programs) and adds one tracepoint
 * program pair per traced syscall that runs exactly the same bodies: the
 * tracepoint's arguments are copied into a pt_regs on the stack and handed to
 * the BPF_PROG bodies ____on_sys_enter / ____on_sys_exit. So the two variants
 * differ only in how the kernel gets to the program. bench/tp_cmp_loader.c
 * loads one variant or the other (the rest is not autoloaded).
 *
 * Per-syscall tracepoints need tracefs mounted (libbpf resolves the
 * tracepoint id from tracefs/events/syscalls/NAME/id). */
#include "syscalls.bpf.c"

/* The kernel refuses (EACCES) a tracepoint program that reads past the
 * syscall's own arguments (syscall_trace_enter ends after nargs), so each
 * program copies exactly nargs arguments. nr is an int in the kernel's record
 * (the vmlinux.h struct says long): only its low 32 bits are meaningful. */
static __always_inline int tp_enter(struct trace_event_raw_sys_enter *ctx, const int nargs) {
  struct pt_regs regs; /* only the fields capture_args reads for this syscall are set */
  regs.di = ctx->args[0];
  if (nargs > 1) regs.si = ctx->args[1];
  if (nargs > 2) regs.dx = ctx->args[2];
  if (nargs > 3) regs.r10 = ctx->args[3];
  if (nargs > 4) regs.r8 = ctx->args[4];
  return ____on_sys_enter(0, &regs, (int)ctx->id);
}

static __always_inline int tp_exit(struct trace_event_raw_sys_exit *ctx) {
  struct pt_regs regs;
  regs.orig_ax = (int)ctx->id;
  return ____on_sys_exit(0, &regs, ctx->ret);
}

#define TP_PAIR(name, nargs)                                                                  \
  SEC("tracepoint/syscalls/sys_enter_" #name)                                                 \
  int tp_enter_##name(struct trace_event_raw_sys_enter *ctx) { return tp_enter(ctx, nargs); } \
  SEC("tracepoint/syscalls/sys_exit_" #name)                                                  \
  int tp_exit_##name(struct trace_event_raw_sys_exit *ctx) { return tp_exit(ctx); }

TP_PAIR(read, 3)
TP_PAIR(write, 3)
TP_PAIR(readv, 3)
TP_PAIR(writev, 3)
TP_PAIR(select, 5)
TP_PAIR(pselect6, 6)
TP_PAIR(poll, 3)
TP_PAIR(ppoll, 5)
TP_PAIR(epoll_wait, 4)
TP_PAIR(epoll_pwait, 6)
TP_PAIR(epoll_pwait2, 6)
TP_PAIR(eventfd, 1)
TP_PAIR(eventfd2, 2)

/* Empty programs on the same attach points: what the kernel's dispatch alone
 * costs (syscall slow path + tracepoint + BPF run wrapper), with no body. */
SEC("tp_btf/sys_enter")
int BPF_PROG(e_sys_enter, struct pt_regs *regs, long id) { return 0; }
SEC("tp_btf/sys_exit")
int BPF_PROG(e_sys_exit, struct pt_regs *regs, long ret) { return 0; }

#define TE_PAIR(name)                                                      \
  SEC("tracepoint/syscalls/sys_enter_" #name)                              \
  int te_enter_##name(struct trace_event_raw_sys_enter *ctx) { return 0; } \
  SEC("tracepoint/syscalls/sys_exit_" #name)                               \
  int te_exit_##name(struct trace_event_raw_sys_exit *ctx) { return 0; }

TE_PAIR(read)
TE_PAIR(write)
TE_PAIR(readv)
TE_PAIR(writev)
TE_PAIR(select)
TE_PAIR(pselect6)
TE_PAIR(poll)
TE_PAIR(ppoll)
TE_PAIR(epoll_wait)
TE_PAIR(epoll_pwait)
TE_PAIR(epoll_pwait2)
TE_PAIR(eventfd)
TE_PAIR(eventfd2)

/* The least any tracer must do to time each traced call of a target (issue
 * 19's floor for "every call, with its latency"): the same syscall numbers
 * and target test as on_sys_enter/exit, per-thread state in the same task
 * storage, one clock read per side, and a per-CPU count and sum. No
 * arguments, no user memory, no histogram, no record: what probe adds on top
 * of this is what its records and histograms cost. */
struct timer_sum {
  __u64 count;
  __u64 sum_ns;
};

struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct timer_sum);
} timer_sums SEC(".maps");

SEC("tp_btf/sys_enter")
int BPF_PROG(m_sys_enter, struct pt_regs *regs, long id) {
  if (!classify(id)) return 0;
  struct inflight *f;
  if (!target_slot_at_entry(bpf_get_current_task_btf(), &f) || !f) return 0;
  f->nr = (__u32)id;
  f->start_ns = bpf_ktime_get_ns();
  return 0;
}

SEC("tp_btf/sys_exit")
int BPF_PROG(m_sys_exit, struct pt_regs *regs, long ret) {
  long id = regs->orig_ax;
  if (!classify(id)) return 0;
  struct inflight *f = target_slot_at_exit(bpf_get_current_task_btf());
  if (!f || !f->start_ns || f->nr != (__u32)id) return 0;
  __u64 d = bpf_ktime_get_ns() - f->start_ns;
  f->start_ns = 0;
  __u32 zero = 0;
  struct timer_sum *s = bpf_map_lookup_elem(&timer_sums, &zero);
  if (s) {
    s->count++;
    s->sum_ns += d;
  }
  return 0;
}
