// A multi-threaded process whose leader thread exits first: a second thread,
// named "straggler", exits last (~100 ms later) and ends the process. The
// process's name stays its leader's comm, "leader_exits".
//
// With "burn MS", the leader first spends MS ms of CPU, and the straggler
// prints the process's CPU time as the kernel counts it (getrusage
// RUSAGE_SELF, every thread) just before it ends the process: the ground
// truth for the process's user and system time.
#define _GNU_SOURCE /* pthread_setname_np */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static int report_rusage;

static void* straggle(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "straggler");
  usleep(100000);
  if (report_rusage) {
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("rusage user_ns=%lld system_ns=%lld\n",
           (long long)ru.ru_utime.tv_sec * 1000000000LL + ru.ru_utime.tv_usec * 1000LL,
           (long long)ru.ru_stime.tv_sec * 1000000000LL + ru.ru_stime.tv_usec * 1000LL);
    fflush(stdout);
  }
  return NULL;
}

static double thread_cpu_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char** argv) {
  if (argc == 3 && strcmp(argv[1], "burn") == 0) {
    report_rusage = 1;
    double until = thread_cpu_ms() + atof(argv[2]);
    volatile unsigned long spin = 0;
    while (thread_cpu_ms() < until) spin++;
  }
  pthread_t t;
  if (pthread_create(&t, NULL, straggle, NULL) != 0) return 1;
  printf("leader pid=%d\n", getpid());
  fflush(stdout);
  pthread_exit(NULL);  // the process lives on in the straggler
}
