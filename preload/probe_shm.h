/* The shared region between the shim (producer, inside the traced process)
 * and its consumer (probe-agent, or the shim itself with PROBE_OUTPUT).
 * Shared by C and C++; fixed-width fields, explicit padding.
 *
 * The region is a sealed memfd named PROBE_SHM_MEMFD_NAME (it cannot shrink
 * or grow once sized, so a mapping never faults). Layout:
 *
 *   probe_shm_header                      (PROBE_SHM_HEADER_BYTES)
 *   probe_shm_name[nnames]                marker name table
 *   { probe_shm_slot, probe_shm_event[slot_events] } [nslots]
 *
 * One slot per live thread; each is a single-producer single-consumer ring:
 * the owning thread writes events and then advances head (release); the
 * consumer reads [tail, head) and then advances tail. head and tail count
 * events since the slot was created and never wrap; index = count &
 * (slot_events - 1).
 *
 * The consumer trusts nothing here: geometry is read once and checked
 * against the file's size, head is bounded by its own tail + slot_events,
 * and every event is copied out before it is looked at. */
#ifndef PROBE_PRELOAD_PROBE_SHM_H_
#define PROBE_PRELOAD_PROBE_SHM_H_

#include <stddef.h>
#include <stdint.h>

#define PROBE_SHM_MAGIC 0x314d485345424f52ull /* "ROBESHM1" little-endian */
#define PROBE_SHM_VERSION 1u
#define PROBE_SHM_MEMFD_NAME "probe-shim"
#define PROBE_SHM_HEADER_BYTES 256u
#define PROBE_SHM_SLOT_BYTES 128u /* control block before each slot's events */
#define PROBE_SHM_MAX_SLOTS 4096u
#define PROBE_SHM_MAX_SLOT_EVENTS (1u << 20)
#define PROBE_SHM_MAX_NAMES 4096u
#define PROBE_SHM_NAME_TEXT 56u
/* The consumer maps no more; the shim gives a process fewer slots rather
 * than exceed it when PROBE_BUFFER_EVENTS is large. */
#define PROBE_SHM_MAX_BYTES (1ull << 30)

/* probe_shm_header.clock */
enum { PROBE_CLOCK_MONOTONIC = 1, PROBE_CLOCK_TSC = 2 };

/* probe_shm_header.flags */
enum {
  PROBE_SHM_F_SELF_DRAINED = 1u << 0, /* PROBE_OUTPUT: the shim writes its own file */
};

/* probe_shm_slot.state */
enum { PROBE_SLOT_FREE = 0, PROBE_SLOT_ACTIVE = 1, PROBE_SLOT_RETIRED = 2 };

/* probe_shm_event.kind: 1..PROBE_FN_COUNT-1 are wrapped functions (the
 * values of ShimFunction in probe.proto); markers are 0x100 + MarkerType. */
enum {
  PROBE_FN_SELECT = 1,
  PROBE_FN_PSELECT = 2,
  PROBE_FN_POLL = 3,
  PROBE_FN_PPOLL = 4,
  PROBE_FN_EPOLL_WAIT = 5,
  PROBE_FN_EPOLL_PWAIT = 6,
  PROBE_FN_EPOLL_PWAIT2 = 7,
  PROBE_FN_EVENTFD = 8,
  PROBE_FN_EVENTFD_READ = 9,
  PROBE_FN_EVENTFD_WRITE = 10,
  PROBE_FN_READ = 11,
  PROBE_FN_WRITE = 12,
  PROBE_FN_COUNT = 13,
  PROBE_EV_MARKER = 0x100, /* + PROBE_MARKER_INSTANT/BEGIN/END */
};

struct probe_shm_header {
  uint64_t magic;
  uint32_t version;
  uint32_t pid;         /* the creating process (informational: the
                           consumer knows whose region it mapped) */
  uint64_t total_bytes; /* size of the memfd */
  uint32_t nslots;
  uint32_t slot_events; /* power of two */
  uint32_t nnames;
  uint32_t clock;            /* PROBE_CLOCK_* */
  uint32_t flags;            /* PROBE_SHM_F_* */
  uint32_t sample_every;     /* 1 = every call */
  uint64_t min_duration_ns;  /* calls shorter than this are sampled out */
  uint32_t functions;        /* bit (1 << PROBE_FN_*) per wrapped function */
  uint32_t names_used;       /* entries claimed in the name table (atomic) */
  uint64_t lost_no_buffer;   /* events of threads that found no free slot (atomic) */
  uint64_t lost_no_name;     /* markers dropped: name table full (atomic) */
  uint32_t slots_high;       /* slots [0, slots_high) were ever claimed (atomic max):
                                the consumer never touches the pages of the others */
  uint32_t first_per_second; /* per (process, function) per second, 0 = all */
  uint8_t reserved[PROBE_SHM_HEADER_BYTES - 88];
};

struct probe_shm_name {
  uint32_t ready; /* set (release) after text and len are written */
  uint32_t len;
  char text[PROBE_SHM_NAME_TEXT];
};

