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

static struct probe_shm_header* create_region(const struct probe_shm_header* names_from) {
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
  h->pid = (uint32_t)s->pid;
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
  if (names_from) copy_names(h, names_from);
  __atomic_store_n(&h->magic, PROBE_SHM_MAGIC, __ATOMIC_RELEASE);
  if (!s->self_drain && s->agent_socket[0]) shim_send_region_to_agent(fd);
  syscall(SYS_close, fd);
  s->region_bytes = bytes;
  return h;
}

/* At load, in the constructor: the only time (with a fork child's handler)
 * the shim makes the syscalls a sandboxed host may forbid later. */
void shim_region_create(void) {
  struct probe_shm_header* h = create_region(NULL);
  __atomic_store_n(&probe_shim.region, h, __ATOMIC_RELEASE);
}

/* Runs in a fork child before fork returns to it. Only the forking thread
 * lives on there, and its slot belongs to the parent. With PROBE_OUTPUT the
 * child goes on in the parent's region (shared memory: the parent drains a
 * child that _exits) under a new slot; otherwise it makes its own region
 * now, so the agent can hold it after the child is gone. */
void shim_after_fork_child(void) {
  struct shim_state* s = &probe_shim;
  s->pid = (int32_t)syscall(SYS_getpid);
  s->is_root = 0;
  for (uint32_t f = 0; f < PROBE_FN_COUNT; ++f) s->first_k_start[f] = s->first_k_count[f] = 0;
  /* After the host installed a seccomp filter, memfd_create or socket may
   * kill the child: it makes no region, and counts in its parent's. */
  if (!s->self_drain && s->region && __atomic_load_n(&s->sandboxed, __ATOMIC_ACQUIRE)) {
    if (!s->inherited) {
      s->inherited = s->region;
      s->inherited_bytes = s->region_bytes;
    }
    s->region = NULL;
  } else if (!s->self_drain && s->region) {
    struct probe_shm_header* parent = s->region;
    uint64_t parent_bytes = s->region_bytes;
    struct probe_shm_header* own = create_region(parent); /* call sites cached name ids */
    if (own) {
      munmap(parent, parent_bytes);
    } else if (!s->inherited) { /* count our events as lost in the parent's region */
      s->inherited = parent;
      s->inherited_bytes = parent_bytes;
    }
    s->region = own;
  }
  __atomic_fetch_add(&s->generation, 1, __ATOMIC_RELEASE);
}
