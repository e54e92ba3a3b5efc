// SPDX-License-Identifier: GPL-2.0
/* eventfd + select ping-pong between two threads pinned to one CPU.
 *
 * Thread A: write(efd_ab, 1); select(efd_ba); read(efd_ba)   -- per round
 * Thread B: select(efd_ab); read(efd_ab); write(efd_ba, 1)   -- per round
 *
 * Both threads share CPU 0 (or --cpu N), so every round trip is two context
 * switches and six syscalls, all of which probe traces (glibc 2.36's select()
 * enters the kernel as pselect6; read/write are on eventfds).
 *
 * usage: pingpong [--rounds N] [--cpu N] [--wait] [--pipe]
 *   --pipe  two pipes instead of two eventfds: the same wakeups and
 *           switches, but read/write on pipes, which probe's syscall
 *           family does not trace (only the selects are traced then).
 *   --wait  print "ready pid=P" and wait for a line on stdin before starting,
 *           so a tracer can attach to P first.
 * Output (stdout), key=value per line: rounds, selects, reads, writes,
 * syscalls (= selects + reads + writes), elapsed_ns (the ping-pong loop only),
 * ns_per_round. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

static int ab_r, ab_w, ba_r, ba_w; /* read and write ends: eventfds (one fd each) or pipes */
static int use_pipes;
static long rounds = 100000;
static int cpu = 0;
static pthread_barrier_t start_barrier;

struct counts {
  long selects, reads, writes;
};

static void die(const char *what) {
  fprintf(stderr, "pingpong: %s: %s\n", what, strerror(errno));
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void pin(pthread_t t) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  int err = pthread_setaffinity_np(t, sizeof(set), &set);
  if (err) {
    errno = err;
    die("pthread_setaffinity_np");
  }
}

/* select() until fd is readable (a realistic 5 s timeout), then read it. */
static void wait_and_read(int fd, struct counts *c) {
  for (;;) {
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(fd, &rd);
    struct timeval tv = {.tv_sec = 5, .tv_usec = 0};
    c->selects++;
    int n = select(fd + 1, &rd, NULL, NULL, &tv);
    if (n < 0 && errno != EINTR) die("select");
    if (n > 0 && FD_ISSET(fd, &rd)) break;
  }
  uint64_t v;
  c->reads++;
  if (read(fd, &v, sizeof(v)) != sizeof(v)) die("read");
}

static void signal_fd(int fd, struct counts *c) {
  uint64_t one = 1;
  c->writes++;
  if (write(fd, &one, sizeof(one)) != sizeof(one)) die("write");
}

static void *peer(void *arg) {
  struct counts *c = arg;
  pthread_barrier_wait(&start_barrier);
  for (long i = 0; i < rounds; i++) {
    wait_and_read(ab_r, c);
    signal_fd(ba_w, c);
  }
  return NULL;
}

int main(int argc, char **argv) {
  int wait_go = 0;
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = atol(argv[++i]);
    else if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
      cpu = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--wait"))
      wait_go = 1;
    else if (!strcmp(argv[i], "--pipe"))
      use_pipes = 1;
    else {
      fprintf(stderr, "usage: pingpong [--rounds N] [--cpu N] [--wait] [--pipe]\n");
      return 2;
    }
  }
  if (use_pipes) {
    int ab[2], ba[2];
    if (pipe(ab) || pipe(ba)) die("pipe");
    ab_r = ab[0], ab_w = ab[1], ba_r = ba[0], ba_w = ba[1];
  } else {
    ab_r = ab_w = eventfd(0, 0);
    ba_r = ba_w = eventfd(0, 0);
    if (ab_r < 0 || ba_r < 0) die("eventfd");
  }
  pthread_barrier_init(&start_barrier, NULL, 2);

  struct counts ca = {0}, cb = {0};
  pin(pthread_self());
  pthread_t t;
  if (pthread_create(&t, NULL, peer, &cb)) die("pthread_create");
  pin(t);

  if (wait_go) {
    printf("ready pid=%d\n", getpid());
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof(line), stdin)) return 2;
  }

  pthread_barrier_wait(&start_barrier);
  uint64_t t0 = now_ns();
  for (long i = 0; i < rounds; i++) {
    signal_fd(ab_w, &ca);
    wait_and_read(ba_r, &ca);
  }
  uint64_t t1 = now_ns();
  pthread_join(t, NULL);

  long selects = ca.selects + cb.selects, reads = ca.reads + cb.reads,
       writes = ca.writes + cb.writes;
  printf("rounds=%ld\nselects=%ld\nreads=%ld\nwrites=%ld\nsyscalls=%ld\nelapsed_ns=%llu\n"
         "ns_per_round=%.1f\n",
         rounds, selects, reads, writes, selects + reads + writes,
         (unsigned long long)(t1 - t0), (double)(t1 - t0) / (double)rounds);
  return 0;
}
