// SPDX-License-Identifier: GPL-2.0
/* A tight loop of one syscall, for the cost a tracer adds to processes it is
 * NOT targeting.
 *
 * usage: syscall_loop OP ITERS [--cpu N] [--reps R]
 *   OP: getppid  syscall(SYS_getppid): a number probe does not trace
 *       read0    read(fd of /dev/zero, buf, 0): a number probe traces (read)
 *       select0  select(0, NULL, NULL, NULL, {0, 0}): pselect6, also traced
 *       w1mix    W1's three calls without its sleeps: write(eventfd, 1),
 *                select() on it (already readable: returns at once), read()
 *                of it; one iteration is 3 calls, ns_per_call is per call
 *   --wait  print "ready pid=P" and wait for a line on stdin before starting,
 *           so a tracer can attach to the pid first
 * Runs R repetitions of ITERS iterations and prints, key=value per line: op,
 * iters, reps, ns_per_call (the fastest repetition: the least disturbed
 * one), ns_per_call_median. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return (x > y) - (x < y);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(
        stderr,
        "usage: syscall_loop getppid|read0|select0|w1mix ITERS [--cpu N] [--reps R] [--wait]\n");
    return 2;
  }
  const char *op = argv[1];
  long iters = atol(argv[2]);
  int cpu = -1, reps = 3, wait_go = 0;
  for (int i = 3; i < argc; i++) {
    if (!strcmp(argv[i], "--cpu") && i + 1 < argc)
      cpu = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--reps") && i + 1 < argc)
      reps = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--wait"))
      wait_go = 1;
  }
  if (reps < 1 || reps > 64 || iters < 1) return 2;
  if (cpu >= 0) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof(set), &set)) perror("sched_setaffinity");
  }
  int kind = !strcmp(op, "getppid")   ? 0
             : !strcmp(op, "read0")   ? 1
             : !strcmp(op, "select0") ? 2
             : !strcmp(op, "w1mix")   ? 3
                                      : -1;
  if (kind < 0) {
    fprintf(stderr, "syscall_loop: unknown op %s\n", op);
    return 2;
  }
  int fd = open("/dev/zero", O_RDONLY);
  if (fd < 0) {
    perror("/dev/zero");
    return 2;
  }
  int efd = eventfd(0, 0);
  if (efd < 0) {
    perror("eventfd");
    return 2;
  }
  if (wait_go) {
    printf("ready pid=%d\n", getpid());
    fflush(stdout);
    char line[16];
    if (!fgets(line, sizeof(line), stdin)) return 2;
  }
  char buf[8];
  double per[64];
  for (int r = 0; r < reps; r++) {
    uint64_t t0 = now_ns();
    switch (kind) {
      case 0:
        for (long i = 0; i < iters; i++) syscall(SYS_getppid);
        break;
      case 1:
        for (long i = 0; i < iters; i++) syscall(SYS_read, fd, buf, 0);
        break;
      case 2:
        for (long i = 0; i < iters; i++) {
          struct timeval tv = {0, 0};
          select(0, NULL, NULL, NULL, &tv);
        }
        break;
      case 3:
        for (long i = 0; i < iters; i++) {
          uint64_t one = 1, got;
          fd_set rd;
          FD_ZERO(&rd);
          FD_SET(efd, &rd);
          if (write(efd, &one, sizeof(one)) != sizeof(one) ||
              select(efd + 1, &rd, NULL, NULL, NULL) != 1 ||
              read(efd, &got, sizeof(got)) != sizeof(got))
            return 3;
        }
        break;
    }
    per[r] = (double)(now_ns() - t0) / (double)(kind == 3 ? 3 * iters : iters);
  }
  qsort(per, reps, sizeof(per[0]), cmp_double);
  printf("op=%s\niters=%ld\nreps=%d\nns_per_call=%.2f\nns_per_call_median=%.2f\n", op, iters, reps,
         per[0], per[reps / 2]);
  return 0;
}
