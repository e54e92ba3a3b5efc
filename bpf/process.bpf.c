// SPDX-License-Identifier: GPL-2.0
/* Process lifetimes: fork, exec and exit of targeted processes. Filtering is
 * in the kernel: an untargeted task costs one hash lookup. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "probe_shared_maps.bpf.h"
#include "record_batch.bpf.h"

char LICENSE[] SEC("license") __weak = "GPL";

const volatile bool follow_children = true;
/* Off when --events leaves out "process": targets are still followed. */
const volatile bool emit_exits = true;

/* Not preallocated: 64k entries of 792 bytes would cost 13 ms of start-up. */
struct {
  __uint(type, BPF_MAP_TYPE_HASH);
  __uint(map_flags, BPF_F_NO_PREALLOC);
  __uint(max_entries, 65536);
  __type(key, __u32);
  __type(value, struct probe_proc_info);
} procs SEC(".maps");

/* Zeroed template for new procs entries (too large for the BPF stack). */
struct {
  __uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
  __uint(max_entries, 1);
  __type(key, __u32);
  __type(value, struct probe_proc_info);
} scratch SEC(".maps");

static __always_inline struct probe_proc_info *proc_info(__u32 tgid) {
  struct probe_proc_info *info = bpf_map_lookup_elem(&procs, &tgid);
  if (info) return info;
  __u32 zero = 0;
  struct probe_proc_info *blank = bpf_map_lookup_elem(&scratch, &zero);
  if (!blank) return NULL;
  __builtin_memset(blank, 0, sizeof(*blank));
  bpf_map_update_elem(&procs, &tgid, blank, BPF_NOEXIST);
  return bpf_map_lookup_elem(&procs, &tgid);
}

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork, struct task_struct *parent, struct task_struct *child) {
  __u32 child_pid = BPF_CORE_READ(child, pid);
  __u32 child_tgid = BPF_CORE_READ(child, tgid);
  if (child_pid != child_tgid) return 0; /* a new thread, not a new process */
  __u32 parent_tgid = BPF_CORE_READ(parent, tgid);
  if (!is_target(parent_tgid)) return 0;
  if (!target_all) {
    if (!follow_children) return 0;
    __u8 one = 1;
    bpf_map_update_elem(&targets, &child_tgid, &one, BPF_ANY);
    __sync_fetch_and_add(&targets_gen, 1);
  }
  struct probe_proc_info *info = proc_info(child_tgid);
  if (info) info->ppid = parent_tgid;
  return 0;
}

SEC("tp_btf/sched_process_exec")
int BPF_PROG(on_exec, struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm) {
  /* First: the lookups below (and, for a process whose fork was not seen,
   * such as the launched command, the new map entry) took up to 23 us on a
   * first run, which ended up in its exec time. */
  __u64 now = bpf_ktime_get_ns();
  __u32 tgid = BPF_CORE_READ(p, tgid);
  if (!is_target(tgid)) return 0;
  struct probe_proc_info *info = proc_info(tgid);
  if (!info) return 0;
  info->exec_ns = now;
  if (info->exec_count == 0) info->first_exec_ns = now;
  info->exec_count += 1;
  const char *filename = BPF_CORE_READ(bprm, filename);
  long n = bpf_probe_read_kernel_str(info->filename, sizeof(info->filename), filename);
  info->filename_len = n > 0 ? n : 0;
  /* argv was just copied to the new stack by the kernel, so it is resident. */
  unsigned long arg_start = BPF_CORE_READ(p, mm, arg_start);
  unsigned long arg_end = BPF_CORE_READ(p, mm, arg_end);
  unsigned long total = arg_end > arg_start ? arg_end - arg_start : 0;
  /* The mask is what lets the verifier prove the read fits the buffer. */
  __u32 len = total < PROBE_ARGS_LEN - 1 ? total : PROBE_ARGS_LEN - 1;
  len &= PROBE_ARGS_LEN - 1;
  info->args_total = total;
  info->args_len = 0;
  if (len > 0 && bpf_probe_read_user(info->args, len, (void *)arg_start) == 0) info->args_len = len;
  return 0;
}

/* The open-coded thread iterator (kernel 6.7 on) and a referenced task by
 * pid (6.2 on). Weak, and used only by on_exit: on an older kernel its load
 * fails and the agent loads on_exit_before_6_7 instead, which uses none. */
extern int bpf_iter_task_new(struct bpf_iter_task *it, struct task_struct *task,
                             unsigned int flags) __weak __ksym;
extern struct task_struct *bpf_iter_task_next(struct bpf_iter_task *it) __weak __ksym;
extern void bpf_iter_task_destroy(struct bpf_iter_task *it) __weak __ksym;
extern struct task_struct *bpf_task_from_pid(s32 pid) __weak __ksym;
extern void bpf_task_release(struct task_struct *p) __weak __ksym;

