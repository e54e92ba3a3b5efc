/* Ground truth for run-queue delay: a waker thread timestamps and writes an
 * eventfd every PERIOD_MS; a reader thread blocked in read() notes, first
 * thing after it returns, how long after the timestamp it got to run. Phase
 * "idle" runs alone; phase "busy" adds a real-time thread that holds the
 * reader's CPU in 3 ms bursts, so the reader must wait on the run queue.
 *
 * usage: runqueue_wakeups PERIOD_MS WAKEUPS_PER_PHASE
 * prints: reader_tid=N, then per phase
 *   phase=NAME start_ns=T end_ns=T wakeups=N median_latency_ns=L */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_WAKEUPS 10000

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

struct shared {
  int efd;
  int period_ms;
  int count;
  _Atomic uint64_t sent_ns; /* the waker's timestamp of its latest write */
  uint64_t latency[MAX_WAKEUPS];
  atomic_int stop_spinning;
  _Atomic int reader_tid;
  int reads; /* latency[0..reads) are valid */
};

static void pin_to(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *waker(void *arg) {
  struct shared *s = arg;
  pin_to(1);
  for (int i = 0; i < s->count; ++i) {
    struct timespec d = {0, (long)s->period_ms * 1000000L};
    nanosleep(&d, NULL);
    uint64_t one = 1;
    atomic_store(&s->sent_ns, now_ns());
    if (write(s->efd, &one, sizeof(one)) != sizeof(one)) exit(2);
  }
  return NULL;
}

static void *reader(void *arg) {
  struct shared *s = arg;
  pin_to(0);
  atomic_store(&s->reader_tid, (int)syscall(SYS_gettid));
  /* Counts writes, not reads: a reader held off the CPU past the next write
   * reads two at once (the eventfd adds them), and counting reads would then
   * wait forever for a write that never comes. */
  int i = 0;
  for (uint64_t got = 0; got < (uint64_t)s->count; ++i) {
    uint64_t v;
    if (read(s->efd, &v, sizeof(v)) != sizeof(v)) exit(2);
    s->latency[i] = now_ns() - atomic_load(&s->sent_ns);
    got += v;
  }
  s->reads = i;
  return NULL;
}

/* Holds CPU 0 in 3 ms bursts with 1 ms gaps, at a real-time priority, so a
 * reader woken during a burst must wait on the run queue for its end: the
 * delay is known by construction (0-3 ms). This kernel's EEVDF lets a woken
 * thread preempt ordinary spinners at once, which would hide the queue. */
static void *spinner(void *arg) {
  struct shared *s = arg;
  pin_to(0);
  struct sched_param sp = {.sched_priority = 10};
  pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
  while (!atomic_load(&s->stop_spinning)) {
    uint64_t until = now_ns() + 3000000;
    while (now_ns() < until) {
    }
    struct timespec gap = {0, 1000000};
    nanosleep(&gap, NULL);
  }
  return NULL;
}

static int cmp_u64(const void *a, const void *b) {
  uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
  return x < y ? -1 : x > y;
}

static void run_phase(const char *name, struct shared *s, int spinners) {
  pthread_t spin[64], w, r;
  atomic_store(&s->stop_spinning, 0);
  for (int i = 0; i < spinners; ++i) pthread_create(&spin[i], NULL, spinner, s);
  uint64_t start = now_ns();
  pthread_create(&r, NULL, reader, s);
  pthread_create(&w, NULL, waker, s);
  pthread_join(w, NULL);
  pthread_join(r, NULL);
  uint64_t end = now_ns();
  atomic_store(&s->stop_spinning, 1);
  for (int i = 0; i < spinners; ++i) pthread_join(spin[i], NULL);
  qsort(s->latency, (size_t)s->reads, sizeof(uint64_t), cmp_u64);
  printf("phase=%s start_ns=%llu end_ns=%llu wakeups=%d median_latency_ns=%llu reader_tid=%d\n",
         name, (unsigned long long)start, (unsigned long long)end, s->reads,
         (unsigned long long)s->latency[s->reads / 2], atomic_load(&s->reader_tid));
  fflush(stdout);
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: runqueue_wakeups PERIOD_MS WAKEUPS_PER_PHASE\n");
    return 2;
  }
  static struct shared s;
  s.period_ms = atoi(argv[1]);
  s.count = atoi(argv[2]);
  if (s.count <= 0 || s.count > MAX_WAKEUPS) return 2;
  s.efd = eventfd(0, EFD_CLOEXEC);
  if (s.efd < 0) return 2;
  if (sysconf(_SC_NPROCESSORS_ONLN) < 2) {
    fprintf(stderr, "runqueue_wakeups: needs 2 CPUs\n");
    return 2;
  }
  run_phase("idle", &s, 0);
  run_phase("busy", &s, 1);
  return 0;
}
