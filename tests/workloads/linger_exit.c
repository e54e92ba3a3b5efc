// A process whose last thread sleeps in its exit path, after the kernel's
// sched_process_exit: it exits holding a TCP socket with SO_LINGER whose
// peer reads nothing, so closing its files (exit_files) waits out the linger
// time. Its scheduler counts go on after its exit record.
//
// Usage: linger_exit LINGER_SECONDS
// The parent listens on 127.0.0.1, never reads, reaps the child and prints
// "child pid=.. exit_ns=.. reaped_ns=.." (CLOCK_MONOTONIC).
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char** argv) {
  const int linger_s = argc > 1 ? atoi(argv[1]) : 1;
  int lfd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
  socklen_t len = sizeof(a);
  int small = 4096;
  setsockopt(lfd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));  // inherited by the accepted one
  if (lfd < 0 || bind(lfd, (struct sockaddr*)&a, sizeof(a)) || listen(lfd, 1) ||
      getsockname(lfd, (struct sockaddr*)&a, &len))
    return 1;
  int sync_pipe[2];
  if (pipe(sync_pipe)) return 1;
  pid_t child = fork();
  if (child == 0) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (s < 0 || connect(s, (struct sockaddr*)&a, sizeof(a))) _exit(2);
    fcntl(s, F_SETFL, O_NONBLOCK);
    char buf[65536];
    memset(buf, 'x', sizeof(buf));
    // Fill the peer's receive window and our send buffer.
    for (int quiet = 0; quiet < 50;) {
      if (write(s, buf, sizeof(buf)) < 0 && errno == EAGAIN) {
        ++quiet;
        usleep(2000);
      }
    }
    struct linger l = {.l_onoff = 1, .l_linger = linger_s};
    setsockopt(s, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    fcntl(s, F_SETFL, 0);  // a blocking socket lingers on close
    unsigned long long t = now_ns();
    if (write(sync_pipe[1], &t, sizeof(t)) != sizeof(t)) _exit(3);
    _exit(0);  // exit_files closes s: up to linger_s seconds asleep
  }
  int c = accept(lfd, NULL, NULL);  // never read
  unsigned long long exit_ns = 0;
  if (c < 0 || read(sync_pipe[0], &exit_ns, sizeof(exit_ns)) != sizeof(exit_ns)) return 1;
  int st = 0;
  waitpid(child, &st, 0);
  printf("child pid=%d exit_ns=%llu reaped_ns=%llu status=%d\n", child, exit_ns, now_ns(), st);
  return 0;
}
