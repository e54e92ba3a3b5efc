/* Event layouts shared by the BPF programs and the agent. Fixed-width fields,
 * explicit padding: the agent static_asserts the sizes. */
#ifndef PROBE_EVENTS_H
#define PROBE_EVENTS_H

#define PROBE_COMM_LEN 16
#define PROBE_FILENAME_LEN 256
#define PROBE_ARGS_LEN 512
/* Most ring buffers the kernel side can write to (sharded by CPU). */
#define PROBE_MAX_RINGS 64

enum probe_event_type {
  PROBE_EV_PROC_EXIT = 1,
  PROBE_EV_SYSCALL = 2,
  PROBE_EV_SYSCALL_WAIT = 3, /* a syscall that blocked: probe_syscall_wait_event */
  PROBE_EV_WAKEUP = 4,       /* a target thread back on a CPU: probe_wakeup_event */
  /* Records staged on one CPU and handed to the ring together
   * (record_batch.bpf.h): this header, then whole records of the types
   * above, each starting with its own header; hdr.size is the whole batch. */
  PROBE_EV_BATCH = 5,
};

/* Bytes of one CPU's staging area, batch header included: up to 72 call
 * records (56 bytes) or 28 blocked-call records (144) per ring record. */
#define PROBE_BATCH_BYTES 4096

/* One CPU's staging area (a per-CPU array of one entry). */
struct probe_batch {
  __u32 used;         /* bytes in data: 0, or the batch header and records */
  __u32 busy;         /* a program on this CPU is writing or flushing it */
  __u32 sys_records;  /* call records in data: each lost with it if the ring is full */
  __u32 wake_records; /* wakeup records in data, carried ones included */
  __u32 gen;          /* batches handed on from this CPU so far */
  __u32 pad;
  __u8 data[PROBE_BATCH_BYTES];
};

/* Index into the per-CPU counter array. Syscalls: produced == written +
 * filtered + sampled + first_k + rate + ring_full + table_full; wakeups:
 * produced == written + sampled + first_k + rate + ring_full; process:
 * produced == written + ring_full (never sampled). WAKE_TABLE_FULL counts
 * threads never tracked, outside produced. */
enum probe_counter {
  PROBE_CTR_PROC_PRODUCED = 0,
  PROBE_CTR_PROC_RING_FULL = 1,
  PROBE_CTR_SYS_PRODUCED = 2, /* traced calls that completed or could not be tracked */
  PROBE_CTR_SYS_RING_FULL = 3,
  PROBE_CTR_SYS_FILTERED = 4,   /* shorter than --min-latency: histogram only */
  PROBE_CTR_SYS_TABLE_FULL = 5, /* no in-flight slot for the thread */
  PROBE_CTR_SYS_HIST_FULL = 6,  /* histogram map full: call missing from histograms */
  PROBE_CTR_WAKE_PRODUCED = 7,  /* target threads put back on a CPU */
  PROBE_CTR_WAKE_RING_FULL = 8,
  PROBE_CTR_WAKE_HIST_FULL = 9,
  PROBE_CTR_WAKE_TABLE_FULL = 10, /* no per-thread slot: not tracked */
  PROBE_CTR_SYS_SAMPLED = 11,     /* not chosen by 1-in-N */
  PROBE_CTR_SYS_FIRST_K = 12,     /* past the first K per (process, syscall) this second */
  PROBE_CTR_SYS_RATE = 13,        /* over the global records-per-second cap */
  PROBE_CTR_WAKE_SAMPLED = 14,
  PROBE_CTR_WAKE_FIRST_K = 15,
  PROBE_CTR_WAKE_RATE = 16,
  /* Wakeup records (in produced, written like any other) whose sched_waking
   * was never seen after the switch-out: the wake time is unknown and the
   * record says so (PROBE_WAKER_UNKNOWN). Not in the run-queue or off-CPU
   * histograms. */
  PROBE_CTR_WAKE_UNSEEN = 17,
  /* Wakeup records whose sched_waking came while the thread was still
   * switching out (seen still queued): woken at the switch-out. */
  PROBE_CTR_WAKE_RACED = 18,
  /* Wakeup records (in produced, written) for an off-CPU period one end of
   * which the sched_switch program did not see: back on a CPU without a
   * switch-out seen (off time unknown), or switched out again without a
   * switch-in seen (on time unknown). Waker: PROBE_WAKER_UNKNOWN. */
  PROBE_CTR_WAKE_NO_SWITCH_OUT = 19,
  PROBE_CTR_WAKE_NO_SWITCH_IN = 20,
  PROBE_CTR_MAX = 32,
};

