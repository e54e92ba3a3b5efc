/* A hostile shim: publishes a region that looks like the shim's (a sealed
 * memfd named probe-shim with a valid header) and then, while the agent
 * drains it, rewrites its heads, tids, names and events with random bytes.
 * Also maps an unsealed look-alike, which the agent must refuse to map (a
 * writer could shrink it and fault the reader). The agent must not crash,
 * must count violations, and must keep serving other targets.
 *
 * usage: shim_hostile SECONDS */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "probe_shm.h"

enum { NSLOTS = 4, SLOT_EVENTS = 64, NNAMES = 8 };

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint8_t* make_region(uint64_t bytes, int seal) {
  int fd = memfd_create(PROBE_SHM_MEMFD_NAME, MFD_ALLOW_SEALING);
  if (fd < 0 || ftruncate(fd, (off_t)bytes) != 0) return NULL;
  if (seal && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW) != 0) return NULL;
  uint8_t* p = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return NULL;
  struct probe_shm_header* h = (struct probe_shm_header*)p;
  h->version = PROBE_SHM_VERSION;
  h->pid = (uint32_t)getpid();
  h->total_bytes = bytes;
  h->nslots = NSLOTS;
  h->slot_events = SLOT_EVENTS;
  h->nnames = NNAMES;
  h->clock = PROBE_CLOCK_MONOTONIC;
  h->sample_every = 1;
  h->magic = PROBE_SHM_MAGIC;
  return p;
}

int main(int argc, char** argv) {
  double seconds = argc > 1 ? atof(argv[1]) : 2;
  uint64_t bytes = probe_shm_total_bytes(NNAMES, NSLOTS, SLOT_EVENTS);
  uint8_t* region = make_region(bytes, 1);
  uint8_t* unsealed = make_region(bytes, 0);
  if (!region || !unsealed) {
    perror("shim_hostile: region");
    return 2;
  }
  printf("shim_hostile pid=%d\n", getpid());
  fflush(stdout);
  srand(42);
  uint64_t start = now_ns(), end = start + (uint64_t)(seconds * 1e9);
  uint64_t rewrites = 0;
  while (now_ns() < end) {
    /* For the first 1.2 s the header stays valid, so the agent (which scans
     * maps once a second) maps the region and drains garbage; later the
     * header is scribbled too, which must not matter: its geometry was
     * read once. */
    uint64_t first = now_ns() - start < 1200000000ull ? PROBE_SHM_HEADER_BYTES : 0;
    uint64_t off = first + (uint64_t)rand() % (bytes - first);
    uint64_t v = ((uint64_t)rand() << 32) | (uint64_t)rand();
    if (off + 8 <= bytes) memcpy(region + off, &v, 8);
    struct probe_shm_slot* s =
        (struct probe_shm_slot*)(region +
                                 probe_shm_slot_offset(NNAMES, SLOT_EVENTS, rand() % NSLOTS));
    switch (rand() % 4) {
      case 0:
        s->head = v;
        break; /* far ahead or behind */
      case 1:
        s->head = s->tail + (uint64_t)(rand() % 80); /* plausible, garbage events */
        break;
      case 2:
        s->tid = (int32_t)v;
        break;
      case 3:
        ((struct probe_shm_header*)region)->slots_high = (uint32_t)v;
        break;
    }
    ++rewrites;
    if (rewrites % 64 == 0) usleep(100);
  }
  printf("shim_hostile rewrites=%llu\n", (unsigned long long)rewrites);
  return 0;
}
