/* A host that closes every fd it did not open and dup2()s its own file over
 * a range of numbers, the way daemons and some test harnesses do: the shim's
 * file (PROBE_OUTPUT) or region must not end up in the host's files, and
 * the host's file must not get the shim's bytes.
 *
 * usage: shim_closefds HOST_FILE
 * Prints: shim_closefds pid=P eventfd_writes=N host_bytes=B */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <unistd.h>

static int ops(int n) {
  int efd = eventfd(0, 0);
  for (int i = 0; i < n; ++i) {
    eventfd_t v;
    eventfd_write(efd, 1);
    eventfd_read(efd, &v);
  }
  close(efd);
  return n;
}

int main(int argc, char** argv) {
  if (argc < 2) return 2;
  int writes = ops(100);
  close_range(3, ~0u, 0);
  int host = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (host < 0) return 2;
  /* Cover the numbers a library might have moved its fds to. */
  for (int fd = 3; fd < 1024; ++fd)
    if (fd != host) dup2(host, fd);
  const char msg[] = "host data\n";
  if (write(host, msg, sizeof(msg) - 1) != (ssize_t)(sizeof(msg) - 1)) return 2;
  writes += ops(100);
  close_range(3, ~0u, 0);
  struct stat st;
  stat(argv[1], &st);
  printf("shim_closefds pid=%d eventfd_writes=%d host_bytes=%lld\n", getpid(), writes,
         (long long)st.st_size);
  return 0;
}
