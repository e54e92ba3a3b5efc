/* Single-threaded microbenchmark of the LD_PRELOAD shim's hot paths
 * (bench/shim_bench.py runs it bare and under the shim's variants).
 *
 *   shim_bench [--reps R] [--cpu C] [--gap-us G] [--prefault] MODE N [MODE N ...]
 *
 * Modes, each run as one warm-up pass of N/10 iterations and then R timed
 * passes of N iterations (clock_gettime around each pass):
 *   pairs N    N x (eventfd_write(efd, 1); eventfd_read(efd, &v)) on one
 *              non-blocking eventfd (never blocks: the write makes it readable).
 *              Each timed pass is paired with a "direct" pass calling glibc's
 *              own eventfd_write/eventfd_read through pointers from
 *              dlopen("libc.so.6") (so never the shim's, even preloaded), the
 *              two in alternating order: ns_per_pair_direct, and
 *              ns_per_pair_ab, the median over passes of (wrapped - direct),
 *              and ns_per_pair_ab_min, fastest wrapped - fastest direct pass:
 *              an in-process A/B immune to drift between processes. Without
 *              the shim both sides are glibc's and ns_per_pair_ab is ~0 (the
 *              control).
 *   markers N  N x PROBE_MARK("bench", i, 0)
 *   empty N    the same loop with nothing in it (loop overhead)
 *   rdtsc N    N x rdtsc, and clock N: N x clock_gettime(CLOCK_MONOTONIC):
 *              what one of the shim's timestamps costs on this machine (TSC
 *              under the agent, clock_gettime when self-drained)
 *
 * --gap-us G: sleep G microseconds before each timed pass (outside the
 * timing), so a consumer that drains the rings periodically (the agent: every
 * ~10 ms) empties the ring between passes: a pass of at most ring-size events
 * then loses nothing however fast it produces them.
 *
 * Prints key=value lines: ns_per_pair / ns_per_marker / ns_per_iter (the
 * fastest pass; ns_per_rdtsc / ns_per_clock for the clock modes), the same with _med (the median pass), and the totals of
 * executed iterations including the warm-up (pairs_total, markers_total) so a
 * recording can be checked for completeness: it holds 2 * pairs_total + 1
 * shim calls (the +1 is the eventfd() that made efd) and markers_total
 * markers. Then the shim's own counters read from its region (shim_seen,
 * shim_published, shim_lost_full, ...; shim_region=0 without the shim): with
 * no consumer they show whether the ring filled.
 *
 * --prefault: after the shim's region exists (it is created at the first
 * wrapped call, the eventfd()), fault in the start of its mapping up to the
 * end of slot 0 (this thread's ring) or as far as this run's events reach
 * (MADV_POPULATE_WRITE, which changes no content), so a ring that is written
 * for the first time does not take a page fault every 128 events, as in a
 * long-running process whose ring has wrapped. Bench-only: the shim is not
 * touched, only pages it would write anyway.
 *
 * Compile: gcc -O2 -I preload bench/shim_bench.c -o shim_bench -ldl */
#define _GNU_SOURCE
#include <errno.h>
#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>

#include "probe.h"
#include "probe_shm.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void* a, const void* b) {
  double x = *(const double*)a, y = *(const double*)b;
  return (x > y) - (x < y);
}

static int efd = -1;
static uint64_t errors;

static void run_pairs(uint64_t n) {
  eventfd_t v;
  for (uint64_t i = 0; i < n; ++i) {
    if (eventfd_write(efd, 1) != 0) ++errors;
    if (eventfd_read(efd, &v) != 0) ++errors;
  }
}

typedef int (*efd_write_fn)(int, eventfd_t);
typedef int (*efd_read_fn)(int, eventfd_t*);
static efd_write_fn direct_write;
static efd_read_fn direct_read;

static void run_pairs_direct(uint64_t n) {
  eventfd_t v;
  for (uint64_t i = 0; i < n; ++i) {
    if (direct_write(efd, 1) != 0) ++errors;
    if (direct_read(efd, &v) != 0) ++errors;
  }
}

static void run_markers(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) PROBE_MARK("bench", i, 0);
}

static void run_empty(uint64_t n) {
  for (uint64_t i = 0; i < n; ++i) __asm__ __volatile__("" : : "r"(i) : "memory");
}

