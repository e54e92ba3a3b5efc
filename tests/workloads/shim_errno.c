/* Error paths for the LD_PRELOAD shim: runs calls the shim wraps (and
 * syscall() and prctl(), which it passes through) in ways
 * that fail (or succeed trivially) and prints, one line per case,
 *
 *   case=NAME ret=R errno=E [extra=...]
 *
 * errno is set to a sentinel (12345) before every call, so a successful
 * call must print errno=12345: the shim may not touch errno on success,
 * and must pass the real errno through on failure. A SIGALRM handler
 * (installed without SA_RESTART) interrupts a poll and itself calls
 * eventfd_write, so a wrapped function runs inside a signal handler. The
 * last line is the thread's signal mask. No pids, fds or timings are
 * printed: the output must be identical with and without LD_PRELOAD.
 *
 * usage: shim_errno */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/time.h>
#include <unistd.h>

#define SENTINEL 12345

static const char *errno_text(int e, char *buf, size_t n) {
  switch (e) {
    case EBADF: return "EBADF";
    case EINTR: return "EINTR";
    case EINVAL: return "EINVAL";
    case EAGAIN: return "EAGAIN";
    case EFAULT: return "EFAULT";
    case ENOSYS: return "ENOSYS";
    default: snprintf(buf, n, "%d", e); return buf;
  }
}

/* Prints one case; errno_after is errno read right after the call. */
static void report(const char *name, long ret, int errno_after, const char *extra) {
  char buf[32];
  printf("case=%s ret=%ld errno=%s%s%s\n", name, ret, errno_text(errno_after, buf, sizeof(buf)),
         extra ? " " : "", extra ? extra : "");
}

static void die(const char *what) {
  fprintf(stderr, "shim_errno: %s: %s\n", what, strerror(errno));
  exit(2);
}

static uint64_t mask_bits(const sigset_t *set) {
  uint64_t bits = 0;
  memcpy(&bits, set, sizeof(bits) < sizeof(*set) ? sizeof(bits) : sizeof(*set));
  return bits;
}

static uint64_t current_mask(void) {
  sigset_t set;
  sigemptyset(&set);
  if (pthread_sigmask(SIG_BLOCK, NULL, &set) != 0) die("pthread_sigmask");
  return mask_bits(&set);
}

/* Written by the SIGALRM handler. */
static int handler_efd = -1;
static volatile sig_atomic_t handler_runs;
static volatile sig_atomic_t handler_ret = -2;
static volatile sig_atomic_t handler_errno;

static void on_alarm(int sig) {
  (void)sig;
  int saved = errno;
  errno = SENTINEL;
  handler_ret = eventfd_write(handler_efd, 1);
  handler_errno = errno;
  handler_runs++;
  errno = saved;
}

