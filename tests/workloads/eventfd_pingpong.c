/* Ground truth for syscall tracing: thread A sleeps D ms, then writes an
 * eventfd; thread B waits for it with select, poll or epoll and reads it.
 * Prints what it did as key=value pairs so a test can compare the record
 * file with the workload's own counts, and on a second line the workload's
 * own CLOCK_MONOTONIC just before and just after each of the first
 * MAX_TIMED blocking waits ("wait_clock_ns=BEFORE:AFTER,..."): each recorded
 * wait must lie inside its bracket, whatever the machine's timer latency.
 *
 * usage: eventfd_pingpong MODE DELAY_MS ITERATIONS [--fork K] [--start-file PATH]
 *                         [--reader-cpu N] [--writer-cpu N]
 *   MODE         select | poll | epoll
 *   --fork K     afterwards a forked child writes the inherited eventfd K times
 *   --start-file create the eventfd, print "ready", and begin only once PATH
 *                exists (so a tracer can attach with --pid in between)
 *   --reader-cpu, --writer-cpu
 *                pin the waiting (main) thread or the writer thread to CPU N,
 *                so a CPU hog beside one of them delays only that one */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define VALUE_BASE 1000
#define MAX_TIMED 256

struct shared {
  int efd;
  int iterations;
  int delay_ms;
  int consumed; /* iterations B has read; A waits for it (futex: not traced) */
  pthread_mutex_t mu;
  pthread_cond_t cv;
  uint64_t written_sum;
  int writes;
  int writer_cpu; /* -1: anywhere */
};

static void die(const char *what) {
  fprintf(stderr, "eventfd_pingpong: %s: %s\n", what, strerror(errno));
  exit(2);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

static unsigned long long monotonic_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

static void pin_to(int cpu) {
  if (cpu < 0) return;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  if (sched_setaffinity(0, sizeof(set), &set) != 0) die("sched_setaffinity");
}

static void *writer_thread(void *arg) {
  struct shared *s = arg;
  pin_to(s->writer_cpu);
  for (int i = 0; i < s->iterations; ++i) {
    sleep_ms(s->delay_ms);
    uint64_t v = VALUE_BASE + (uint64_t)i;
    if (write(s->efd, &v, sizeof(v)) != sizeof(v)) die("write eventfd");
    s->written_sum += v;
    s->writes++;
    pthread_mutex_lock(&s->mu);
    while (s->consumed <= i) pthread_cond_wait(&s->cv, &s->mu);
    pthread_mutex_unlock(&s->mu);
  }
  return NULL;
}

/* One wait with no timeout (timeout_ms < 0) or the given one; returns the
 * syscall's result. */
static int wait_readable(const char *mode, int efd, int epfd, int timeout_ms) {
  if (strcmp(mode, "select") == 0) {
    fd_set rd;
    FD_ZERO(&rd);
    FD_SET(efd, &rd);
    struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
    return select(efd + 1, &rd, NULL, NULL, timeout_ms < 0 ? NULL : &tv);
  }
  if (strcmp(mode, "poll") == 0) {
    struct pollfd p = {.fd = efd, .events = POLLIN};
    return poll(&p, 1, timeout_ms);
  }
  struct epoll_event ev;
  return epoll_wait(epfd, &ev, 1, timeout_ms);
}

/* Sends fd to ourselves with SCM_RIGHTS; returns the new fd the kernel made. */
static int receive_over_socket(int fd) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) return -1;
  char byte = 'x';
  struct iovec iov = {&byte, 1};
  union {
    char buf[CMSG_SPACE(sizeof(int))];
    struct cmsghdr align;
  } ctl;
  memset(&ctl, 0, sizeof(ctl));
  struct msghdr msg = {
      .msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf)};
  struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(c), &fd, sizeof(int));
  int out = -1;
  if (sendmsg(sv[0], &msg, 0) == 1 && recvmsg(sv[1], &msg, 0) == 1) {
    c = CMSG_FIRSTHDR(&msg);
    if (c && c->cmsg_type == SCM_RIGHTS) memcpy(&out, CMSG_DATA(c), sizeof(int));
  }
  close(sv[0]);
  close(sv[1]);
  return out;
}

