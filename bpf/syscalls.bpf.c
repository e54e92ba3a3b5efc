// SPDX-License-Identifier: GPL-2.0
/* Syscall latency of targeted processes: the select/poll/epoll waits, eventfd
 * creation, and read/write/readv/writev on eventfds. Every call lands in an
 * exact log2 histogram per (process, syscall); per-call records go to the
 * ring buffer when at least min_latency_ns long.
 *
 * One raw tracepoint pair for all syscalls (tracefs is not needed). An
 * untargeted task pays a switch on the syscall number and, for the few traced
 * numbers, one hash lookup on entry and one task-storage probe on exit. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "probe_shared_maps.bpf.h"
#include "inflight.bpf.h"
#include "histogram.bpf.h"
#include "hist_slots.bpf.h"
#include "sampling.bpf.h"
#include "wakeup_record.bpf.h"
#include "record_batch.bpf.h"

char LICENSE[] SEC("license") __weak = "GPL";

const volatile __u64 min_latency_ns = 0;

/* file_operations.read_iter of eventfds; found by resolve_ksyms at start-up.
 * eventfd_fops itself is not in kallsyms, its read_iter is. */
__u64 eventfd_read_iter = 0;

/* x86_64 syscall numbers. */
#define NR_read 0
#define NR_write 1
#define NR_poll 7
#define NR_readv 19
#define NR_writev 20
#define NR_select 23
#define NR_pselect6 270
#define NR_ppoll 271
#define NR_epoll_pwait 281
#define NR_eventfd 284
#define NR_eventfd2 290
#define NR_epoll_wait 232
#define NR_epoll_pwait2 441

/* Per-(process, syscall) exact histograms. */
PROBE_HIST_SLOT_MAPS(sys_hist)

SEC("syscall")
int resolve_ksyms(void *ctx) {
  bpf_kallsyms_lookup_name("eventfd_read", sizeof("eventfd_read"), 0, &eventfd_read_iter);
  return 0;
}

static __always_inline __u16 classify(long nr) {
  switch (nr) {
    case NR_select:
      return PROBE_SYS_SELECT;
    case NR_pselect6:
      return PROBE_SYS_PSELECT6;
    case NR_poll:
      return PROBE_SYS_POLL;
    case NR_ppoll:
      return PROBE_SYS_PPOLL;
    case NR_epoll_wait:
      return PROBE_SYS_EPOLL_WAIT;
    case NR_epoll_pwait:
      return PROBE_SYS_EPOLL_PWAIT;
    case NR_epoll_pwait2:
      return PROBE_SYS_EPOLL_PWAIT2;
    case NR_eventfd:
      return PROBE_SYS_EVENTFD;
    case NR_eventfd2:
      return PROBE_SYS_EVENTFD2;
    case NR_read:
      return PROBE_SYS_READ;
    case NR_write:
      return PROBE_SYS_WRITE;
    case NR_readv:
      return PROBE_SYS_READV;
    case NR_writev:
      return PROBE_SYS_WRITEV;
    default:
      return 0;
  }
}

/* Read-only views of kernel memory: loads through them are plain loads the
 * JIT makes fault-safe, instead of a bpf_probe_read_kernel call each (two
 * per eventfd read/write: ~40 ns of on_sys_enter, issue 19). The only
 * declaration of this kfunc in the linked object: bpftool 7.1's static
 * linker rejects two. */
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym;

/* Kernels before 6.17 reject a cast to untyped memory (btf_id 0): the agent
 * then loads with this off, and the fd slot is read by a helper call. The
 * verifier never walks the branch a read-only false rules out. */
const volatile bool untyped_loads = true;

/* The file_operations of eventfds, learnt from the first file whose
 * read_iter is eventfd_read: one table for all eventfds, so afterwards the
 * f_op pointer alone answers (one kernel read per call fewer). */
__u64 eventfd_fops_seen = 0;

static __always_inline bool is_eventfd(int fd) {
  if (fd < 0 || eventfd_read_iter == 0) return false;
  struct task_struct *task = bpf_get_current_task_btf();
  struct fdtable *fdt = task->files->fdt;
  if ((unsigned int)fd >= fdt->max_fds) return false;
  /* The fd array, as untyped memory (btf_id 0): the table stays valid under
   * the RCU read lock the program runs in. */
  struct file *file = NULL;
  if (untyped_loads) {
    struct file **slots = bpf_rdonly_cast(fdt->fd, 0);
    file = slots[fd];
  } else if (bpf_probe_read_kernel(&file, sizeof(file), &fdt->fd[fd])) {
    return false;
  }
  if (!file) return false;
  struct file *typed = bpf_rdonly_cast(file, bpf_core_type_id_kernel(struct file));
  __u64 fops = (__u64)typed->f_op;
  __u64 seen = eventfd_fops_seen;
  if (seen) return fops == seen;
  struct file_operations *ops = (struct file_operations *)fops;
  if (!ops || (__u64)BPF_CORE_READ(ops, read_iter) != eventfd_read_iter) return false;
  eventfd_fops_seen = fops;
  return true;
}

