/* The hot path: each thread owns one slot of the region, a single-producer
 * ring, so recording is a few stores and one release, with no lock, no
 * allocation and no syscall. */
#define _GNU_SOURCE
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "probe.h"
#include "shim_internal.h"

__thread struct shim_thread shim_tls __attribute__((tls_model("initial-exec")));

static int try_claim(struct probe_shm_slot* s, uint32_t from) {
  uint32_t expected = from;
  if (from == PROBE_SLOT_RETIRED &&
      (__atomic_load_n(&s->tail, __ATOMIC_ACQUIRE) != __atomic_load_n(&s->head, __ATOMIC_RELAXED) ||
       __atomic_load_n(&s->pid, __ATOMIC_RELAXED) != probe_shim.pid))
    return 0; /* its last owner's events are not drained yet, or its counters are another
                 process's (PROBE_OUTPUT shares a region across fork) */
  return __atomic_compare_exchange_n(&s->state, &expected, PROBE_SLOT_ACTIVE, 0, __ATOMIC_ACQ_REL,
                                     __ATOMIC_RELAXED);
}

static int claim_slot(struct shim_thread* t, struct probe_shm_header* h) {
  for (uint32_t pass = 0; pass < 2; ++pass) {
    uint32_t from = pass == 0 ? PROBE_SLOT_FREE : PROBE_SLOT_RETIRED;
    for (uint32_t i = 0; i < h->nslots; ++i) {
      struct probe_shm_slot* s = shim_slot(h, i);
      if (__atomic_load_n(&s->state, __ATOMIC_RELAXED) != from || !try_claim(s, from)) continue;
      /* gettid: the one syscall after load, once per thread (sandboxes allow it). */
      __atomic_store_n(&s->pid, probe_shim.pid, __ATOMIC_RELAXED);
      __atomic_store_n(&s->tid, (int32_t)syscall(SYS_gettid), __ATOMIC_RELEASE);
      uint32_t high = __atomic_load_n(&h->slots_high, __ATOMIC_RELAXED);
      while (high < i + 1 && !__atomic_compare_exchange_n(&h->slots_high, &high, i + 1, 1,
                                                          __ATOMIC_RELEASE, __ATOMIC_RELAXED)) {
      }
      t->slot = s;
      t->events = shim_slot_events(s);
      t->mask = h->slot_events - 1;
      t->generation = __atomic_load_n(&probe_shim.generation, __ATOMIC_ACQUIRE);
      /* The destructor runs only for threads with a non-NULL value. */
      if (probe_shim.thread_key_ok) pthread_setspecific(probe_shim.thread_key, s);
      return 1;
    }
  }
  return 0;
}

/* The thread's slot, claimed at its first event and again after a fork. */
static struct probe_shm_slot* thread_slot(struct shim_thread* t) {
  uint32_t gen = __atomic_load_n(&probe_shim.generation, __ATOMIC_ACQUIRE);
  if (t->slot && t->generation == gen) return t->slot;
  t->slot = NULL;
  struct probe_shm_header* h = __atomic_load_n(&probe_shim.region, __ATOMIC_ACQUIRE);
  if (!h) {
    if (probe_shim.inherited)
      __atomic_fetch_add(&probe_shim.inherited->lost_no_buffer, 1, __ATOMIC_RELAXED);
    else
      __atomic_fetch_add(&probe_shim.lost_no_region, 1, __ATOMIC_RELAXED);
    return NULL;
  }
  /* +1: 0 means never failed. A thread that found every slot taken looks
   * again every 1024 events, as threads exit and slots drain. */
  if (t->claim_failed_generation == gen + 1 && t->claim_backoff-- > 0) {
    __atomic_fetch_add(&h->lost_no_buffer, 1, __ATOMIC_RELAXED);
    return NULL;
  }
  if (!claim_slot(t, h)) {
    t->claim_failed_generation = gen + 1;
    t->claim_backoff = 1024;
    __atomic_fetch_add(&h->lost_no_buffer, 1, __ATOMIC_RELAXED);
    return NULL;
  }
  return t->slot;
}

/* The first K calls of each function per second, for the whole process: a
 * thread that sees the window over restarts it (a race at the boundary
 * loses a few counts, never a call's accounting). */
static int first_k_keeps(uint16_t fn, uint64_t now) {
  struct shim_state* s = &probe_shim;
  if (fn >= PROBE_FN_COUNT) return 1;
  uint64_t start = __atomic_load_n(&s->first_k_start[fn], __ATOMIC_RELAXED);
  if (now - start >= s->second_ticks &&
      __atomic_compare_exchange_n(&s->first_k_start[fn], &start, now, 0, __ATOMIC_RELAXED,
                                  __ATOMIC_RELAXED))
    __atomic_store_n(&s->first_k_count[fn], 0, __ATOMIC_RELAXED);
  return __atomic_fetch_add(&s->first_k_count[fn], 1, __ATOMIC_RELAXED) < s->first_per_second;
}

/* Whether a call is dropped by sampling, counted under its reason: 1-in-N
 * (every Nth call of the thread), then the minimum duration, then first K. */
