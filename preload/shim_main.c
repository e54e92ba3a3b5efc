/* Start and end of the shim in a process: configuration, fork handling and,
 * with PROBE_OUTPUT, the file. */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim_internal.h"

struct shim_state probe_shim = {.out_fd = -1};

SHIM_HIDDEN void shim_resolve_libc(void);

__attribute__((constructor)) static void shim_start(void) {
  int saved = errno;
  shim_read_config();
  probe_shim.pid = (int32_t)syscall(SYS_getpid);
  shim_resolve_libc();
  probe_shim.thread_key_ok = pthread_key_create(&probe_shim.thread_key, shim_thread_exit) == 0;
  pthread_atfork(NULL, NULL, shim_after_fork_child);
  probe_shim.start_ns = probe_monotonic_ns();
  int wanted_file = probe_shim.self_drain;
  if (wanted_file) shim_file_open();
  /* The region now, not at the first call: by then the host may have
   * forbidden memfd_create or socket (a seccomp sandbox), and a killed
   * syscall kills the host. Not at all under PROBE_SANDBOXED: an ancestor
   * installed a seccomp filter after its shim loaded, and this program
   * inherited it (shim_sandbox.c). */
  const char* sandboxed = getenv("PROBE_SANDBOXED");
  probe_shim.sandboxed = sandboxed && *sandboxed == '1';
  if ((!wanted_file || probe_shim.self_drain) && !probe_shim.sandboxed) shim_region_create();
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
