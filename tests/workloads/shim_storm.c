/* Process and thread churn for the LD_PRELOAD shim: many short-lived
 * threads, forks (some leaving with _exit, some with exit), a vfork+execve,
 * a posix_spawn and a fork+exec of itself, each doing eventfd work.
 *
 *   THREADS threads, 16 at a time, each doing OPS eventfd_write+eventfd_read
 *     pairs on its own eventfd, then exiting;
 *   CHILDREN forked children (forked while a wave of threads runs), each
 *     doing OPS pairs on its own eventfd, then _exit(0) (even index) or
 *     exit(0) (odd index);
 *   one vfork()+execve("/bin/true"), one posix_spawn("/bin/true"), and one
 *     fork whose child execs this program as `--exec-child OPS`.
 *
 * Every process of this program prints exactly one line with its own counts
 * (the parent's include its threads), with a single write(2) so lines never
 * interleave:
 *
 *   storm pid=P eventfd_writes=W eventfd_reads=R
 *
 * and the parent, once everything is reaped, prints
 *
 *   storm_done threads=T children=C exec_children=1 vforks=1 spawns=1 reaped=N failures=F
 *
 * usage: shim_storm THREADS CHILDREN OPS
 *        shim_storm --exec-child OPS */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/wait.h>
#include <unistd.h>

#define WAVE 16

extern char **environ;

static void die(const char *what) {
  char buf[256];
  int n = snprintf(buf, sizeof(buf), "shim_storm[%d]: %s: %s\n", getpid(), what, strerror(errno));
  if (write(2, buf, (size_t)n) < 0) {
  }
  _exit(2);
}

static void write_all(const char *buf, size_t n) {
  while (n > 0) {
    ssize_t w = write(1, buf, n);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) die("write stdout");
    buf += w;
    n -= (size_t)w;
  }
}

/* OPS eventfd_write+eventfd_read pairs on a fresh eventfd; adds the calls
 * made to *writes and *reads. Returns 0, or -1 on a failed call. */
static int eventfd_pairs(int ops, long *writes, long *reads) {
  int efd = eventfd(0, EFD_CLOEXEC);
  if (efd < 0) return -1;
  int rc = 0;
  for (int i = 0; i < ops; ++i) {
    ++*writes;
    if (eventfd_write(efd, 1) != 0) {
      rc = -1;
      break;
    }
    eventfd_t v;
    ++*reads;
    if (eventfd_read(efd, &v) != 0 || v != 1) {
      rc = -1;
      break;
    }
  }
  close(efd);
  return rc;
}

static void print_counts(long writes, long reads) {
  char buf[128];
  int n = snprintf(buf, sizeof(buf), "storm pid=%d eventfd_writes=%ld eventfd_reads=%ld\n",
                   getpid(), writes, reads);
  write_all(buf, (size_t)n);
}

static int g_ops;
static long g_thread_writes, g_thread_reads, g_thread_failures;

static void *thread_main(void *arg) {
  (void)arg;
  long w = 0, r = 0;
  int rc = eventfd_pairs(g_ops, &w, &r);
  __atomic_add_fetch(&g_thread_writes, w, __ATOMIC_RELAXED);
  __atomic_add_fetch(&g_thread_reads, r, __ATOMIC_RELAXED);
  if (rc != 0) __atomic_add_fetch(&g_thread_failures, 1, __ATOMIC_RELAXED);
  return NULL;
}

/* A forked child: its own eventfd work and line, then _exit or exit. */
static void child_main(int index, int ops) {
  long w = 0, r = 0;
  int rc = eventfd_pairs(ops, &w, &r);
  print_counts(w, r); /* write(2): nothing is left buffered for _exit */
  if (index % 2 == 0) _exit(rc == 0 ? 0 : 1);
  exit(rc == 0 ? 0 : 1);
}

int main(int argc, char **argv) {
  if (argc == 3 && strcmp(argv[1], "--exec-child") == 0) {
    long w = 0, r = 0;
    int rc = eventfd_pairs(atoi(argv[2]), &w, &r);
    print_counts(w, r);
    return rc == 0 ? 0 : 1;
  }
  if (argc < 4) {
    fprintf(stderr, "usage: shim_storm THREADS CHILDREN OPS | shim_storm --exec-child OPS\n");
    return 2;
  }
  int threads = atoi(argv[1]), children = atoi(argv[2]);
  g_ops = atoi(argv[3]);
  if (threads < 0 || children < 0 || g_ops < 0) {
    fprintf(stderr, "shim_storm: negative argument\n");
    return 2;
  }

  char self[4096];
  ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
  if (len <= 0) die("readlink /proc/self/exe");
  self[len] = '\0';

  /* Thread waves; during wave k the children with index % waves == k are
   * forked, so forks happen while other threads run. */
  int waves = threads > 0 ? (threads + WAVE - 1) / WAVE : 1;
  int started = 0, forked = 0;
  for (int k = 0; k < waves; ++k) {
    pthread_t tids[WAVE];
    int n = 0;
    for (; n < WAVE && started < threads; ++n, ++started) {
      int err = pthread_create(&tids[n], NULL, thread_main, NULL);
      if (err != 0) {
        errno = err;
        die("pthread_create");
      }
    }
    for (int c = k; c < children; c += waves) {
      pid_t pid = fork();
      if (pid < 0) die("fork");
      if (pid == 0) child_main(c, g_ops);
      forked++;
    }
    for (int i = 0; i < n; ++i) pthread_join(tids[i], NULL);
  }

  /* vfork + execve. */
  char true_path[] = "/bin/true";
  char *true_argv[] = {true_path, NULL};
  pid_t vpid = vfork();
  if (vpid < 0) die("vfork");
  if (vpid == 0) {
    execve(true_path, true_argv, environ);
    _exit(127);
  }

  /* posix_spawn. */
  pid_t spid;
  int err = posix_spawn(&spid, true_path, NULL, NULL, true_argv, environ);
  if (err != 0) {
    errno = err;
    die("posix_spawn");
  }

  /* fork + exec of this program. */
  char exec_flag[] = "--exec-child";
  char *exec_argv[] = {argv[0], exec_flag, argv[3], NULL};
  pid_t epid = fork();
  if (epid < 0) die("fork");
  if (epid == 0) {
    execve(self, exec_argv, environ);
    _exit(127);
  }

  int reaped = 0, failures = 0;
  for (;;) {
    int status;
    pid_t p = waitpid(-1, &status, 0);
    if (p < 0) {
      if (errno == EINTR) continue;
      if (errno == ECHILD) break;
      die("waitpid");
    }
    reaped++;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failures++;
  }
  failures += (int)g_thread_failures;

  print_counts(g_thread_writes, g_thread_reads);
  char buf[192];
  int n = snprintf(buf, sizeof(buf),
                   "storm_done threads=%d children=%d exec_children=1 vforks=1 spawns=1 "
                   "reaped=%d failures=%d\n",
                   started, forked, reaped, failures);
  write_all(buf, (size_t)n);
  return failures == 0 ? 0 : 1;
}
