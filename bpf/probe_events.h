/* Event layouts shared by the BPF programs and the agent. Fixed-width fields,
 * explicit padding: the agent static_asserts the sizes. */
#ifndef PROBE_EVENTS_H
#define PROBE_EVENTS_H

#define PROBE_COMM_LEN 16
#define PROBE_FILENAME_LEN 256
#define PROBE_ARGS_LEN 512

enum probe_event_type {
  PROBE_EV_PROC_EXIT = 1,
};

/* Index into the per-CPU counter array. */
enum probe_counter {
  PROBE_CTR_PROC_PRODUCED = 0,
  PROBE_CTR_PROC_RING_FULL = 1,
  PROBE_CTR_MAX = 8,
};

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

#endif
