/* Start and end of the shim in a process: configuration, fork handling and,
 * with PROBE_OUTPUT, the file. */
#define _GNU_SOURCE
#include <pthread.h>

#include "shim_internal.h"

struct shim_state probe_shim = {.out_fd = -1};

SHIM_HIDDEN void shim_resolve_libc(void);

__attribute__((constructor)) static void shim_start(void) {
  int saved = errno;
  shim_read_config();
  shim_resolve_libc();
  probe_shim.thread_key_ok = pthread_key_create(&probe_shim.thread_key, shim_thread_exit) == 0;
  pthread_atfork(NULL, NULL, shim_after_fork_child);
  probe_shim.start_ns = probe_monotonic_ns();
  if (probe_shim.self_drain) shim_file_open();
  __atomic_store_n(&probe_shim.ready, 1, __ATOMIC_RELEASE);
  probe_shim.fast = !probe_shim.self_drain && probe_shim.sample_every <= 1 &&
                    probe_shim.min_duration_ticks == 0 && probe_shim.first_per_second == 0;
  errno = saved;
}

/* Runs at exit() and at the end of main, not at _exit or a fatal signal:
 * with the agent, what was published is in the region it holds; with
 * PROBE_OUTPUT, what the threads had flushed is in the file. */
__attribute__((destructor)) static void shim_stop(void) {
  int saved = errno;
  if (probe_shim.self_drain) shim_file_finish();
  errno = saved;
}