static void run_rdtsc(uint64_t n) {
#if defined(__x86_64__) || defined(__i386__)
  for (uint64_t i = 0; i < n; ++i) {
    uint32_t lo, hi;
    __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
  }
#else
  (void)n;
#endif
}

static void run_clock(uint64_t n) {
  struct timespec ts;
  for (uint64_t i = 0; i < n; ++i) clock_gettime(CLOCK_MONOTONIC, &ts);
}

/* The shim's region as mapped in this process (the memfd "probe-shim" in
 * /proc/self/maps), or NULL when there is none (no shim, or no event yet). */
static void* find_region(uint64_t* len) {
  FILE* f = fopen("/proc/self/maps", "r");
  if (!f) return NULL;
  char line[512];
  void* found = NULL;
  while (fgets(line, sizeof(line), f)) {
    unsigned long lo, hi;
    if (!strstr(line, "memfd:" PROBE_SHM_MEMFD_NAME) || sscanf(line, "%lx-%lx", &lo, &hi) != 2)
      continue;
    found = (void*)lo;
    *len = hi - lo;
    break;
  }
  fclose(f);
  return found;
}

/* The shim's own counters, summed over the slots, read from the region: they
 * tell whether a ring that nobody drains filled up (lost_full) in variants
 * that leave no file to count records in. */
static void print_region_counters(void) {
  uint64_t len = 0;
  const struct probe_shm_header* h = find_region(&len);
  if (!h || len < PROBE_SHM_HEADER_BYTES || h->magic != PROBE_SHM_MAGIC) {
    printf("shim_region=0\n");
    return;
  }
  uint64_t seen = 0, published = 0, lost_full = 0, sampled_out = 0;
  for (uint32_t i = 0; i < h->nslots; ++i) {
    uint64_t off = probe_shm_slot_offset(h->nnames, h->slot_events, i);
    if (off + PROBE_SHM_SLOT_BYTES > len) break;
    const struct probe_shm_slot* s = (const struct probe_shm_slot*)((const char*)h + off);
    if (__atomic_load_n(&s->state, __ATOMIC_ACQUIRE) == PROBE_SLOT_FREE) continue;
    seen += s->seen;
    published += __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
    lost_full += s->lost_full;
    sampled_out += s->sampled_out;
  }
  printf("shim_region=1\nshim_clock=%s\nshim_slot_events=%u\nshim_seen=%" PRIu64
         "\nshim_published=%" PRIu64 "\nshim_lost_full=%" PRIu64 "\nshim_sampled_out=%" PRIu64
         "\nshim_lost_no_buffer=%" PRIu64 "\n",
         h->clock == PROBE_CLOCK_TSC ? "tsc" : "monotonic", h->slot_events, seen, published,
         lost_full, sampled_out, h->lost_no_buffer);
}

/* Populates the start of the mapping of the shim's region (the memfd
 * "probe-shim"), found in /proc/self/maps. Returns the bytes populated. */
static uint64_t prefault_region(uint64_t want) {
  uint64_t len = 0;
  const struct probe_shm_header* h = find_region(&len);
  if (!h || len < PROBE_SHM_HEADER_BYTES || h->magic != PROBE_SHM_MAGIC) return 0;
  uint64_t slot0_end = probe_shm_slot_offset(h->nnames, h->slot_events, 1);
  if (want > slot0_end) want = slot0_end;
  if (len > want) len = want;
  return madvise((void*)h, len, MADV_POPULATE_WRITE) == 0 ? len : 0;
}