struct probe_shm_slot {
  /* producer's cache line */
  uint32_t state; /* PROBE_SLOT_* */
  int32_t tid;
  uint64_t head;                 /* events published */
  uint64_t seen;                 /* calls and markers seen by this thread */
  uint64_t sampled_out;          /* of seen, dropped by sampling (the three reasons below) */
  uint64_t lost_full;            /* of seen, dropped: ring full */
  uint64_t sampled_min_duration; /* of sampled_out: shorter than PROBE_MIN_DURATION */
  uint64_t sampled_first_k;      /* of sampled_out: past PROBE_FIRST_PER_SECOND */
  int32_t pid;                   /* the owning thread's process (the agent ignores it: with
                                    PROBE_OUTPUT one region serves a process and its forks) */
  uint8_t pad0[4];
  /* consumer's cache line */
  uint64_t tail;       /* events consumed */
  uint32_t drain_lock; /* PROBE_OUTPUT: one draining thread at a time (the agent ignores it) */
  uint8_t pad_lock[4];
  /* PROBE_OUTPUT: of the events consumed, written to the file and refused
   * by it; counted by whichever process drained them (the agent ignores
   * both and counts its own). */
  uint64_t written;
  uint64_t lost_write;
  uint8_t pad1[32];
};

/* 32 bytes. Calls: start/end are entry/exit timestamps in the region's clock,
 * value the result, fd as in ShimCall.fd, aux the errno. Markers: start is
 * the time, end and value the two arguments, aux the name id. */
struct probe_shm_event {
  uint64_t start;
  uint64_t end;
  int64_t value;
  int32_t fd;
  uint16_t kind;
  uint16_t aux;
};

#ifdef __cplusplus
static_assert(sizeof(probe_shm_header) == PROBE_SHM_HEADER_BYTES, "header layout");
static_assert(sizeof(probe_shm_name) == 64, "name layout");
static_assert(sizeof(probe_shm_slot) == PROBE_SHM_SLOT_BYTES, "slot layout");
static_assert(sizeof(probe_shm_event) == 32, "event layout");
#else
_Static_assert(sizeof(struct probe_shm_header) == PROBE_SHM_HEADER_BYTES, "header layout");
_Static_assert(sizeof(struct probe_shm_name) == 64, "name layout");
_Static_assert(sizeof(struct probe_shm_slot) == PROBE_SHM_SLOT_BYTES, "slot layout");
_Static_assert(sizeof(struct probe_shm_event) == 32, "event layout");
#endif

/* The name of a wrapped function (the words of PROBE_FUNCTIONS, and
 * ShimProcess.functions), or NULL. */
static inline const char* probe_fn_name(uint32_t fn) {
  switch (fn) {
    case PROBE_FN_SELECT:
      return "select";
    case PROBE_FN_PSELECT:
      return "pselect";
    case PROBE_FN_POLL:
      return "poll";
    case PROBE_FN_PPOLL:
      return "ppoll";
    case PROBE_FN_EPOLL_WAIT:
      return "epoll_wait";
    case PROBE_FN_EPOLL_PWAIT:
      return "epoll_pwait";
    case PROBE_FN_EPOLL_PWAIT2:
      return "epoll_pwait2";
    case PROBE_FN_EVENTFD:
      return "eventfd";
    case PROBE_FN_EVENTFD_READ:
      return "eventfd_read";
    case PROBE_FN_EVENTFD_WRITE:
      return "eventfd_write";
    case PROBE_FN_READ:
      return "read";
    case PROBE_FN_WRITE:
      return "write";
    default:
      return (const char*)0;
  }
}

/* The functions set in bits (1 << PROBE_FN_*), comma-separated, into out
 * (cap bytes, always terminated; names that do not fit are left out). */
static inline void probe_fn_list(uint32_t bits, char* out, size_t cap) {
  size_t n = 0;
  if (cap == 0) return;
  for (uint32_t f = 1; f < PROBE_FN_COUNT; ++f) {
    const char* name = probe_fn_name(f);
    if (!(bits & (1u << f)) || !name) continue;
    size_t len = __builtin_strlen(name);
    if (n + len + 2 > cap) break;
    if (n) out[n++] = ',';
    __builtin_memcpy(out + n, name, len);
    n += len;
  }
  out[n] = '\0';
}

/* Byte offsets, computed the same way by both sides (64-bit arithmetic, so
 * the consumer's check against total_bytes cannot overflow). */
static inline uint64_t probe_shm_names_offset(void) { return PROBE_SHM_HEADER_BYTES; }
static inline uint64_t probe_shm_slot_stride(uint32_t slot_events) {
  return PROBE_SHM_SLOT_BYTES + (uint64_t)slot_events * 32u;
}
static inline uint64_t probe_shm_slot_offset(uint32_t nnames, uint32_t slot_events, uint32_t i) {
  return PROBE_SHM_HEADER_BYTES + (uint64_t)nnames * 64u +
         (uint64_t)i * probe_shm_slot_stride(slot_events);
}
static inline uint64_t probe_shm_total_bytes(uint32_t nnames, uint32_t nslots,
                                             uint32_t slot_events) {
  return probe_shm_slot_offset(nnames, slot_events, nslots);
}

#endif /* PROBE_PRELOAD_PROBE_SHM_H_ */