/* Reads a user timespec (or timeval when usec) into ns; false for NULL. A
 * call whose record is sampled out needs only "has a timeout" (for the
 * histogram's timeout count), not the value: no user read then. */
static __always_inline bool read_user_timeout(const void *uptr, bool usec, __s64 *ns,
                                              bool sampled_out) {
  if (!uptr) return false;
  if (sampled_out) return true;
  struct {
    __s64 sec;
    __s64 sub;
  } t;
  if (bpf_probe_read_user(&t, sizeof(t), uptr)) return false;
  *ns = t.sec * 1000000000ll + (usec ? t.sub * 1000 : t.sub);
  return true;
}

static __always_inline void ms_timeout(long ms, struct inflight *f) {
  if ((int)ms < 0) return; /* negative: wait forever */
  f->timeout_ns = (__s64)(int)ms * 1000000ll;
  f->flags |= PROBE_SYS_F_HAS_TIMEOUT;
}

/* Fills the call's arguments; false when the call is not traced after all
 * (read/write on something other than an eventfd). */
static __always_inline bool capture_args(__u16 sys, struct pt_regs *regs, struct inflight *f,
                                         bool sampled_out) {
  unsigned long a0 = regs->di, a1 = regs->si, a2 = regs->dx, a3 = regs->r10, a4 = regs->r8;
  f->fd = -1;
  f->arg = 0;
  f->flags = 0;
  f->value = 0;
  f->timeout_ns = 0;
  switch (sys) {
    case PROBE_SYS_SELECT:
    case PROBE_SYS_PSELECT6:
      f->arg = (__u32)a0;
      if (read_user_timeout((void *)a4, sys == PROBE_SYS_SELECT, &f->timeout_ns, sampled_out))
        f->flags |= PROBE_SYS_F_HAS_TIMEOUT;
      return true;
    case PROBE_SYS_POLL:
      f->arg = (__u32)a1;
      ms_timeout(a2, f);
      return true;
    case PROBE_SYS_PPOLL:
      f->arg = (__u32)a1;
      if (read_user_timeout((void *)a2, false, &f->timeout_ns, sampled_out))
        f->flags |= PROBE_SYS_F_HAS_TIMEOUT;
      return true;
    case PROBE_SYS_EPOLL_WAIT:
    case PROBE_SYS_EPOLL_PWAIT:
      f->fd = (__s32)a0;
      f->arg = (__u32)a2;
      ms_timeout(a3, f);
      return true;
    case PROBE_SYS_EPOLL_PWAIT2:
      f->fd = (__s32)a0;
      f->arg = (__u32)a2;
      if (read_user_timeout((void *)a3, false, &f->timeout_ns, sampled_out))
        f->flags |= PROBE_SYS_F_HAS_TIMEOUT;
      return true;
    case PROBE_SYS_EVENTFD:
    case PROBE_SYS_EVENTFD2:
      f->value = (__u32)a0; /* initval */
      f->arg = sys == PROBE_SYS_EVENTFD2 ? (__u32)a1 : 0;
      f->flags |= PROBE_SYS_F_HAS_VALUE;
      return true;
    default:
      break;
  }
  /* read/write/readv/writev: only on eventfds. The value moved is read at
   * exit, from the arguments still in the saved registers, and only for a
   * record that is kept: a sampled-out call reads no user memory. */
  if (!is_eventfd((int)a0)) return false;
  f->fd = (__s32)a0;
  return true;
}

/* The user buffer an eventfd read/write moved its 8 bytes through; 0 if none
 * (eventfd uses the first iovec only when it is big enough). */
static __always_inline __u64 eventfd_user_buf(__u16 sys, struct pt_regs *regs) {
  unsigned long a1 = regs->si, a2 = regs->dx;
  if (sys == PROBE_SYS_READV || sys == PROBE_SYS_WRITEV) {
    struct iovec iov;
    if (a2 < 1 || bpf_probe_read_user(&iov, sizeof(iov), (void *)a1) || iov.iov_len < 8) return 0;
    return (__u64)iov.iov_base;
  }
  return a2 < 8 ? 0 : a1;
}

