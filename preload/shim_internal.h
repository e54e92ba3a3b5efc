/* Internals of libprobe_preload.so. Everything here has hidden visibility
 * (-fvisibility=hidden and a version script): only the wrapped functions and
 * probe_name/probe_marker leave the library.
 *
 * The shim's process-wide state is one struct, shim_state: it lives in the
 * host process, which has no other place to keep it. */
#ifndef PROBE_PRELOAD_SHIM_INTERNAL_H_
#define PROBE_PRELOAD_SHIM_INTERNAL_H_

#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

#include "probe_clock.h"
#include "probe_shm.h"

#define SHIM_HIDDEN __attribute__((visibility("hidden")))
#define SHIM_MAX_TRACKED_FD 65536 /* eventfds above this are not recognised */
/* The region is made when the shim loads, before the host can forbid the
 * syscalls that make it, so its size is fixed then: 128 threads of 4096
 * events (128 KiB each) is 16 MiB of address space a process, touched only
 * as threads record. PROBE_THREADS and PROBE_BUFFER_EVENTS change it. */
#define SHIM_DEFAULT_SLOTS 128u
#define SHIM_DEFAULT_SLOT_EVENTS 4096u /* 128 KiB a thread: 400 k events/s at a 10 ms drain */
#define SHIM_NAMES 256u
#define SHIM_PATH_MAX 1024

struct shim_state {
  int ready;                   /* configuration read; wrappers record only after */
  int fast;                    /* ready, no sampling, no PROBE_OUTPUT: the inline path may record */
  uint32_t functions;          /* bit (1 << PROBE_FN_*) per function to time */
  uint32_t sample_every;       /* PROBE_SAMPLE */
  uint64_t min_duration_ns;    /* PROBE_MIN_DURATION */
  uint64_t min_duration_ticks; /* the same in the clock's units */
  uint32_t first_per_second;   /* PROBE_FIRST_PER_SECOND: per function, per process */
  uint64_t second_ticks;       /* one second in the clock's units */
  /* The current one-second window of each function (start, calls kept):
   * process-wide, updated with atomics by any thread. */
  uint64_t first_k_start[PROBE_FN_COUNT];
  uint64_t first_k_count[PROBE_FN_COUNT];
  uint32_t clock;       /* PROBE_CLOCK_* */
  uint32_t nslots;      /* PROBE_THREADS */
  uint32_t slot_events; /* PROBE_BUFFER_EVENTS */
  int32_t pid;          /* this process, read at load and in a fork child */
  /* The region, made at load (and in a fork child before fork returns):
   * never later, when the host may have forbidden memfd_create or socket
   * (seccomp). NULL if it could not be made: events are then counted as
   * lost for want of a buffer. With PROBE_OUTPUT a fork child shares its
   * parent's region (each slot says its pid), so a child that ends in
   * _exit leaves its events where its parent drains them. */
  struct probe_shm_header* region;
  uint64_t region_bytes;
  uint32_t generation; /* bumped in a fork child: the parent's slots are not ours */
  /* A fork child whose own region could not be made keeps its parent's
   * mapping to count its events as lost there. */
  struct probe_shm_header* inherited;
  uint64_t inherited_bytes;
  int sandboxed;            /* a seccomp filter was installed after load (shim_sandbox.c) */
  uint64_t lost_no_region;  /* events of a process with no region at all (atomic) */
  pthread_key_t thread_key; /* its destructor retires a thread's slot */
  int thread_key_ok;
  char agent_socket[108]; /* PROBE_AGENT_SOCKET: where to send a new region */
  /* PROBE_OUTPUT: the shim writes its own record file. */
  int self_drain;
  int is_root; /* wrote the header; writes the trailer */
  int out_fd;  /* -1: none held (RLIMIT_NOFILE too small), opened per write */
  dev_t out_dev;
  ino_t out_ino;
  char out_path[SHIM_PATH_MAX];
  uint64_t start_ns;
  /* fds this process made with eventfd() (and dup'd from them), so read and
   * write are timed only on eventfds with one bit test and no syscall. */
  uint32_t eventfd_bits[SHIM_MAX_TRACKED_FD / 32];
};

SHIM_HIDDEN extern struct shim_state probe_shim;

struct shim_thread {
  struct probe_shm_slot* slot;
  struct probe_shm_event* events;
  uint32_t mask;
  uint32_t generation;
  uint32_t busy; /* inside a record: a signal handler's event is counted, not written */
  uint32_t claim_failed_generation; /* no free slot: do not rescan on every event */
  uint32_t claim_backoff;           /* events until the next rescan */
  uint64_t nested_lost;
  uint64_t sample_counter;
  uint64_t last_flush;
};

SHIM_HIDDEN extern __thread struct shim_thread shim_tls __attribute__((tls_model("initial-exec")));

/* shim_config.c */
SHIM_HIDDEN void shim_read_config(void);