/* Sampling kinds (the agent's --sample / --first names). */
enum probe_sample_kind {
  PROBE_SAMPLE_SYSCALLS = 0,
  PROBE_SAMPLE_WAKEUPS = 1,
  PROBE_SAMPLE_KINDS = 2,
};

/* The --max-rate token bucket, shared by the kernel and the agent (the map
 * is mmapped): refilled at most once a millisecond by whoever gets there. */
struct rate_bucket {
  __u64 refilled_ns;
  __s64 tokens;
};

/* Syscalls traced, as recorded (mirrors probe.v1.Syscall). */
enum probe_syscall {
  PROBE_SYS_SELECT = 1,
  PROBE_SYS_PSELECT6 = 2,
  PROBE_SYS_POLL = 3,
  PROBE_SYS_PPOLL = 4,
  PROBE_SYS_EPOLL_WAIT = 5,
  PROBE_SYS_EPOLL_PWAIT = 6,
  PROBE_SYS_EPOLL_PWAIT2 = 7,
  PROBE_SYS_EVENTFD = 8,
  PROBE_SYS_EVENTFD2 = 9,
  PROBE_SYS_READ = 10, /* read/write/readv/writev: on eventfds only */
  PROBE_SYS_WRITE = 11,
  PROBE_SYS_READV = 12,
  PROBE_SYS_WRITEV = 13,
  PROBE_SYS_MAX = 14,
};

/* probe_syscall_event.flags */
#define PROBE_SYS_F_HAS_TIMEOUT 0x1 /* timeout_ns is valid (else: wait forever) */
#define PROBE_SYS_F_TIMED_OUT 0x2   /* returned 0 because the timeout expired */
#define PROBE_SYS_F_HAS_VALUE 0x4   /* value holds the 8 bytes transferred */
#define PROBE_SYS_F_INTERRUPTED 0x8 /* a signal ended it with a kernel restart code */

#define PROBE_HIST_BUCKETS 48 /* log2(ns): bucket i is [2^i, 2^(i+1)), 0 is [0, 2) */

struct probe_event_header {
  __u16 type;
  __u16 size;
  __u32 cpu;
  __u64 time_ns;
};

/* Process state the kernel keeps per target tgid between fork/exec and exit. */
struct probe_proc_info {
  __u64 exec_ns;
  __u32 ppid;
  __u32 exec_count;
  __u16 filename_len;
  __u16 args_len;
  __u32 args_total; /* argv bytes before the cut */
  char filename[PROBE_FILENAME_LEN];
  char args[PROBE_ARGS_LEN]; /* NUL-separated argv, possibly cut */
  __u64 first_exec_ns;       /* the first exec's time (exec_ns is the last's) */
};

struct probe_proc_exit_event {
  struct probe_event_header hdr; /* hdr.time_ns = exit time */
  __u32 pid;
  __u32 ppid;
  __u32 exit_code; /* raw task->exit_code: (status << 8) | signal | 0x80 core */
  __u32 pad;
  __u64 fork_ns;
  __u64 utime_ns;
  __u64 stime_ns;
  __u64 maxrss_pages; /* signal->maxrss: peak RSS in pages */
  char comm[PROBE_COMM_LEN];
  struct probe_proc_info info;
};

/* One completed traced syscall. hdr.time_ns = entry time. 56 bytes, so with
 * the ring buffer's 8-byte record header it fills one cache line. */
struct probe_syscall_event {
  struct probe_event_header hdr;
  __u32 pid;
  __u32 tid;
  __u64 duration_ns;
  __s32 fd;  /* eventfd fd for read/write and eventfd's result, epoll fd for epoll waits, else -1 */
  __u32 arg; /* waits: nfds or maxevents; eventfd2: flags */
  __u16 syscall; /* enum probe_syscall */
  __u16 flags;   /* PROBE_SYS_F_* */
  __s32 ret;     /* return value, or -errno (every traced syscall returns an int) */
  union {
    __s64 timeout_ns; /* waits: requested timeout, valid with PROBE_SYS_F_HAS_TIMEOUT */
    __u64 value;      /* eventfd ops: value moved, or eventfd's initval (PROBE_SYS_F_HAS_VALUE) */
  };
};

