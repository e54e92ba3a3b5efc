/* Hosts that confine themselves, for the LD_PRELOAD shim: each mode does
 * what a real program may do to itself after start-up, then makes wrapped
 * calls, and prints what it saw, so a test can tell whether the shim took
 * anything from it.
 *
 *   seccomp kill|errno  installs a seccomp filter that kills the process
 *                       (SECCOMP_RET_KILL_PROCESS) or fails with EPERM on
 *                       memfd_create and socket, then makes 10 eventfd_write
 *                       and poll calls, forks a child that makes 10 more
 *                       eventfd_write calls and a child that execs this
 *                       program (`open 1`), and waits for both.
 *                       Prints: shim_confined pid=P polls=N eventfd_writes=N
 *                       forked=S execed=S (S: the children's wait statuses)
 *   malloc MB           one poll, then mallocs and touches MB MiB.
 *                       Prints: shim_confined pid=P malloc_ok=1|0
 *   open N              one poll, then opens /dev/null N times.
 *                       Prints: shim_confined pid=P opened=K errno=E
 *   mem N               N eventfd_write calls, then its own VmSize and VmRSS,
 *                       and the size and Rss of the shim's region (smaps).
 *                       Prints: shim_confined pid=P vm_kb=V rss_kb=R
 *                       region_kb=S region_rss_kb=T
 *   fork N OPS exit|_exit
 *                       forks N children; each makes OPS eventfd_write
 *                       calls and leaves through exit() or _exit().
 *                       Prints: shim_confined pid=P children=N reaped=N
 *                       and each child: shim_confined_child pid=C eventfd_writes=OPS
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

static void say(const char* line) {
  size_t n = strlen(line);
  if (write(1, line, n) != (ssize_t)n) _exit(3);
}

static int install_filter(int kill) {
  const unsigned int action = kill ? SECCOMP_RET_KILL_PROCESS : (SECCOMP_RET_ERRNO | EPERM);
  struct sock_filter f[] = {
      BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_memfd_create, 2, 0),
      BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 1, 0),
      BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
      BPF_STMT(BPF_RET | BPF_K, action),
  };
  struct sock_fprog prog = {.len = sizeof(f) / sizeof(f[0]), .filter = f};
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return -1;
  return (int)syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog);
}

static int seccomp_mode(const char* how, const char* self) {
  if (install_filter(strcmp(how, "kill") == 0) != 0) {
    perror("seccomp");
    return 2;
  }
  int efd = eventfd(0, EFD_CLOEXEC);
  if (efd < 0) return 2;
  int polls = 0, writes = 0;
  for (int i = 0; i < 10; ++i) {
    struct pollfd p = {.fd = efd, .events = POLLIN};
    if (eventfd_write(efd, 1) == 0) ++writes;
    if (poll(&p, 1, 0) == 1) ++polls;
    eventfd_t v;
    eventfd_read(efd, &v);
  }
  int forked = -1, execed = -1;
  pid_t c = fork();
  if (c == 0) {
    int n = 0;
    for (int i = 0; i < 10; ++i) n += eventfd_write(efd, 1) == 0;
    _exit(n == 10 ? 0 : 1);
  }
  if (c > 0) waitpid(c, &forked, 0);
  c = fork();
  if (c == 0) {
    execl(self, self, "open", "1", (char*)NULL);
    _exit(127);
  }
  if (c > 0) waitpid(c, &execed, 0);
  char buf[160];
  snprintf(buf, sizeof(buf),
           "shim_confined pid=%d polls=%d eventfd_writes=%d forked=%d execed=%d\n", getpid(), polls,
           writes, forked, execed);
  say(buf);
  return 0;
}

static int malloc_mode(long mb) {
  poll(NULL, 0, 0);
  char* p = malloc((size_t)mb << 20);
  if (p) memset(p, 1, (size_t)mb << 20);
  char buf[128];
  snprintf(buf, sizeof(buf), "shim_confined pid=%d malloc_ok=%d\n", getpid(), p != NULL);
  say(buf);
  free(p);
  return 0;
}

static int open_mode(int n) {
  poll(NULL, 0, 0);
  int opened = 0, err = 0;
  for (int i = 0; i < n; ++i) {
    if (open("/dev/null", O_RDONLY) >= 0)
      ++opened;
    else
      err = errno;
  }
  char buf[128];
  snprintf(buf, sizeof(buf), "shim_confined pid=%d opened=%d errno=%d\n", getpid(), opened, err);
  say(buf);
  return 0;
}

static long status_kb(const char* key) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long kb = -1;
  size_t n = strlen(key);
  while (f && fgets(line, sizeof(line), f))
    if (!strncmp(line, key, n)) kb = atol(line + n);
  if (f) fclose(f);
  return kb;
}

/* Size and Rss of the mapping named memfd:probe-shim, in kB. */
static void region_kb(long* size, long* rss) {
  FILE* f = fopen("/proc/self/smaps", "r");
  char line[512];
  int in = 0;
  *size = *rss = 0;
  while (f && fgets(line, sizeof(line), f)) {
    if (strchr(line, '-') && strchr(line, ':') && line[0] != ' ' && strncmp(line, "Rss", 3) &&
        strncmp(line, "Size", 4) && strchr(line, '/') != NULL) {
      in = strstr(line, "memfd:probe-shim") != NULL;
      continue;
    }
    if (in && !strncmp(line, "Size:", 5)) *size += atol(line + 5);
    if (in && !strncmp(line, "Rss:", 4)) *rss += atol(line + 4);
  }
  if (f) fclose(f);
}