/* The target test at a traced call's entry, shared with the benchmark's
 * floor (bench/bpf/syscalls_tp_cmp.bpf.c) so that both pay the same: false
 * for a thread of no target; else *f is its slot, made on its first call,
 * NULL when none could be made. Only threads of targets ever get a slot, so
 * having one means targeted. */
static __always_inline bool target_slot_at_entry(struct task_struct *task, struct inflight **f) {
  *f = NULL;
  if (known_not_target(task->tgid)) return false;
  *f = bpf_task_storage_get(&inflight, task, NULL, 0);
  if (!*f) {
    if (!is_target_cached(task->tgid)) return false;
    *f = bpf_task_storage_get(&inflight, task, NULL, BPF_LOCAL_STORAGE_GET_F_CREATE);
  }
  return true;
}

/* The same at exit: the slot its entry made, NULL for any other thread. */
static __always_inline struct inflight *target_slot_at_exit(struct task_struct *task) {
  if (known_not_target(task->tgid)) return NULL;
  return bpf_task_storage_get(&inflight, task, NULL, 0);
}

SEC("tp_btf/sys_enter")
int BPF_PROG(on_sys_enter, struct pt_regs *regs, long id) {
  __u16 sys = classify(id);
  if (!sys) return 0;
  struct task_struct *task = bpf_get_current_task_btf();
  struct inflight *f;
  if (!target_slot_at_entry(task, &f)) return 0;
  if (!f) {
    /* Only a call that would have been traced is lost: not a pipe read. */
    if (sys >= PROBE_SYS_READ && !is_eventfd((int)regs->di)) return 0;
    count(PROBE_CTR_SYS_PRODUCED);
    count(PROBE_CTR_SYS_TABLE_FULL);
    return 0;
  }
  /* A wakeup its last call's record was to carry, that call's exit not seen
   * (the kernel skipped the program): written on its own. */
  write_folded_wakeup(f, task->tgid, task->pid);
  /* 1-in-N drawn here rather than at exit: a call it drops reads no user
   * memory at all. The other sampling rules need the exit's time. */
  bool sampled_out = one_in_n_drops(PROBE_SAMPLE_SYSCALLS);
  if (!capture_args(sys, regs, f, sampled_out)) {
    f->syscall = 0;
    return 0;
  }
  f->syscall = sys;
  f->sampled_out = sampled_out;
  f->nr = (__u32)id;
  f->off_ns = 0;
  f->wake_ns = 0;
  f->on_ns = 0;
  f->blocked_ns = 0;
  f->start_ns = bpf_ktime_get_ns();
  return 0;
}

static __always_inline void add_to_histogram(struct inflight *f, __u32 tgid, __u16 sys, __u64 d,
                                             bool timed_out, bool error) {
  struct probe_hist *h = NULL;
  if (sys < PROBE_SYS_MAX) h = HIST_SLOT(sys_hist, &f->sys_slot[sys], tgid, sys);
  if (!h) {
    count(PROBE_CTR_SYS_HIST_FULL);
    return;
  }
  hist_add(h, d, timed_out, error);
}

