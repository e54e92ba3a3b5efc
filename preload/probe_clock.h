/* Shim timestamps: the TSC when the kernel's clocksource is the TSC (one
 * rdtsc, ~10 ns here, against ~22 ns for clock_gettime), converted to
 * CLOCK_MONOTONIC ns at drain time from (tsc, ns) calibration points taken by
 * the consumer. Shared by the shim (C) and the agent (C++). */
#ifndef PROBE_PRELOAD_PROBE_CLOCK_H_
#define PROBE_PRELOAD_PROBE_CLOCK_H_

#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

struct probe_clock_point {
  uint64_t tsc;
  uint64_t ns; /* CLOCK_MONOTONIC */
};

static inline uint64_t probe_rdtsc(void) {
#if defined(__x86_64__) || defined(__i386__)
  uint32_t lo, hi;
  __asm__ __volatile__("rdtsc" : "=a"(lo), "=d"(hi));
  return ((uint64_t)hi << 32) | lo;
#else
  return 0;
#endif
}

static inline uint64_t probe_monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* A point whose clock read is bracketed by the tightest pair of TSC reads of
 * a few tries, taken at their midpoint: its error is half that bracket,
 * ~10 ns here. */
static inline struct probe_clock_point probe_clock_sample(void) {
  struct probe_clock_point best = {0, 0};
  uint64_t best_window = UINT64_MAX;
  for (int i = 0; i < 5; ++i) {
    uint64_t a = probe_rdtsc();
    uint64_t ns = probe_monotonic_ns();
    uint64_t b = probe_rdtsc();
    if (b >= a && b - a < best_window) {
      best_window = b - a;
      best.tsc = a + (b - a) / 2;
      best.ns = ns;
    }
  }
  return best;
}

/* ns at tsc on the line through a and b (b later than a); outside [a, b] the
 * line is extended. Returns 0 when the points cannot define a line. */
static inline uint64_t probe_clock_convert(struct probe_clock_point a, struct probe_clock_point b,
                                           uint64_t tsc) {
  if (b.tsc <= a.tsc || b.ns < a.ns) return 0;
  __int128 dt = (__int128)tsc - (__int128)a.tsc;
  __int128 ns = (__int128)a.ns + dt * (__int128)(b.ns - a.ns) / (__int128)(b.tsc - a.tsc);
  return ns < 0 ? 0 : (uint64_t)ns;
}

/* Whether the TSC is the kernel's clocksource, so rdtsc and CLOCK_MONOTONIC
 * advance together (constant, synchronised across CPUs). Raw syscalls: the
 * shim calls it before its wrappers are ready. */
static inline int probe_tsc_is_clocksource(void) {
#if defined(__x86_64__) || defined(__i386__)
  char buf[16] = {0};
  long fd = syscall(SYS_openat, AT_FDCWD,
                    "/sys/devices/system/clocksource/clocksource0/current_clocksource",
                    O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  long n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
  syscall(SYS_close, fd);
  return n >= 3 && memcmp(buf, "tsc", 3) == 0 && (n == 3 || buf[3] == '\n');
#else
  return 0;
#endif
}

#endif /* PROBE_PRELOAD_PROBE_CLOCK_H_ */