int main(void) {
  char extra[128];
  long r;
  int e;

  /* A nontrivial mask to compare against: SIGUSR1 blocked throughout. */
  sigset_t usr1;
  sigemptyset(&usr1);
  sigaddset(&usr1, SIGUSR1);
  if (pthread_sigmask(SIG_BLOCK, &usr1, NULL) != 0) die("block SIGUSR1");

  int efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC); /* stays empty */
  int work = eventfd(0, EFD_CLOEXEC);               /* for successful calls */
  handler_efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (efd < 0 || work < 0 || handler_efd < 0) die("eventfd");
  if (efd >= FD_SETSIZE) die("fd above FD_SETSIZE");

  /* select on a closed fd. */
  {
    int p[2];
    if (pipe(p) != 0) die("pipe");
    close(p[1]);
    close(p[0]);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(p[0], &rd);
    struct timeval tv = {0, 0};
    errno = SENTINEL;
    r = select(p[0] + 1, &rd, NULL, NULL, &tv);
    e = errno;
    report("select_closed_fd", r, e, NULL);
  }

  /* poll for 200 ms, interrupted after 100 ms by SIGALRM (no SA_RESTART);
   * the handler writes an eventfd. */
  {
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_alarm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;
    if (sigaction(SIGALRM, &sa, NULL) != 0) die("sigaction");
    struct itimerval it = {{0, 0}, {0, 100 * 1000}};
    struct pollfd p = {.fd = efd, .events = POLLIN};
    if (setitimer(ITIMER_REAL, &it, NULL) != 0) die("setitimer");
    errno = SENTINEL;
    r = poll(&p, 1, 200);
    e = errno;
    struct itimerval off = {{0, 0}, {0, 0}};
    setitimer(ITIMER_REAL, &off, NULL);
    snprintf(extra, sizeof(extra), "handler_runs=%d", (int)handler_runs);
    report("poll_eintr", r, e, extra);
    report("eventfd_write_in_handler", handler_ret, handler_errno, NULL);
    eventfd_t v = 0;
    errno = SENTINEL;
    r = eventfd_read(handler_efd, &v);
    e = errno;
    snprintf(extra, sizeof(extra), "value=%llu", (unsigned long long)v);
    report("eventfd_read_handler_value", r, e, extra);
  }

  /* epoll_wait on an fd that is not an epoll instance. */
  {
    struct epoll_event ev;
    errno = SENTINEL;
    r = epoll_wait(efd, &ev, 1, 0);
    e = errno;
    report("epoll_wait_not_epoll", r, e, NULL);
  }

  /* read and eventfd_read of an empty non-blocking eventfd. */
  {
    uint64_t v = 0;
    errno = SENTINEL;
    r = read(efd, &v, sizeof(v));
    e = errno;
    report("read_empty_nonblock", r, e, NULL);
    eventfd_t ev = 0;
    errno = SENTINEL;
    r = eventfd_read(efd, &ev);
    e = errno;
    report("eventfd_read_empty_nonblock", r, e, NULL);
  }

  /* writes an eventfd refuses: too short, and the reserved value. */
  {
    uint32_t four = 1;
    errno = SENTINEL;
    r = write(efd, &four, sizeof(four));
    e = errno;
    report("write_4_bytes", r, e, NULL);
    uint64_t max = UINT64_MAX;
    errno = SENTINEL;
    r = write(efd, &max, sizeof(max));
    e = errno;
    report("write_uint64_max", r, e, NULL);
  }

  /* read on fd -1. */
  {
    char c;
    errno = SENTINEL;
    r = read(-1, &c, 1);
    e = errno;
    report("read_fd_minus_1", r, e, NULL);
  }

  /* zero-timeout waits on an empty eventfd: ret 0, errno untouched. */
  {
    struct pollfd p = {.fd = efd, .events = POLLIN};
    struct timespec zero = {0, 0};
    errno = SENTINEL;
    r = ppoll(&p, 1, &zero, NULL);
    e = errno;
    report("ppoll_zero_timeout", r, e, NULL);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(efd, &rd);
    struct timeval tv = {0, 0};
    errno = SENTINEL;
    r = select(efd + 1, &rd, NULL, NULL, &tv);
    e = errno;
    report("select_zero_timeval", r, e, NULL);
  }

  /* eventfd with flags it does not know. */
  {
    errno = SENTINEL;
    r = eventfd(0, -1);
    e = errno;
    if (r >= 0) close((int)r);
    report("eventfd_bad_flags", r, e, NULL);
  }

  /* pselect with a temporary mask: the mask afterwards equals the one before. */
  {
    uint64_t before = current_mask();
    sigset_t during;
    sigemptyset(&during);
    sigaddset(&during, SIGUSR2);
    sigaddset(&during, SIGTERM);
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(efd, &rd);
    struct timespec zero = {0, 0};
    errno = SENTINEL;
    r = pselect(efd + 1, &rd, NULL, NULL, &zero, &during);
    e = errno;
    uint64_t after = current_mask();
    snprintf(extra, sizeof(extra), "mask_same=%d", before == after);
    report("pselect_sigmask", r, e, extra);
  }

  /* successful calls on a ready eventfd: errno untouched. */
  {
    errno = SENTINEL;
    r = eventfd_write(work, 3);
    e = errno;
    report("eventfd_write_ok", r, e, NULL);
    uint64_t v = 4;
    errno = SENTINEL;
    r = write(work, &v, sizeof(v));
    e = errno;
    report("write_ok", r, e, NULL);
    struct pollfd p = {.fd = work, .events = POLLIN};
    errno = SENTINEL;
    r = poll(&p, 1, -1);
    e = errno;
    snprintf(extra, sizeof(extra), "revents=0x%x", (unsigned)p.revents);
    report("poll_ready", r, e, extra);
    int ep = epoll_create1(EPOLL_CLOEXEC);
    struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 7};
    if (ep < 0 || epoll_ctl(ep, EPOLL_CTL_ADD, work, &ev) != 0) die("epoll");
    struct epoll_event out = {0};
    errno = SENTINEL;
    r = epoll_wait(ep, &out, 1, -1);
    e = errno;
    snprintf(extra, sizeof(extra), "data=%llu", (unsigned long long)out.data.u64);
    report("epoll_wait_ready", r, e, extra);
    close(ep);
    v = 0;
    errno = SENTINEL;
    r = read(work, &v, sizeof(v));
    e = errno;
    snprintf(extra, sizeof(extra), "value=%llu", (unsigned long long)v);
    report("read_ok", r, e, extra);
    errno = SENTINEL;
    r = eventfd_write(work, 9);
    e = errno;
    report("eventfd_write_ok2", r, e, NULL);
    eventfd_t ev2 = 0;
    errno = SENTINEL;
    r = eventfd_read(work, &ev2);
    e = errno;
    snprintf(extra, sizeof(extra), "value=%llu", (unsigned long long)ev2);
    report("eventfd_read_ok", r, e, extra);
  }

  /* syscall() and prctl(), which the shim passes through to notice seccomp
   * filters: results and errno exactly as glibc's. */
  {
    errno = SENTINEL;
    long r = syscall(SYS_close, -1);
    int e = errno;
    report("syscall_close_bad_fd", r, e, NULL);
    errno = SENTINEL;
    r = syscall(SYS_getppid) > 0;
    e = errno;
    report("syscall_getppid_ok", r, e, NULL);
    errno = SENTINEL;
    r = prctl(-1, 0, 0, 0, 0);
    e = errno;
    report("prctl_bad_option", r, e, NULL);
    errno = SENTINEL;
    r = prctl(PR_GET_DUMPABLE, 0, 0, 0, 0);
    e = errno;
    report("prctl_get_dumpable", r, e, NULL);
  }

  printf("sigmask=%016llx\n", (unsigned long long)current_mask());
  return 0;
}
