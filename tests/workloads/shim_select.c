/* Ground truth for the LD_PRELOAD shim and its markers: the main thread
 * waits for an eventfd with select() and no timeout; a writer thread makes
 * it readable DELAY_MS later. Each iteration is bracketed by markers:
 *
 *   BEGIN wait(i)  MARK BEFORE_SELECT(i)  select  MARK AFTER_SELECT(i)
 *   eventfd_read   END wait(i)
 *
 * Right before BEFORE_SELECT, main wakes the writer through a pipe (not an
 * eventfd, so the shim ignores it); the writer then sleeps DELAY_MS and
 * writes the eventfd, so every select blocks for about DELAY_MS.
 * Prints what it did as one key=value line.
 *
 * usage: shim_select DELAY_MS ITERATIONS */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

struct shared {
  int efd;
  int go[2]; /* pipe: main -> writer, one byte per iteration */
  int iterations;
  int delay_ms;
  pid_t writer_tid;
  int writes;
};

static void die(const char *what) {
  fprintf(stderr, "shim_select: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static void *writer_thread(void *arg) {
  struct shared *s = arg;
  s->writer_tid = gettid();
  for (int i = 0; i < s->iterations; ++i) {
    char c;
    ssize_t n;
    do {
      n = read(s->go[0], &c, 1);
    } while (n < 0 && errno == EINTR);
    if (n != 1) die("read pipe");
    sleep_ms(s->delay_ms);
    if (eventfd_write(s->efd, 1) != 0) die("eventfd_write");
    s->writes++;
  }
  return NULL;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: shim_select DELAY_MS ITERATIONS\n");
    return 2;
  }
  struct shared s = {.delay_ms = atoi(argv[1]), .iterations = atoi(argv[2])};
  s.efd = eventfd(0, 0);
  if (s.efd < 0) die("eventfd");
  if (s.efd >= FD_SETSIZE) {
    errno = EMFILE;
    die("eventfd above FD_SETSIZE");
  }
  if (pipe(s.go) != 0) die("pipe");

  pthread_t writer;
  if (pthread_create(&writer, NULL, writer_thread, &s) != 0) die("pthread_create");

  int selects = 0, reads = 0;
  for (int i = 0; i < s.iterations; ++i) {
    PROBE_BEGIN("wait", i, 0);
    char c = 'g';
    if (write(s.go[1], &c, 1) != 1) die("write pipe");
    PROBE_MARK("BEFORE_SELECT", i, 0);
    int r;
    do {
      fd_set rd;
      FD_ZERO(&rd);
      FD_SET(s.efd, &rd);
      r = select(s.efd + 1, &rd, NULL, NULL, NULL);
      selects++;
    } while (r < 0 && errno == EINTR);
    if (r != 1) die("select");
    PROBE_MARK("AFTER_SELECT", i, 0);
    eventfd_t v;
    if (eventfd_read(s.efd, &v) != 0) die("eventfd_read");
    reads++;
    PROBE_END("wait", i, 0);
  }
  pthread_join(writer, NULL);

  printf("shim_select pid=%d main_tid=%d writer_tid=%d iterations=%d selects=%d "
         "eventfd_reads=%d eventfd_writes=%d delay_ms=%d\n",
         getpid(), gettid(), s.writer_tid, s.iterations, selects, reads, s.writes, s.delay_ms);
  return 0;
}
