// A sleeper whose select() waits end by their own timeout, on a CPU where
// another process spins: both are pinned to one CPU, so each timeout fires
// while the spinner is on it. Prints what happened:
//   "timer spinner_pid=.. sleeper_tid=.. selects=N timeouts=M"
// Usage: timer_spinner CPU SELECTS TIMEOUT_US
#define _GNU_SOURCE
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static int pin(int cpu) {
  cpu_set_t set;
  CPU_ZERO(&set);
  CPU_SET(cpu, &set);
  return sched_setaffinity(0, sizeof(set), &set);
}

int main(int argc, char** argv) {
  if (argc != 4) {
    fprintf(stderr, "usage: timer_spinner CPU SELECTS TIMEOUT_US\n");
    return 2;
  }
  int cpu = atoi(argv[1]), selects = atoi(argv[2]), timeout_us = atoi(argv[3]);
  if (pin(cpu) != 0) {
    perror("sched_setaffinity");
    return 1;
  }
  pid_t spinner = fork();
  if (spinner == 0) {
    for (volatile unsigned long i = 0;; ++i) {
    }
  }
  usleep(20000);  // the spinner is running
  int timeouts = 0;
  for (int i = 0; i < selects; ++i) {
    struct timeval tv = {0, timeout_us};
    if (select(0, NULL, NULL, NULL, &tv) == 0) timeouts++;
  }
  kill(spinner, SIGKILL);
  waitpid(spinner, NULL, 0);
  printf("timer spinner_pid=%d sleeper_tid=%ld selects=%d timeouts=%d\n", spinner,
         (long)syscall(SYS_gettid), selects, timeouts);
  return 0;
}