/* shim_thread.c: the per-thread slot and the hot path. */
SHIM_HIDDEN void shim_record(uint16_t kind, uint64_t start, uint64_t end, int64_t value, int32_t fd,
                             uint16_t aux, int is_call);
SHIM_HIDDEN void shim_thread_exit(void* slot);
SHIM_HIDDEN uint32_t shim_intern(const char* name);

/* shim_region.c */
SHIM_HIDDEN void shim_region_create(void);
SHIM_HIDDEN void shim_after_fork_child(void);
SHIM_HIDDEN struct probe_shm_slot* shim_slot(struct probe_shm_header* h, uint32_t i);
SHIM_HIDDEN struct probe_shm_event* shim_slot_events(struct probe_shm_slot* s);

/* shim_agent_link.c */
SHIM_HIDDEN void shim_send_region_to_agent(int memfd);

/* shim_file.c (PROBE_OUTPUT) */
SHIM_HIDDEN void shim_file_open(void);
SHIM_HIDDEN void shim_file_drain_slot(struct probe_shm_slot* s);
SHIM_HIDDEN void shim_file_finish(void);

/* shim_outfile.c: PROBE_OUTPUT's file and fd. */
SHIM_HIDDEN int shim_outfile_open(int* is_root);
SHIM_HIDDEN int shim_outfile_fd(int* transient);

/* Timestamps in the region's clock. */
static inline uint64_t shim_now(void) {
  return probe_shim.clock == PROBE_CLOCK_TSC ? probe_rdtsc() : probe_monotonic_ns();
}

static inline int shim_timed(uint32_t fn) { return (probe_shim.functions >> fn) & 1u; }

static inline int shim_is_eventfd(int fd) {
  if (fd < 0 || fd >= SHIM_MAX_TRACKED_FD) return 0;
  return (__atomic_load_n(&probe_shim.eventfd_bits[fd / 32], __ATOMIC_RELAXED) >> (fd % 32)) & 1u;
}

static inline void shim_set_eventfd(int fd, int on) {
  if (fd < 0 || fd >= SHIM_MAX_TRACKED_FD) return;
  uint32_t bit = 1u << (fd % 32);
  if (on)
    __atomic_fetch_or(&probe_shim.eventfd_bits[fd / 32], bit, __ATOMIC_RELAXED);
  else
    __atomic_fetch_and(&probe_shim.eventfd_bits[fd / 32], ~bit, __ATOMIC_RELAXED);
}

/* Writes one event into the thread's ring and publishes it, or counts it
 * lost when the consumer has not freed the space. */
static inline __attribute__((always_inline)) void shim_store(struct shim_thread* t,
                                                             struct probe_shm_slot* slot,
                                                             uint16_t kind, uint64_t start,
                                                             uint64_t end, int64_t value,
                                                             int32_t fd, uint16_t aux) {
  uint64_t head = slot->head;
  if (__builtin_expect(head - __atomic_load_n(&slot->tail, __ATOMIC_ACQUIRE) > t->mask, 0)) {
    slot->lost_full++;
    return;
  }
  struct probe_shm_event* e = &t->events[head & t->mask];
  e->start = start;
  e->end = end;
  e->value = value;
  e->fd = fd;
  e->kind = kind;
  e->aux = aux;
  __atomic_store_n(&slot->head, head + 1, __ATOMIC_RELEASE);
}

/* The common case, inlined into each wrapper: the thread has its slot, no
 * sampling, no file to flush. A few stores and one release, no call, and
 * nothing that can touch errno; everything else goes to shim_record. */
static inline __attribute__((always_inline)) void shim_record_inline(uint16_t kind, uint64_t start,
                                                                     uint64_t end, int64_t value,
                                                                     int32_t fd, uint16_t aux,
                                                                     int is_call) {
  struct shim_thread* t = &shim_tls;
  struct probe_shm_slot* slot = t->slot;
  if (__builtin_expect(
          !probe_shim.fast || !slot || t->busy || t->nested_lost ||
              t->generation != __atomic_load_n(&probe_shim.generation, __ATOMIC_RELAXED),
          0)) {
    shim_record(kind, start, end, value, fd, aux, is_call);
    return;
  }
  t->busy = 1;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  slot->seen++;
  shim_store(t, slot, kind, start, end, value, fd, aux);
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  t->busy = 0;
}

/* Records a finished call. errno is read only when the call failed, and the
 * inline path never changes it. */
static inline __attribute__((always_inline)) void shim_call_done(uint16_t fn, uint64_t start,
                                                                 int64_t result, int32_t fd) {
  uint64_t end = shim_now();
  shim_record_inline(fn, start, end, result, fd, result < 0 ? (uint16_t)errno : 0, 1);
}

#endif /* PROBE_PRELOAD_SHIM_INTERNAL_H_ */
