/* The process's shared region: a sealed memfd, mapped and then closed, so
 * the shim holds no fd the host could close or dup2 over. The agent gets it
 * through its socket (PROBE_AGENT_SOCKET) or finds it in /proc/PID/maps. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim_internal.h"

struct probe_shm_slot* shim_slot(struct probe_shm_header* h, uint32_t i) {
  return (struct probe_shm_slot*)((char*)h + probe_shm_slot_offset(h->nnames, h->slot_events, i));
}

struct probe_shm_event* shim_slot_events(struct probe_shm_slot* s) {
  return (struct probe_shm_event*)((char*)s + PROBE_SHM_SLOT_BYTES);
}

/* Interned names survive fork: call sites cached their ids in the parent. */
static void copy_names(struct probe_shm_header* to, const struct probe_shm_header* from) {
  uint32_t n = __atomic_load_n(&from->names_used, __ATOMIC_ACQUIRE);
  if (n > from->nnames) n = from->nnames;
  if (n > to->nnames) n = to->nnames;
  memcpy((char*)to + probe_shm_names_offset(), (const char*)from + probe_shm_names_offset(),
         (size_t)n * sizeof(struct probe_shm_name));
  to->names_used = n;
}

static struct probe_shm_header* create_region(void) {
  struct shim_state* s = &probe_shim;
  uint64_t bytes = probe_shm_total_bytes(SHIM_NAMES, s->nslots, s->slot_events);
  int fd = (int)syscall(SYS_memfd_create, PROBE_SHM_MEMFD_NAME, MFD_CLOEXEC | MFD_ALLOW_SEALING);
  if (fd < 0) return NULL;
  struct probe_shm_header* h = MAP_FAILED;
  if (syscall(SYS_ftruncate, fd, (long)bytes) == 0 &&
      syscall(SYS_fcntl, fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) == 0)
    h = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (h == MAP_FAILED) {
    syscall(SYS_close, fd);
    return NULL;
  }
  h->version = PROBE_SHM_VERSION;
  h->pid = (uint32_t)syscall(SYS_getpid);
  h->total_bytes = bytes;
  h->nslots = s->nslots;
  h->slot_events = s->slot_events;
  h->nnames = SHIM_NAMES;
  h->clock = s->clock;
  h->flags = s->self_drain ? PROBE_SHM_F_SELF_DRAINED : 0;
  h->sample_every = s->sample_every;
  h->min_duration_ns = s->min_duration_ns;
  h->first_per_second = s->first_per_second;
  h->functions = s->functions;
  if (s->inherited) {
    copy_names(h, s->inherited);
    munmap(s->inherited, s->inherited_bytes);
    s->inherited = NULL;
  }
  __atomic_store_n(&h->magic, PROBE_SHM_MAGIC, __ATOMIC_RELEASE);
  if (!s->self_drain && s->agent_socket[0]) shim_send_region_to_agent(fd);
  syscall(SYS_close, fd);
  s->region_bytes = bytes;
  return h;
}

struct probe_shm_header* shim_region(void) {
  struct shim_state* s = &probe_shim;
  struct probe_shm_header* h = __atomic_load_n(&s->region, __ATOMIC_ACQUIRE);
  if (h || s->region_failed) return h;
  /* One creator; the others wait for it. The creator makes a few syscalls
   * and takes no lock, and a signal handler on its own thread never gets
   * here (shim_record's busy flag), so the wait is short and cannot be on
   * ourselves. */
  while (__atomic_exchange_n(&s->creating, 1, __ATOMIC_ACQUIRE)) {
    syscall(SYS_sched_yield);
    h = __atomic_load_n(&s->region, __ATOMIC_ACQUIRE);
    if (h || s->region_failed) return h;
  }
  h = s->region;
  if (!h) {
    h = create_region();
    if (h)
      __atomic_store_n(&s->region, h, __ATOMIC_RELEASE);
    else
      s->region_failed = 1;
  }
  __atomic_store_n(&s->creating, 0, __ATOMIC_RELEASE);
  return h;
}

/* Only the forking thread lives on in the child, and its slot belongs to the
 * parent's region, which stays shared with the parent: start afresh. */
void shim_after_fork_child(void) {
  struct shim_state* s = &probe_shim;
  if (s->inherited) munmap(s->inherited, s->inherited_bytes);
  s->inherited = s->region;
  s->inherited_bytes = s->region_bytes;
  s->region = NULL;
  s->region_failed = 0;
  s->creating = 0;
  s->is_root = 0;
  for (uint32_t f = 0; f < PROBE_FN_COUNT; ++f) s->first_k_start[f] = s->first_k_count[f] = 0;
  __atomic_fetch_add(&s->generation, 1, __ATOMIC_RELEASE);
}
