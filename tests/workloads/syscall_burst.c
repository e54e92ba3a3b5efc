/* Sustained-throughput workload: makes syscalls that probe traces as fast as
 * it can, from one process, and prints exact counts of what it made (the
 * ground truth for produced == written + sampled out + lost).
 *
 * usage: syscall_burst [--events N] [--seconds S] [--threads T] [--kind poll0|eventfd] [--wait]
 *   --seconds S  poll0: stop after S seconds (with a large --events: until then)
 *   --events N   total traced syscalls of the burst, split over the threads
 *                (default 10000000)
 *   --threads T  threads making them (default 1)
 *   --kind K     poll0:   poll() on an eventfd with a zero timeout (returns 0
 *                         at once: the counter is never written); one event
 *                         per call, kind poll
 *                eventfd: write(efd, 1) + read(efd) on a non-blocking eventfd
 *                         of the thread's own; two events per pair
 *   --wait       print "ready pid=P" and wait for a line on stdin before
 *                doing anything traced, so a tracer can attach to P first
 *
 * Each thread creates its own eventfd (one eventfd2 syscall, which probe also
 * traces: counted as eventfds=) after --wait, then all start together.
 * Output (stdout), one line:
 *   burst pid=P events=N polls=.. writes=.. reads=.. eventfds=.. elapsed_ns=.. events_per_s=..
 * events = polls + writes + reads; the traced syscalls of the process are
 * events + eventfds. elapsed_ns runs from the moment every thread is ready
 * to the last one finishing. Nothing else it does is traced by probe (reads
 * of stdin and writes to stdout are not on eventfds). */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

enum kind { KIND_POLL0, KIND_EVENTFD };

struct worker {
  pthread_t thread;
  long quota; /* syscalls this thread makes */
  long polls, writes, reads;
  int efd;
};

static enum kind kind = KIND_POLL0;
static uint64_t deadline_ns; /* --seconds: stop then instead of at the quota */
static pthread_barrier_t start_barrier;

static void die(const char *what) {
  fprintf(stderr, "syscall_burst: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void usage(void) {
  fprintf(stderr,
          "usage: syscall_burst [--events N] [--seconds S] [--threads T] [--kind poll0|eventfd] "
          "[--wait]\n");
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The kernel's poll, not ppoll, whatever the libc does with poll(). */
static int poll0(int fd) {
  struct pollfd p = {.fd = fd, .events = POLLIN};
#ifdef SYS_poll
  return (int)syscall(SYS_poll, &p, 1, 0);
#else
  struct timespec zero = {0, 0};
  return ppoll(&p, 1, &zero, NULL);
#endif
}

static void *run(void *arg) {
  struct worker *w = arg;
  w->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (w->efd < 0) die("eventfd");
  pthread_barrier_wait(&start_barrier);
  long done = 0;
  if (kind == KIND_POLL0) {
    for (; done < w->quota; ++done) {
      if (poll0(w->efd) < 0) die("poll");
      if (deadline_ns && (done & 1023) == 0 && now_ns() >= deadline_ns) {
        ++done;
        break;
      }
    }
    w->polls = done;
  } else {
    uint64_t v = 1;
    while (done < w->quota) {
      if (write(w->efd, &v, sizeof(v)) != sizeof(v)) die("write eventfd");
      w->writes++;
      if (++done == w->quota) break;
      if (read(w->efd, &v, sizeof(v)) != sizeof(v)) die("read eventfd");
      w->reads++;
      ++done;
    }
  }
  return NULL;
}

int main(int argc, char **argv) {
  long events = 10000000;
  int threads = 1, wait = 0;
  double seconds = 0;
  for (int i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--events") && i + 1 < argc) {
      events = strtol(argv[++i], NULL, 10);
    } else if (!strcmp(argv[i], "--threads") && i + 1 < argc) {
      threads = atoi(argv[++i]);
    } else if (!strcmp(argv[i], "--kind") && i + 1 < argc) {
      ++i;
      if (!strcmp(argv[i], "poll0")) kind = KIND_POLL0;
      else if (!strcmp(argv[i], "eventfd")) kind = KIND_EVENTFD;
      else usage();
    } else if (!strcmp(argv[i], "--seconds") && i + 1 < argc) {
      seconds = strtod(argv[++i], NULL);
    } else if (!strcmp(argv[i], "--wait")) {
      wait = 1;
    } else {
      usage();
    }
  }
  if (events < 0 || threads < 1 || threads > 1024) usage();

  if (wait) {
    printf("ready pid=%d\n", (int)getpid());
    fflush(stdout);
    char line[64];
    if (!fgets(line, sizeof(line), stdin)) return 2;
  }

  struct worker *w = calloc((size_t)threads, sizeof(*w));
  if (!w) die("calloc");
  if (pthread_barrier_init(&start_barrier, NULL, (unsigned)threads + 1)) die("pthread_barrier_init");
  for (int t = 0; t < threads; ++t) {
    w[t].quota = events / threads + (t < events % threads ? 1 : 0);
    int err = pthread_create(&w[t].thread, NULL, run, &w[t]);
    if (err) {
      errno = err;
      die("pthread_create");
    }
  }
  /* Set before the barrier releases the threads. */
  if (seconds > 0) deadline_ns = now_ns() + (uint64_t)(seconds * 1e9);
  pthread_barrier_wait(&start_barrier); /* every thread has its eventfd: go */
  uint64_t start_ns = now_ns();
  long polls = 0, writes = 0, reads = 0;
  for (int t = 0; t < threads; ++t) {
    pthread_join(w[t].thread, NULL);
    polls += w[t].polls;
    writes += w[t].writes;
    reads += w[t].reads;
  }
  uint64_t elapsed = now_ns() - start_ns;
  for (int t = 0; t < threads; ++t) close(w[t].efd);
  long made = polls + writes + reads;
  printf("burst pid=%d events=%ld polls=%ld writes=%ld reads=%ld eventfds=%d elapsed_ns=%llu events_per_s=%.0f\n",
         (int)getpid(), made, polls, writes, reads, threads, (unsigned long long)elapsed,
         elapsed ? made * 1e9 / (double)elapsed : 0.0);
  free(w);
  return 0;
}