/* Every listed thread's own CPU time, walked from the leader: the iterator
 * goes onwards from the task it is given, and the leader comes first. The
 * leader is taken by its pid (= the tgid) because the verifier does not
 * trust last->group_leader as it stands. False when it cannot be done. */
static __always_inline bool listed_threads_cputime(struct task_struct *last, __u64 *utime,
                                                   __u64 *stime) {
  struct task_struct *leader = bpf_task_from_pid(last->tgid);
  if (!leader) return false;
  struct bpf_iter_task it;
  struct task_struct *t;
  bpf_iter_task_new(&it, leader, BPF_TASK_ITER_PROC_THREADS);
  while ((t = bpf_iter_task_next(&it))) {
    *utime += t->utime;
    *stime += t->stime;
  }
  bpf_iter_task_destroy(&it);
  bpf_task_release(leader);
  return true;
}

/* The process's CPU time when its last thread exits, summed as the kernel's
 * thread_group_cputime() does: the released threads' sums in the signal
 * struct, plus every thread still listed. A leader that exited first is one
 * of those: it is released only with the whole process, so the signal
 * struct does not hold its time yet (a process whose leader did all the
 * work showed 0 ns). So are other threads still on their way out. */
static __always_inline void process_cputime(struct task_struct *last, __u64 *utime, __u64 *stime,
                                            bool thread_iterator) {
  *utime = BPF_CORE_READ(last, signal, utime);
  *stime = BPF_CORE_READ(last, signal, stime);
  if (thread_iterator && listed_threads_cputime(last, utime, stime)) return;
  /* Older kernels: the last thread and the leader; a thread exiting at the
   * same moment as the last one is missed. */
  *utime += BPF_CORE_READ(last, utime);
  *stime += BPF_CORE_READ(last, stime);
  struct task_struct *leader = BPF_CORE_READ(last, group_leader);
  if (leader != last) {
    *utime += BPF_CORE_READ(leader, utime);
    *stime += BPF_CORE_READ(leader, stime);
  }
}

/* The last thread of a process exits (group_dead). */
static __always_inline int process_exited(struct task_struct *p, bool thread_iterator) {
  __u32 tgid = BPF_CORE_READ(p, tgid);
  if (!is_target(tgid)) return 0;
  struct probe_proc_exit_event *e = NULL;
  void *ring = NULL;
  if (emit_exits) {
    /* The exiting thread's records still staged here go first: none of the
     * process's records comes after its exit (record_batch.bpf.h). */
    flush_this_cpu();
    count(PROBE_CTR_PROC_PRODUCED);
    ring = cpu_ring();
    if (ring) e = bpf_ringbuf_reserve(ring, sizeof(*e), 0);
    if (!e) count(PROBE_CTR_PROC_RING_FULL);
  }
  if (e) {
    fill_header(&e->hdr, PROBE_EV_PROC_EXIT, sizeof(*e), bpf_ktime_get_ns());
    e->pid = tgid;
    e->exit_code = BPF_CORE_READ(p, exit_code);
    e->pad = 0;
    e->fork_ns = BPF_CORE_READ(p, group_leader, start_time);
    process_cputime(p, &e->utime_ns, &e->stime_ns, thread_iterator);
    e->maxrss_pages = BPF_CORE_READ(p, signal, maxrss);
    /* The process's name is its leader's (after an exec, the execing thread
     * became the leader), not that of whichever thread exits last. */
    BPF_CORE_READ_STR_INTO(&e->comm, p, group_leader, comm);
    struct probe_proc_info *info = bpf_map_lookup_elem(&procs, &tgid);
    if (info) {
      __builtin_memcpy(&e->info, info, sizeof(*info));
    } else {
      __builtin_memset(&e->info, 0, sizeof(e->info));
    }
    if (e->info.ppid == 0) e->info.ppid = BPF_CORE_READ(p, real_parent, tgid);
    e->ppid = e->info.ppid;
    bpf_ringbuf_submit(e, submit_flags(ring, sizeof(*e)));
  }
  bpf_map_delete_elem(&procs, &tgid);
  if (!target_all) bpf_map_delete_elem(&targets, &tgid);
  return 0;
}

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p, bool group_dead) {
  /* Other threads still alive: not the process's exit. */
  return group_dead ? process_exited(p, true) : 0;
}

/* The same for kernels without the thread iterator (before 6.7). */
SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit_before_6_7, struct task_struct *p, bool group_dead) {
  return group_dead ? process_exited(p, false) : 0;
}

/* The agent's way to empty a CPU's batch of staged records
 * (record_batch.bpf.h): run there by BPF_PROG_TEST_RUN with
 * BPF_F_TEST_RUN_ON_CPU, never attached. */
SEC("raw_tp")
int flush_batch(void *ctx) { return flush_this_cpu() ? 0 : 1; }
