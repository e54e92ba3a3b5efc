// SPDX-License-Identifier: GPL-2.0
/* Process lifetimes: fork, exec and exit of targeted processes. Filtering is
 * in the kernel: an untargeted task costs one hash lookup. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include "probe_shared_maps.bpf.h"
#include "record_batch.bpf.h"
#include "process_cputime.bpf.h"

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

SEC("tp_btf/sched_process_exit")
int BPF_PROG(on_exit, struct task_struct *p, bool group_dead) {
  if (!group_dead) return 0; /* other threads are still alive */
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
    process_cputime(p, &e->utime_ns, &e->stime_ns);
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

/* The agent's way to empty a CPU's batch of staged records
 * (record_batch.bpf.h): run there by BPF_PROG_TEST_RUN with
 * BPF_F_TEST_RUN_ON_CPU, never attached. */
SEC("raw_tp")
int flush_batch(void *ctx) { return flush_this_cpu() ? 0 : 1; }