static int mem_mode(long n) {
  int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  for (long i = 0; i < n; ++i) eventfd_write(efd, 1);
  char buf[128];
  long size, rss;
  region_kb(&size, &rss);
  snprintf(buf, sizeof(buf),
           "shim_confined pid=%d vm_kb=%ld rss_kb=%ld region_kb=%ld region_rss_kb=%ld\n", getpid(),
           status_kb("VmSize:"), status_kb("VmRSS:"), size, rss);
  say(buf);
  return 0;
}

static int fork_mode(int n, int ops, int use_exit) {
  int reaped = 0;
  for (int i = 0; i < n; ++i) {
    pid_t c = fork();
    if (c < 0) return 2;
    if (c == 0) {
      int efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
      int writes = 0;
      for (int k = 0; k < ops; ++k) writes += eventfd_write(efd, 1) == 0;
      char buf[128];
      snprintf(buf, sizeof(buf), "shim_confined_child pid=%d eventfd_writes=%d\n", getpid(),
               writes);
      say(buf);
      if (use_exit) exit(0);
      _exit(0);
    }
  }
  int st;
  while (wait(&st) > 0) reaped += WIFEXITED(st) && WEXITSTATUS(st) == 0;
  char buf[128];
  snprintf(buf, sizeof(buf), "shim_confined pid=%d children=%d reaped=%d\n", getpid(), n, reaped);
  say(buf);
  return 0;
}

int main(int argc, char** argv) {
  if (argc >= 3 && !strcmp(argv[1], "seccomp")) return seccomp_mode(argv[2], argv[0]);
  if (argc >= 3 && !strcmp(argv[1], "malloc")) return malloc_mode(atol(argv[2]));
  if (argc >= 3 && !strcmp(argv[1], "open")) return open_mode(atoi(argv[2]));
  if (argc >= 3 && !strcmp(argv[1], "mem")) return mem_mode(atol(argv[2]));
  if (argc >= 5 && !strcmp(argv[1], "fork"))
    return fork_mode(atoi(argv[2]), atoi(argv[3]), !strcmp(argv[4], "exit"));
  fprintf(stderr,
          "usage: shim_confined seccomp kill|errno | malloc MB | open N | mem N | "
          "fork N OPS exit|_exit\n");
  return 2;
}