static int sampled_out(struct shim_thread* t, struct probe_shm_slot* slot, uint16_t fn,
                       uint64_t start, uint64_t end) {
  const struct shim_state* s = &probe_shim;
  if (s->sample_every > 1 && (t->sample_counter++ % s->sample_every) != 0) return 1;
  if (s->min_duration_ticks && end - start < s->min_duration_ticks) {
    slot->sampled_min_duration++;
    return 1;
  }
  if (s->first_per_second && !first_k_keeps(fn, start)) {
    slot->sampled_first_k++;
    return 1;
  }
  return 0;
}

/* Self-drained threads flush their own slot when it is half full or holds
 * events older than about a second (a TSC-free check: the clock is ns). */
static void maybe_flush(struct shim_thread* t, struct probe_shm_slot* slot, uint64_t now) {
  uint64_t pending = slot->head - __atomic_load_n(&slot->tail, __ATOMIC_RELAXED);
  if (pending == 0) return;
  if (pending < (uint64_t)(t->mask + 1) / 2 && now - t->last_flush < 1000000000ull) return;
  t->last_flush = now;
  shim_file_drain_slot(slot);
}

/* The slow path of shim_record_inline: the first event of a thread, after a
 * fork, sampling, PROBE_OUTPUT, a signal handler inside the shim. It may
 * make syscalls (gettid at a thread's first event, PROBE_OUTPUT's flushes),
 * so it keeps errno. */
void shim_record(uint16_t kind, uint64_t start, uint64_t end, int64_t value, int32_t fd,
                 uint16_t aux, int is_call) {
  struct shim_thread* t = &shim_tls;
  if (!probe_shim.ready) return;
  int saved = errno;
  if (t->busy) { /* a signal handler interrupted this thread inside shim_record */
    t->nested_lost++;
    errno = saved;
    return;
  }
  t->busy = 1;
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  struct probe_shm_slot* slot = thread_slot(t);
  if (slot) {
    /* Only this thread writes seen/sampled_out/lost_full; the consumer reads
     * them, torn reads of a counter being harmless. */
    slot->seen += 1 + t->nested_lost;
    slot->lost_full += t->nested_lost;
    t->nested_lost = 0;
    if (is_call && sampled_out(t, slot, kind, start, end))
      slot->sampled_out++;
    else
      shim_store(t, slot, kind, start, end, value, fd, aux);
  }
  __atomic_signal_fence(__ATOMIC_SEQ_CST);
  t->busy = 0;
  if (slot && probe_shim.self_drain) maybe_flush(t, slot, start);
  errno = saved;
}

void shim_thread_exit(void* value) {
  struct shim_thread* t = &shim_tls;
  struct probe_shm_slot* slot = value;
  /* After fork, a slot of the parent's region (still shared with the
   * parent) must not be touched from the child. */
  if (!slot || slot != t->slot ||
      t->generation != __atomic_load_n(&probe_shim.generation, __ATOMIC_ACQUIRE))
    return;
  if (probe_shim.self_drain && probe_shim.region) shim_file_drain_slot(slot);
  t->slot = NULL;
  __atomic_store_n(&slot->state, PROBE_SLOT_RETIRED, __ATOMIC_RELEASE);
}

static uint32_t intern(struct probe_shm_header* h, const char* name) {
  /* Kept exact: Marker.name is bytes (probe-report escapes it for display). */
  size_t len = strnlen(name, PROBE_NAME_MAX);
  uint32_t used = __atomic_load_n(&h->names_used, __ATOMIC_ACQUIRE);
  struct probe_shm_name* names = (struct probe_shm_name*)((char*)h + probe_shm_names_offset());
  for (uint32_t i = 0; i < used && i < h->nnames; ++i) {
    if (__atomic_load_n(&names[i].ready, __ATOMIC_ACQUIRE) && names[i].len == len &&
        !memcmp(names[i].text, name, len))
      return i + 1;
  }
  /* Two threads interning one name at once may get two ids; the consumer
   * goes by the text, so that is harmless. */
  uint32_t i = __atomic_fetch_add(&h->names_used, 1, __ATOMIC_ACQ_REL);
  if (i >= h->nnames) {
    __atomic_store_n(&h->names_used, h->nnames, __ATOMIC_RELEASE);
    return 0;
  }
  memcpy(names[i].text, name, len);
  names[i].len = (uint32_t)len;
  __atomic_store_n(&names[i].ready, 1, __ATOMIC_RELEASE);
  return i + 1;
}

uint32_t shim_intern(const char* name) {
  struct probe_shm_header* h = __atomic_load_n(&probe_shim.region, __ATOMIC_ACQUIRE);
  return name && h ? intern(h, name) : 0;
}

/* The marker API (preload/probe.h). */
__attribute__((visibility("default"))) uint32_t probe_name(const char* name) {
  int saved = errno;
  uint32_t id = probe_shim.ready ? shim_intern(name) : 0;
  errno = saved;
  return id;
}

__attribute__((visibility("default"))) void probe_marker(uint32_t type, uint32_t name_id,
                                                         int64_t arg0, int64_t arg1) {
  if (type > PROBE_MARKER_END) return;
  if (name_id == 0 || name_id > 0xffff) {
    struct probe_shm_header* h = probe_shim.region;
    if (h) __atomic_fetch_add(&h->lost_no_name, 1, __ATOMIC_RELAXED);
    return;
  }
  int saved = errno;
  uint64_t now = shim_now();
  shim_record((uint16_t)(PROBE_EV_MARKER + type), now, (uint64_t)arg1, arg0, 0, (uint16_t)name_id,
              0);
  errno = saved;
}