/* probe_waker.ctx: the context sched_waking ran in (mirrors probe.v1.WakerContext). */
#define PROBE_WAKER_TASK 0        /* a task, in process context */
#define PROBE_WAKER_HARDIRQ 1     /* a device interrupt handler: ctx_id = irq */
#define PROBE_WAKER_SOFTIRQ 2     /* a softirq: ctx_id = vector */
#define PROBE_WAKER_OWN_TIMEOUT 3 /* the wait's own timeout: its hrtimer_sleeper expired */
#define PROBE_WAKER_TIMER 4       /* another hrtimer: ctx_fn = its function */
#define PROBE_WAKER_UNKNOWN 5     /* no wakeup seen: ctx_id = PROBE_UNKNOWN_* */
/* Contexts not tracked (--no-waker-context): the task on the CPU, which an
 * interrupt or a timer may have borrowed. */
#define PROBE_WAKER_UNTRACKED 6

/* probe_waker.ctx_id with PROBE_WAKER_UNKNOWN: which end was not seen.
 * WAKING: switched out sleeping and back on a CPU, no sched_waking between.
 * SWITCH_OUT: back on a CPU, its switch-out not seen (off_ns = 0).
 * SWITCH_IN: switched out again, the switch-in between not seen (hdr.time_ns = 0). */
#define PROBE_UNKNOWN_WAKING_NOT_SEEN 1
#define PROBE_UNKNOWN_SWITCH_OUT_NOT_SEEN 2
#define PROBE_UNKNOWN_SWITCH_IN_NOT_SEEN 3

/* Who woke a blocked thread, seen at sched_waking in the waker's context.
 * pid..fd: the task on the CPU then (the waker itself in task context; in an
 * interrupt, the task it interrupted). */
struct probe_waker {
  __u32 pid; /* 0 when the wakeup came from an interrupt or a kernel thread */
  __u32 tid;
  char comm[PROBE_COMM_LEN];
  __s32 nr;     /* the waker's syscall number then, -1 for none */
  __s32 fd;     /* its first argument, for syscalls that take an fd */
  __u32 ctx;    /* PROBE_WAKER_* */
  __u32 ctx_id; /* irq number, softirq vector, or PROBE_UNKNOWN_* */
  __u64 ctx_fn; /* timers: the hrtimer's function (kernel address) */
};

/* A traced syscall that blocked, with the breakdown of its time:
 * duration = (off - start) + blocked(last) + runq + return. */
struct probe_syscall_wait_event {
  struct probe_syscall_event call;
  __u64 off_ns;     /* switched out, sleeping (last time in the call) */
  __u64 wake_ns;    /* woken (last time) */
  __u64 on_ns;      /* back on a CPU */
  __u64 blocked_ns; /* total off CPU sleeping during the call */
  struct probe_waker waker;
  /* With wakeup_folded = 1, the last sleep's return to a CPU (off_ns ->
   * wake_ns -> on_ns, waker) is also the thread's wakeup record, carried
   * here instead of written at the switch-in: one ring record fewer per
   * blocked call (issue 19). The agent writes it as a Wakeup record. */
  __u32 wakeup_cpu;    /* the CPU it came back on */
  __u16 wakeup_state;  /* PROBE_OFF_* of that sleep */
  __u16 wakeup_folded; /* 0 or 1 */
};

/* probe_wakeup_event.state: how the thread left the CPU. */
#define PROBE_OFF_PREEMPTED 0 /* still runnable: queued at once */
#define PROBE_OFF_SLEEPING 1  /* TASK_INTERRUPTIBLE */
#define PROBE_OFF_BLOCKED 2   /* TASK_UNINTERRUPTIBLE (I/O, locks) */
#define PROBE_OFF_OTHER 3

/* A target thread back on a CPU after a sleep (woken) or a preemption.
 * hdr.time_ns = on CPU, hdr.cpu = the CPU it runs on. */
struct probe_wakeup_event {
  struct probe_event_header hdr;
  __u32 pid;
  __u32 tid;
  __u64 off_ns;  /* switched out */
  __u64 wake_ns; /* woken; = off_ns when preempted */
  __u32 state;   /* PROBE_OFF_* */
  __u32 pad;
  struct probe_waker waker; /* pid 0 and nr -1 when preempted */
};

/* probe_hist_key.syscall values of the scheduler histograms. */
#define PROBE_SCHED_RUN_QUEUE 1
#define PROBE_SCHED_OFF_CPU 2
#define PROBE_SCHED_KINDS 3 /* one past the last */

struct probe_hist_key {
  __u32 pid;
  __u32 syscall; /* enum probe_syscall */
};

/* Per CPU; the agent sums over CPUs. min_ns is valid when count > 0. */
struct probe_hist {
  __u64 count;
  __u64 sum_ns;
  __u64 min_ns;
  __u64 max_ns;
  __u64 timeouts;
  __u64 errors;
  __u64 buckets[PROBE_HIST_BUCKETS];
};

#endif