int main(int argc, char** argv) {
  int reps = 7, cpu = -1, prefault = 0;
  long gap_us = 0;
  int i = 1;
  for (; i < argc && argv[i][0] == '-'; ++i) {
    if (!strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
      cpu = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--gap-us") && i + 1 < argc)
      gap_us = atol(argv[++i]);
    else if (!strcmp(argv[i], "--prefault"))
      prefault = 1;
    else
      break;
  }
  if (i >= argc || (argc - i) % 2 != 0 || reps < 1 || reps > 1000) {
    fprintf(stderr,
            "usage: shim_bench [--reps R] [--cpu C] [--gap-us G] [--prefault] {pairs|markers|empty|rdtsc|clock} N "
            "[MODE N ...]\n");
    return 2;
  }
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set) != 0) perror("sched_setaffinity");
  }
  /* Made up front (and counted once) even when no mode uses it, so every
   * run's record count has the same +1. */
  efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) {
    perror("eventfd");
    return 1;
  }
  void* libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
  if (libc) {
    direct_write = (efd_write_fn)dlsym(libc, "eventfd_write");
    direct_read = (efd_read_fn)dlsym(libc, "eventfd_read");
  }
  if (!direct_write || !direct_read) {
    fprintf(stderr, "shim_bench: glibc's eventfd_write/eventfd_read not found\n");
    return 1;
  }
  if (prefault) {
    /* Enough for every event this run makes (32 bytes each) plus the header,
     * name table and slot header, rounded up generously. */
    uint64_t events = 0;
    for (int j = i; j + 1 < argc; j += 2) {
      uint64_t n = strtoull(argv[j + 1], NULL, 10);
      events += (n / 10 + n * (uint64_t)reps) * (strcmp(argv[j], "pairs") == 0 ? 2 : 1);
    }
    uint64_t bytes = prefault_region(64 * 1024 + events * 32 + 64 * 1024);
    printf("prefaulted_bytes=%" PRIu64 "\n", bytes);
  }
  uint64_t pairs_total = 0, markers_total = 0;
  for (; i + 1 < argc; i += 2) {
    const char* mode = argv[i];
    uint64_t n = strtoull(argv[i + 1], NULL, 10);
    void (*fn)(uint64_t);
    const char* key;
    if (!strcmp(mode, "pairs")) {
      fn = run_pairs, key = "ns_per_pair";
      pairs_total += n / 10 + n * (uint64_t)reps;
    } else if (!strcmp(mode, "markers")) {
      fn = run_markers, key = "ns_per_marker";
      markers_total += n / 10 + n * (uint64_t)reps;
    } else if (!strcmp(mode, "empty")) {
      fn = run_empty, key = "ns_per_iter";
    } else if (!strcmp(mode, "rdtsc")) {
      fn = run_rdtsc, key = "ns_per_rdtsc";
    } else if (!strcmp(mode, "clock")) {
      fn = run_clock, key = "ns_per_clock";
    } else {
      fprintf(stderr, "shim_bench: unknown mode %s\n", mode);
      return 2;
    }
    if (n == 0) continue;
    int ab = fn == run_pairs;
    fn(n / 10); /* warm-up: caches, branch predictors, the marker's name id */
    if (ab) run_pairs_direct(n / 10);
    double per[1000], direct[1000], diff[1000];
    for (int r = 0; r < reps; ++r) {
      if (gap_us > 0) {
        struct timespec gap = {gap_us / 1000000, (gap_us % 1000000) * 1000};
        while (nanosleep(&gap, &gap) != 0 && errno == EINTR) {
        }
      }
      for (int side = 0; side < (ab ? 2 : 1); ++side) {
        int is_direct = ab && ((side + r) & 1); /* alternate which goes first */
        uint64_t t0 = now_ns();
        (is_direct ? run_pairs_direct : fn)(n);
        double ns = (double)(now_ns() - t0) / (double)n;
        (is_direct ? direct : per)[r] = ns;
      }
      if (ab) diff[r] = per[r] - direct[r];
    }
    qsort(per, (size_t)reps, sizeof(per[0]), cmp_double);
    printf("%s=%.2f\n%s_med=%.2f\n", key, per[0], key, per[reps / 2]);
    if (ab) {
      qsort(direct, (size_t)reps, sizeof(direct[0]), cmp_double);
      qsort(diff, (size_t)reps, sizeof(diff[0]), cmp_double);
      printf("%s_direct=%.2f\n%s_direct_med=%.2f\n%s_ab=%.2f\n%s_ab_min=%.2f\n", key, direct[0], key,
             direct[reps / 2], key, diff[reps / 2], key, per[0] - direct[0]);
    }
  }
  print_region_counters();
  printf("pairs_total=%" PRIu64 "\nmarkers_total=%" PRIu64 "\nerrors=%" PRIu64 "\n", pairs_total,
         markers_total, errors);
  fflush(stdout);
  return errors ? 1 : 0;
}