SEC("tp_btf/sys_exit")
int BPF_PROG(on_sys_exit, struct pt_regs *regs, long ret) {
  long id = regs->orig_ax;
  if (!classify(id)) return 0;
  struct task_struct *task = bpf_get_current_task_btf();
  struct inflight *f = target_slot_at_exit(task);
  if (!f || !f->syscall || f->nr != (__u32)id) return 0;
  __u64 now = bpf_ktime_get_ns();
  __u64 d = now - f->start_ns;
  __u16 sys = f->syscall;
  f->syscall = 0;
  __u32 tgid = task->tgid; /* plain loads from the task already at hand, no helper call */

  __u16 flags = f->flags;
  bool waits = sys <= PROBE_SYS_EPOLL_PWAIT2;
  bool timed_out = waits && ret == 0 && (flags & PROBE_SYS_F_HAS_TIMEOUT);
  if (timed_out) flags |= PROBE_SYS_F_TIMED_OUT;
  /* -ERESTARTSYS..-ERESTART_RESTARTBLOCK (-512..-516) are seen here, before
   * signal handling turns them into a restart or -EINTR: not errors. */
  bool interrupted = ret <= -512 && ret >= -516;
  if (interrupted) flags |= PROBE_SYS_F_INTERRUPTED;
  bool error = ret < 0 && !interrupted;
  count(PROBE_CTR_SYS_PRODUCED);
  add_to_histogram(f, tgid, sys, d, timed_out, error);
  if (d < min_latency_ns) {
    count(PROBE_CTR_SYS_FILTERED);
    write_folded_wakeup(f, tgid, task->pid);
    return 0;
  }
  __u32 dropped = f->sampled_out ? PROBE_CTR_SYS_SAMPLED
                                 : sample_out_after_one_in_n(PROBE_SAMPLE_SYSCALLS,
                                                             PROBE_CTR_SYS_SAMPLED, tgid, sys, now);
  if (dropped) {
    count(dropped);
    write_folded_wakeup(f, tgid, task->pid);
    return 0;
  }

  /* Only a transfer that happened (8 bytes) has a value. */
  __u64 value = f->value;
  if (sys >= PROBE_SYS_READ && ret == 8) {
    __u64 buf = eventfd_user_buf(sys, regs);
    if (buf && bpf_probe_read_user(&value, sizeof(value), (void *)buf) == 0)
      flags |= PROBE_SYS_F_HAS_VALUE;
  }

  /* A call that blocked carries its scheduler breakdown. */
  struct probe_syscall_event *e = NULL;
  struct probe_syscall_wait_event *w = NULL;
  struct staged at;
  if (f->off_ns) {
    w = stage_record(sizeof(*w), &at, f);
    e = w ? &w->call : NULL;
  } else {
    e = stage_record(sizeof(*e), &at, f);
  }
  /* The wakeup this record carries, if any, is settled with it: written
   * or lost. */
  __u16 folded = f->fold_pending;
  f->fold_pending = 0;
  if (folded) count(PROBE_CTR_WAKE_PRODUCED);
  if (!e) {
    count(PROBE_CTR_SYS_RING_FULL);
    if (folded) count(PROBE_CTR_WAKE_RING_FULL);
    return 0;
  }
  if (w) {
    w->wakeup_folded = folded;
    w->wakeup_state = folded ? f->fold_state : 0;
    w->wakeup_cpu = folded ? f->fold_cpu : 0;
    fill_header(&e->hdr, PROBE_EV_SYSCALL_WAIT, sizeof(*w), f->start_ns);
    w->off_ns = f->off_ns;
    w->wake_ns = f->wake_ns;
    w->on_ns = f->on_ns;
    w->blocked_ns = f->blocked_ns;
    w->waker = f->waker;
    /* Running again, yet neither its wakeup nor its switch-in was seen (the
     * kernel skipped the scheduler programs): off -> return is unknown, and
     * the breakdown says so instead of calling it blocked. */
    if (!f->wake_ns && !f->on_ns) {
      __builtin_memset(&w->waker, 0, sizeof(w->waker));
      w->waker.nr = -1;
      w->waker.fd = -1;
      w->waker.ctx = PROBE_WAKER_UNKNOWN;
      w->waker.ctx_id = PROBE_UNKNOWN_SWITCH_IN_NOT_SEEN;
    }
  } else {
    fill_header(&e->hdr, PROBE_EV_SYSCALL, sizeof(*e), f->start_ns);
  }
  e->pid = tgid;
  e->tid = task->pid;
  e->duration_ns = d;
  e->ret = (__s32)ret;
  if (sys <= PROBE_SYS_EPOLL_PWAIT2)
    e->timeout_ns = f->timeout_ns;
  else
    e->value = value;
  e->fd = sys == PROBE_SYS_EVENTFD || sys == PROBE_SYS_EVENTFD2 ? (__s32)ret : f->fd;
  e->arg = f->arg;
  e->syscall = sys;
  e->flags = flags;
  if (w)
    commit_record(w, sizeof(*w), &at, 1, folded ? 1 : 0);
  else
    commit_record(e, sizeof(*e), &at, 1, 0);
  return 0;
}

/* Without the scheduler programs, this keeps a thread's records in order
 * (record_batch.bpf.h): its CPU's batch is handed on when it leaves the CPU
 * with a record in it. Loaded only when on_switch is not. */
SEC("tp_btf/sched_switch")
int BPF_PROG(on_switch_flush, bool preempt, struct task_struct *prev) {
  if (!has_storage(prev)) return 0;
  struct inflight *f = bpf_task_storage_get(&inflight, prev, NULL, 0);
  if (f) flush_for_leaving(f);
  return 0;
}
