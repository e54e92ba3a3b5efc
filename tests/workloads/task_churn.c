/* Task churn workload: many threads or many short processes, each making an
 * exact number of traced syscalls, so a tracer's counts can be checked
 * against it.
 *
 * usage:
 *   task_churn threads N CALLS [--wait]
 *       N threads, all alive at once (they meet at a barrier before and after
 *       their calls), each making CALLS poll() calls.
 *   task_churn procs M CALLS [--rate R] [--wait]
 *       forks M children, at most R per second (default: as fast as it can),
 *       each making CALLS poll() calls and then _exit(0); reaps them all.
 *   task_churn poll-for MS [--wait]
 *       makes poll() calls for MS milliseconds.
 *
 * Every traced call is poll() through SYS_poll on an eventfd with a zero
 * timeout: it returns 0 at once, and probe records it as SYSCALL_POLL. The
 * eventfd is made before --wait (so a tracer attached then does not see the
 * eventfd2 call); nothing else the program does is traced by probe.
 *
 *   --wait  print "ready pid=P" and wait for a line on stdin before making
 *           any thread, process or traced call, so a tracer can attach first
 *
 * Output (stdout):
 *   churn mode=M pid=P tasks=N calls_each=C total=T elapsed_ns=E per_s=R
 * tasks is threads or processes made, total the traced calls made by all of
 * them, per_s tasks per second over elapsed_ns (poll-for: calls per second).
 * procs mode adds a second line "children pid pid ..." with every child's pid. */
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
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static int efd = -1;
static long calls_each;
static pthread_barrier_t start_barrier, end_barrier;

static void die(const char *what) {
  fprintf(stderr, "task_churn: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void usage(void) {
  fprintf(stderr,
          "usage: task_churn threads N CALLS [--wait]\n"
          "       task_churn procs M CALLS [--rate R] [--wait]\n"
          "       task_churn poll-for MS [--wait]\n");
  exit(2);
}

static uint64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* The kernel's poll, not ppoll, whatever the libc does with poll(). */
static void poll0(void) {
  struct pollfd p = {.fd = efd, .events = POLLIN};
  if (syscall(SYS_poll, &p, 1, 0) != 0) die("poll");
}

static long parse(const char *s) {
  char *end;
  long v = strtol(s, &end, 10);
  if (*s == '\0' || *end != '\0' || v < 0) usage();
  return v;
}

static void wait_for_go(void) {
  printf("ready pid=%d\n", getpid());
  fflush(stdout);
  char c;
  /* A line, or EOF: either way the tracer is done attaching. */
  while (read(0, &c, 1) == 1 && c != '\n') {
  }
}

static void *thread_main(void *arg) {
  (void)arg;
  pthread_barrier_wait(&start_barrier);
  for (long i = 0; i < calls_each; ++i) poll0();
  /* None exits before all have made their calls: N threads alive at once. */
  pthread_barrier_wait(&end_barrier);
  return NULL;
}

static void run_threads(long n, uint64_t *elapsed) {
  pthread_t *t = calloc((size_t)n, sizeof(*t));
  if (!t) die("calloc");
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  /* Thousands of default 8 MiB stacks would be 16 GiB of address space. */
  pthread_attr_setstacksize(&attr, 64 * 1024);
  if (pthread_barrier_init(&start_barrier, NULL, (unsigned)n + 1) ||
      pthread_barrier_init(&end_barrier, NULL, (unsigned)n))
    die("pthread_barrier_init");
  for (long i = 0; i < n; ++i) {
    int err = pthread_create(&t[i], &attr, thread_main, NULL);
    if (err) {
      errno = err;
      die("pthread_create");
    }
  }
  pthread_barrier_wait(&start_barrier);
  uint64_t t0 = now_ns();
  for (long i = 0; i < n; ++i) pthread_join(t[i], NULL);
  *elapsed = now_ns() - t0;
  free(t);
}

static void reap_one(void) {
  int st;
  pid_t p;
  while ((p = wait(&st)) < 0 && errno == EINTR) {
  }
  if (p < 0) die("wait");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
    fprintf(stderr, "task_churn: child %d ended with status %d\n", p, st);
    exit(2);
  }
}

static void run_procs(long m, long rate, pid_t *children, uint64_t *elapsed) {
  /* A bounded number in flight keeps the fork rate up without running the
   * machine out of pids or memory. */
  const long max_live = 64;
  long live = 0;
  uint64_t t0 = now_ns();
  for (long i = 0; i < m; ++i) {
    if (rate > 0) {
      uint64_t due = t0 + (uint64_t)i * 1000000000ull / (uint64_t)rate;
      uint64_t now = now_ns();
      if (now < due) {
        struct timespec d = {(time_t)((due - now) / 1000000000ull),
                             (long)((due - now) % 1000000000ull)};
        nanosleep(&d, NULL);
      }
    }
    if (live == max_live) {
      reap_one();
      --live;
    }
    pid_t c = fork();
    if (c < 0) die("fork");
    if (c == 0) {
      for (long k = 0; k < calls_each; ++k) poll0();
      _exit(0);
    }
    children[i] = c;
    ++live;
  }
  while (live-- > 0) reap_one();
  *elapsed = now_ns() - t0;
}

int main(int argc, char **argv) {
  if (argc < 3) usage();
  const char *mode = argv[1];
  int wait = 0;
  long rate = 0;
  int positional = strcmp(mode, "poll-for") == 0 ? 1 : 2;
  if (argc < 2 + positional) usage();
  for (int i = 2 + positional; i < argc; ++i) {
    if (strcmp(argv[i], "--wait") == 0)
      wait = 1;
    else if (strcmp(argv[i], "--rate") == 0 && i + 1 < argc)
      rate = parse(argv[++i]);
    else
      usage();
  }
  long n = parse(argv[2]);
  calls_each = positional == 2 ? parse(argv[3]) : 0;
  efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0) die("eventfd");
  if (wait) wait_for_go();

  uint64_t elapsed = 0;
  long tasks = 0, total = 0;
  pid_t *children = NULL;
  if (strcmp(mode, "threads") == 0) {
    run_threads(n, &elapsed);
    tasks = n;
    total = n * calls_each;
  } else if (strcmp(mode, "procs") == 0) {
    children = calloc((size_t)n + 1, sizeof(*children));
    if (!children) die("calloc");
    run_procs(n, rate, children, &elapsed);
    tasks = n;
    total = n * calls_each;
  } else if (strcmp(mode, "poll-for") == 0) {
    uint64_t t0 = now_ns(), end = t0 + (uint64_t)n * 1000000ull;
    do {
      poll0();
      ++total;
    } while (now_ns() < end);
    elapsed = now_ns() - t0;
    tasks = 1;
  } else {
    usage();
  }
  double per_s = elapsed ? (strcmp(mode, "poll-for") == 0 ? total : tasks) * 1e9 / elapsed : 0;
  printf("churn mode=%s pid=%d tasks=%ld calls_each=%ld total=%ld elapsed_ns=%llu per_s=%.0f\n",
         mode, getpid(), tasks, calls_each, total, (unsigned long long)elapsed, per_s);
  if (children) {
    fputs("children", stdout);
    for (long i = 0; i < n; ++i) printf(" %d", children[i]);
    putchar('\n');
  }
  fflush(stdout);
  return 0;
}
