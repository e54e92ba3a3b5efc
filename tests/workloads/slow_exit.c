// A process that keeps running after the kernel's sched_process_exit: it
// exits holding many pipes, so closing its files (exit_files, after that
// tracepoint) takes tens of milliseconds, while a spinner on the same CPU
// preempts it. Its run-queue counts go on after its exit record.
//
// Usage: slow_exit PIPES [MIB]  (MIB: memory touched, given back at exit)
// Prints "slow pid=.. exit_ns=.. reaped_ns=.." (CLOCK_MONOTONIC).
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static unsigned long long now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}

int main(int argc, char** argv) {
  const int pipes = argc > 1 ? atoi(argv[1]) : 9000;
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(0, &set);
  sched_setaffinity(0, sizeof(set), &set);  // inherited: all three on CPU 0
  pid_t spinner = fork();
  if (spinner == 0)
    for (;;) {
    }
  int sync_pipe[2];
  if (pipe(sync_pipe)) return 1;
  pid_t slow = fork();
  if (slow == 0) {
    struct rlimit r;  // the soft limit up to the hard one, which may be low
    if (getrlimit(RLIMIT_NOFILE, &r)) _exit(2);
    r.rlim_cur = r.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &r) || r.rlim_cur < (rlim_t)pipes * 2 + 16) _exit(2);
    int fds[2];
    for (int i = 0; i < pipes; ++i)
      if (pipe(fds)) _exit(3);
    // Memory to give back at exit too (exit_mm).
    const size_t bytes = (size_t)(argc > 2 ? atoi(argv[2]) : 0) << 20;
    char* m = bytes ? malloc(bytes) : NULL;
    for (size_t i = 0; m && i < bytes; i += 4096) m[i] = 1;
    unsigned long long t = now_ns();
    if (write(sync_pipe[1], &t, sizeof(t)) != sizeof(t)) _exit(4);
    _exit(0);  // exit_files closes every pipe
  }
  close(sync_pipe[1]);  // a child that fails before writing ends the read
  unsigned long long exit_ns = 0;
  const int got = read(sync_pipe[0], &exit_ns, sizeof(exit_ns)) == sizeof(exit_ns);
  int st = 0;
  waitpid(slow, &st, 0);
  const unsigned long long reaped = now_ns();
  kill(spinner, SIGKILL);
  waitpid(spinner, NULL, 0);
  printf("slow pid=%d exit_ns=%llu reaped_ns=%llu status=%d\n", slow, exit_ns, reaped, st);
  return got && st == 0 ? 0 : 1;
}