int main(int argc, char **argv) {
  if (argc < 4) {
    fprintf(stderr,
            "usage: eventfd_pingpong select|poll|epoll DELAY_MS ITERATIONS [--fork K] "
            "[--start-file PATH]\n");
    return 2;
  }
  const char *mode = argv[1];
  if (strcmp(mode, "select") && strcmp(mode, "poll") && strcmp(mode, "epoll")) {
    fprintf(stderr, "eventfd_pingpong: unknown mode '%s'\n", mode);
    return 2;
  }
  struct shared s = {.delay_ms = atoi(argv[2]), .iterations = atoi(argv[3]), .writer_cpu = -1};
  int fork_writes = 0, reader_cpu = -1;
  const char *start_file = NULL;
  for (int i = 4; i + 1 < argc; i += 2) {
    if (strcmp(argv[i], "--fork") == 0) fork_writes = atoi(argv[i + 1]);
    if (strcmp(argv[i], "--start-file") == 0) start_file = argv[i + 1];
    if (strcmp(argv[i], "--reader-cpu") == 0) reader_cpu = atoi(argv[i + 1]);
    if (strcmp(argv[i], "--writer-cpu") == 0) s.writer_cpu = atoi(argv[i + 1]);
  }
  pthread_mutex_init(&s.mu, NULL);
  pthread_cond_init(&s.cv, NULL);

  s.efd = eventfd(0, EFD_CLOEXEC);
  if (s.efd < 0) die("eventfd");
  if (start_file) {
    printf("ready pid=%d\n", getpid());
    fflush(stdout);
    struct stat st;
    while (stat(start_file, &st) != 0) sleep_ms(1);
  }
  int epfd = epoll_create1(EPOLL_CLOEXEC);
  struct epoll_event ev = {.events = EPOLLIN, .data.fd = s.efd};
  if (epfd < 0 || epoll_ctl(epfd, EPOLL_CTL_ADD, s.efd, &ev) != 0) die("epoll");

  /* Not eventfd operations: a pipe read and write in the same process. */
  int pipefd[2];
  if (pipe(pipefd) != 0) die("pipe");
  uint64_t junk = 42;
  if (write(pipefd[1], &junk, sizeof(junk)) != sizeof(junk)) die("write pipe");
  if (read(pipefd[0], &junk, sizeof(junk)) != sizeof(junk)) die("read pipe");

  /* Nothing is pending: a zero-timeout wait must come back expired. */
  int zero = wait_readable(mode, s.efd, epfd, 0);
  if (zero != 0) die("zero-timeout wait was not empty");

  pthread_t writer;
  if (pthread_create(&writer, NULL, writer_thread, &s) != 0) die("pthread_create");
  pin_to(reader_cpu);
  int waits = 0, reads = 0;
  uint64_t read_sum = 0;
  static unsigned long long before[MAX_TIMED], after[MAX_TIMED];
  for (int i = 0; i < s.iterations; ++i) {
    int r;
    do {
      unsigned long long t0 = monotonic_ns();
      r = wait_readable(mode, s.efd, epfd, -1);
      unsigned long long t1 = monotonic_ns();
      if (waits < MAX_TIMED) {
        before[waits] = t0;
        after[waits] = t1;
      }
      waits++;
    } while (r < 0 && errno == EINTR);
    if (r != 1) die("wait");
    uint64_t v;
    if (read(s.efd, &v, sizeof(v)) != sizeof(v)) die("read eventfd");
    reads++;
    read_sum += v;
    pthread_mutex_lock(&s.mu);
    s.consumed = i + 1;
    pthread_cond_signal(&s.cv);
    pthread_mutex_unlock(&s.mu);
  }
  pthread_join(writer, NULL);

  /* The vector forms move the 8 bytes through the first iovec. */
  uint64_t vec_value = 77;
  struct iovec iov = {&vec_value, sizeof(vec_value)};
  if (writev(s.efd, &iov, 1) != sizeof(vec_value)) die("writev eventfd");
  vec_value = 0;
  if (readv(s.efd, &iov, 1) != sizeof(vec_value)) die("readv eventfd");

  /* The same eventfd under other fds: dup'd, and received over a socket. */
  int dup_fd = dup(s.efd);
  int passed_fd = receive_over_socket(s.efd);
  if (dup_fd < 0 || passed_fd < 0) die("dup / SCM_RIGHTS");
  uint64_t dup_value = 11, passed_value = 13, got;
  if (write(dup_fd, &dup_value, sizeof(dup_value)) != sizeof(dup_value)) die("write dup");
  if (write(passed_fd, &passed_value, sizeof(passed_value)) != sizeof(passed_value))
    die("write passed");
  if (read(passed_fd, &got, sizeof(got)) != sizeof(got) || got != dup_value + passed_value)
    die("read passed");

  int child_pid = 0;
  if (fork_writes > 0) {
    child_pid = fork();
    if (child_pid < 0) die("fork");
    if (child_pid == 0) {
      for (int k = 0; k < fork_writes; ++k) {
        uint64_t v = 5;
        if (write(s.efd, &v, sizeof(v)) != sizeof(v)) _exit(3);
      }
      _exit(0);
    }
    int status;
    waitpid(child_pid, &status, 0);
    uint64_t v;
    if (read(s.efd, &v, sizeof(v)) != sizeof(v)) die("read eventfd after fork");
    reads++;
    read_sum += v;
  }

  printf(
      "mode=%s waits=%d zero_timeout_waits=1 reads=%d writes=%d readv=1 writev=1 "
      "written_sum=%llu read_sum=%llu vec_value=%llu child_pid=%d child_writes=%d "
      "eventfd=%d pipe_read=%d pipe_write=%d pipe_reads=1 pipe_writes=1 dup_fd=%d "
      "passed_fd=%d dup_value=11 passed_value=13 other_fd_reads=1 other_fd_writes=2\n",
      mode, waits, reads, s.writes, (unsigned long long)s.written_sum, (unsigned long long)read_sum,
      (unsigned long long)vec_value, child_pid, fork_writes, s.efd, pipefd[0], pipefd[1], dup_fd,
      passed_fd);
  printf("wait_clock_ns=");
  for (int i = 0; i < waits && i < MAX_TIMED; ++i)
    printf("%s%llu:%llu", i ? "," : "", before[i], after[i]);
  printf("\n");
  return 0;
}
