// SPDX-License-Identifier: GPL-2.0
/* Benchmark-only loader for bench/bpf/syscalls_tp_cmp.bpf.c.
 *
 * usage: tp_cmp_loader OBJ MODE [--pid N]...
 *   tp_btf            attach the agent's on_sys_enter/on_sys_exit (tp_btf/sys_*)
 *   tracepoint        attach the 26 tracepoint/syscalls/sys_{enter,exit}_NAME
 *                     programs running the same bodies (needs tracefs mounted)
 *   tp_btf-empty      empty programs on tp_btf/sys_enter + sys_exit
 *   tracepoint-empty  empty programs on the same 26 tracepoints
 *   tp_btf-timer      the least that times each traced call (m_sys_*): target
 *                     test, task storage, a clock read per side, a sum
 * Seeds the targets map with the given tgids (no descendants), resolves
 * eventfd_read like the agent, drains the ring buffer every 100 ms (events are
 * submitted without wakeups, as in the agent) and discards the records.
 * Prints "ready" on stdout once attached; on SIGINT/SIGTERM prints
 * key=value counters (events, produced, ring_full, table_full) and exits. */
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "probe_events.h"

static volatile sig_atomic_t stop;
static unsigned long long events;

static void on_signal(int sig) {
  (void)sig;
  stop = 1;
}

static int on_event(void *ctx, void *data, size_t size) {
  (void)ctx;
  (void)data;
  (void)size;
  events++;
  return 0;
}

static int silent(enum libbpf_print_level level, const char *fmt, va_list args) {
  if (level == LIBBPF_DEBUG) return 0;
  return vfprintf(stderr, fmt, args);
}

static unsigned long long counter_sum(int fd, __u32 idx) {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0 || ncpu > 4096) return 0;
  __u64 *vals = calloc((size_t)ncpu, sizeof(__u64));
  unsigned long long sum = 0;
  if (vals && bpf_map_lookup_elem(fd, &idx, vals) == 0)
    for (int i = 0; i < ncpu; i++) sum += vals[i];
  free(vals);
  return sum;
}

int main(int argc, char **argv) {
  static const char *const modes[][2] = {{"tp_btf", "on_sys_"},
                                         {"tracepoint", "tp_"},
                                         {"tp_btf-empty", "e_sys_"},
                                         {"tracepoint-empty", "te_"},
                                         {"tp_btf-timer", "m_sys_"}};
  const char *prefix = NULL;
  for (size_t i = 0; argc >= 3 && i < sizeof(modes) / sizeof(modes[0]); i++)
    if (!strcmp(argv[2], modes[i][0])) prefix = modes[i][1];
  if (!prefix) {
    fprintf(stderr,
            "usage: tp_cmp_loader OBJ tp_btf|tracepoint|tp_btf-empty|tracepoint-empty|tp_btf-timer "
            "[--pid N]...\n");
    return 2;
  }
  libbpf_set_print(silent);

  struct bpf_object *obj = bpf_object__open_file(argv[1], NULL);
  if (!obj) {
    fprintf(stderr, "tp_cmp_loader: open %s: %s\n", argv[1], strerror(errno));
    return 1;
  }
  struct bpf_program *prog;
  bpf_object__for_each_program(prog, obj) {
    const char *name = bpf_program__name(prog);
    bool mine = !strcmp(name, "resolve_ksyms") || !strncmp(name, prefix, strlen(prefix));
    bpf_program__set_autoload(prog, mine);
  }
  int err = bpf_object__load(obj);
  if (err) {
    fprintf(stderr, "tp_cmp_loader: load: %s\n", strerror(-err));
    return 1;
  }

  struct bpf_program *rk = bpf_object__find_program_by_name(obj, "resolve_ksyms");
  LIBBPF_OPTS(bpf_test_run_opts, run);
  if (!rk || bpf_prog_test_run_opts(bpf_program__fd(rk), &run)) {
    fprintf(stderr, "tp_cmp_loader: resolve_ksyms failed\n");
    return 1;
  }

  int targets = bpf_object__find_map_fd_by_name(obj, "targets");
  for (int i = 3; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--pid")) continue;
    __u32 tgid = (__u32)atoi(argv[i + 1]);
    __u8 one = 1;
    if (bpf_map_update_elem(targets, &tgid, &one, BPF_ANY)) {
      fprintf(stderr, "tp_cmp_loader: targets update: %s\n", strerror(errno));
      return 1;
    }
  }

  /* One ring for every CPU (the object's defaults: ring_count 1), as the
   * agent's --ring-buffers 1; the rings map only holds it. */
  int ring = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "cmp_ring", 0, 0, 1u << 20, NULL);
  __u32 zero = 0;
  if (ring < 0 ||
      bpf_map_update_elem(bpf_object__find_map_fd_by_name(obj, "rings"), &zero, &ring, BPF_ANY)) {
    fprintf(stderr, "tp_cmp_loader: ring buffer map: %s\n", strerror(errno));
    return 1;
  }
  struct ring_buffer *rb = ring_buffer__new(ring, on_event, NULL, NULL);
  if (!rb) {
    fprintf(stderr, "tp_cmp_loader: ring buffer: %s\n", strerror(errno));
    return 1;
  }

  int attached = 0;
  bpf_object__for_each_program(prog, obj) {
    if (!bpf_program__autoload(prog) || prog == rk) continue;
    struct bpf_link *link = bpf_program__attach(prog);
    if (!link) {
      fprintf(stderr, "tp_cmp_loader: attach %s: %s\n", bpf_program__name(prog), strerror(errno));
      return 1;
    }
    attached++;
  }

  signal(SIGINT, on_signal);
  signal(SIGTERM, on_signal);
  printf("ready programs=%d\n", attached);
  fflush(stdout);
  while (!stop) {
    usleep(100 * 1000);
    ring_buffer__consume(rb);
  }
  ring_buffer__consume(rb);

  int counters = bpf_object__find_map_fd_by_name(obj, "counters");
  printf("events=%llu\nproduced=%llu\nring_full=%llu\ntable_full=%llu\n", events,
         counter_sum(counters, PROBE_CTR_SYS_PRODUCED), counter_sum(counters, PROBE_CTR_SYS_RING_FULL),
         counter_sum(counters, PROBE_CTR_SYS_TABLE_FULL));
  fflush(stdout);
  ring_buffer__free(rb);
  bpf_object__close(obj);
  return 0;
}
