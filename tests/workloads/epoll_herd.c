// Two threads in epoll_wait on one level-triggered eventfd, all threads on
// CPU 0. Each write wakes both waiters; the first to run reads the value, so
// the other finds nothing ready and goes back to sleep inside the same
// epoll_wait call: calls that sleep twice or more. The writer waits for an
// acknowledgement before the next write.
//
// Usage: epoll_herd ROUNDS
// Prints, for each waiter once it is done, its own context switches
// (getrusage RUSAGE_THREAD: voluntary + involuntary) and the number of its
// epoll_wait calls: "waiter tid=.. csw=.. waits=.. got=..".
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <unistd.h>

static int data_fd, ack_fd, ep_fd;
static volatile int done;

static void pin_cpu0(void) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  sched_setaffinity(0, sizeof(set), &set);
}

static void* waiter(void* arg) {
  (void)arg;
  pin_cpu0();
  long waits = 0, got = 0;
  for (;;) {
    struct epoll_event ev;
    ++waits;
    if (epoll_wait(ep_fd, &ev, 1, -1) != 1) continue;
    if (done) break;  // the last write stays unread: it wakes both
    uint64_t v;
    if (read(data_fd, &v, sizeof(v)) != sizeof(v)) continue;  // the other waiter took it
    ++got;
    uint64_t one = 1;
    if (write(ack_fd, &one, sizeof(one)) != sizeof(one)) abort();
  }
  // Counted before printing: the switches after this line are not in csw.
  struct rusage ru;
  getrusage(RUSAGE_THREAD, &ru);
  printf("waiter tid=%ld csw=%ld waits=%ld got=%ld\n", (long)syscall(SYS_gettid),
         ru.ru_nvcsw + ru.ru_nivcsw, waits, got);
  fflush(stdout);
  return NULL;
}

int main(int argc, char** argv) {
  const long rounds = argc > 1 ? atol(argv[1]) : 1000;
  pin_cpu0();
  data_fd = eventfd(0, EFD_NONBLOCK);
  ack_fd = eventfd(0, 0);
  ep_fd = epoll_create1(0);
  struct epoll_event ev = {.events = EPOLLIN};
  if (data_fd < 0 || ack_fd < 0 || ep_fd < 0 || epoll_ctl(ep_fd, EPOLL_CTL_ADD, data_fd, &ev))
    return 1;
  pthread_t t[2];
  for (int i = 0; i < 2; ++i)
    if (pthread_create(&t[i], NULL, waiter, NULL)) return 1;
  usleep(20000);  // both waiters asleep in epoll_wait
  uint64_t one = 1, v;
  for (long r = 0; r < rounds; ++r) {
    if (write(data_fd, &one, sizeof(one)) != sizeof(one)) return 1;
    if (read(ack_fd, &v, sizeof(v)) != sizeof(v)) return 1;
  }
  done = 1;
  if (write(data_fd, &one, sizeof(one)) != sizeof(one)) return 1;
  for (int i = 0; i < 2; ++i) pthread_join(t[i], NULL);
  printf("herd rounds=%ld\n", rounds);
  return 0;
}
