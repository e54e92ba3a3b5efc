// A multi-threaded process whose leader thread exits first: a second thread,
// named "straggler", exits last (~100 ms later) and ends the process. The
// process's name stays its leader's comm, "leader_exits".
#include <pthread.h>
#include <stdio.h>
#include <unistd.h>

static void* straggle(void* arg) {
  (void)arg;
  pthread_setname_np(pthread_self(), "straggler");
  usleep(100000);
  return NULL;
}

int main(void) {
  pthread_t t;
  if (pthread_create(&t, NULL, straggle, NULL) != 0) return 1;
  printf("leader pid=%d\n", getpid());
  fflush(stdout);
  pthread_exit(NULL);  // the process lives on in the straggler
}
