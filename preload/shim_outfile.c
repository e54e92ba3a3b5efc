/* PROBE_OUTPUT's file: opened with the agent's rules, and held on an fd the
 * host can never have wanted.
 *
 * Rules (those of RecordWriter): never follow a symlink (O_NOFOLLOW), never
 * truncate or reuse what is there (O_EXCL) unless PROBE_OUTPUT_FORCE=1, which
 * unlinks an existing regular file and creates it anew (a link is still
 * refused; a device or FIFO is written as it is); mode 0600. Exec'd
 * descendants append to the file their first ancestor made, and only to that
 * file: PROBE_OUTPUT_APPEND holds its device and inode.
 *
 * The fd: moved above the soft RLIMIT_NOFILE when the hard limit allows
 * (the host can never allocate there), else to the top of the range (fd
 * 1023 when the limit is above 4096: a higher fd grows the fd table), and
 * when the limit is too small for that (< 64) the shim holds no fd at all
 * and opens the file for each flush. Raw syscalls: the shim's own calls
 * must not go through its wrappers or change errno. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim_internal.h"

#define SHIM_MIN_FD_LIMIT 64    /* below this the shim holds no fd between writes */
#define SHIM_MAX_RAISED_FD 4096 /* above, a high fd would grow the host's fd table (8 B a slot) */

/* One line on the host's stderr: PROBE_OUTPUT was set and cannot be used. */
static void complain(const char* path, const char* why) {
  char line[SHIM_PATH_MAX + 160];
  int n = snprintf(line, sizeof(line), "probe-preload: PROBE_OUTPUT=%s: %s; recording nothing\n",
                   path, why);
  if (n > 0)
    syscall(SYS_write, 2, line, (size_t)(n < (int)sizeof(line) ? n : (int)sizeof(line) - 1));
}

static int get_nofile(struct rlimit* rl) {
  return syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, NULL, rl) == 0;
}

/* Moves fd where the host will not miss it; returns the fd to keep, or -1
 * (fd closed) when the limit is too small to hold one. */
static int place_fd(int fd) {
  struct rlimit rl;
  if (!get_nofile(&rl)) return fd;
  long high = -1;
  if (rl.rlim_cur < SHIM_MAX_RAISED_FD && rl.rlim_max > rl.rlim_cur) {
    /* Above the soft limit: raise it for one dup, put it back. */
    struct rlimit raised = {rl.rlim_cur + 1, rl.rlim_max};
    if (syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &raised, NULL) == 0) {
      high = syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, (long)rl.rlim_cur);
      syscall(SYS_prlimit64, 0, RLIMIT_NOFILE, &rl, NULL);
    }
  }
  if (high < 0 && rl.rlim_cur >= SHIM_MIN_FD_LIMIT) {
    /* The top of the range: the host loses only its very last fd. */
    long top = rl.rlim_cur > SHIM_MAX_RAISED_FD ? 1024 : (long)rl.rlim_cur;
    for (long want = top - 1; high < 0 && want >= top - 8; --want)
      high = syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, want);
  }
  syscall(SYS_close, fd);
  return (int)high;
}

static int same_file(long fd, dev_t dev, ino_t ino) {
  struct stat st;
  return syscall(SYS_fstat, fd, &st) == 0 && st.st_dev == dev && st.st_ino == ino;
}

/* O_EXCL creation, with PROBE_OUTPUT_FORCE's replacement of a regular file. */
static long create_file(const char* path, int force, const char** why) {
  const int flags = O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW;
  long fd = syscall(SYS_openat, AT_FDCWD, path, flags | O_CREAT | O_EXCL, 0600);
  if (fd >= 0 || errno != EEXIST) {
    if (fd < 0) *why = strerror(errno);
    return fd;
  }
  struct stat st;
  if (syscall(SYS_newfstatat, AT_FDCWD, path, &st, AT_SYMLINK_NOFOLLOW) != 0) {
    *why = strerror(errno);
    return -1;
  }
  if (S_ISLNK(st.st_mode)) {
    *why = "is a symbolic link (never followed)";
    return -1;
  }
  if (!force) {
    *why = "exists (PROBE_OUTPUT_FORCE=1 replaces it)";
    return -1;
  }
  if (S_ISREG(st.st_mode)) { /* replaced, never truncated in place */
    if (syscall(SYS_unlinkat, AT_FDCWD, path, 0) != 0) {
      *why = strerror(errno);
      return -1;
    }
    fd = syscall(SYS_openat, AT_FDCWD, path, flags | O_CREAT | O_EXCL, 0600);
  } else if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
    fd = syscall(SYS_openat, AT_FDCWD, path, flags | O_NONBLOCK);
  } else {
    *why = "is not a regular file, device or FIFO";
    return -1;
  }
  if (fd < 0) *why = strerror(errno);
  return fd;
}

/* A relative PROBE_OUTPUT is made absolute now, for this process's later
 * reopens and its exec'd descendants, which may run elsewhere. */
static void make_absolute(void) {
  struct shim_state* s = &probe_shim;
  char cwd[SHIM_PATH_MAX];
  if (s->out_path[0] == '/' || syscall(SYS_getcwd, cwd, sizeof(cwd)) <= 0) return;
  size_t c = strlen(cwd), p = strlen(s->out_path);
  if (c + 1 + p >= sizeof(s->out_path)) return;
  memmove(s->out_path + c + 1, s->out_path, p + 1);
  memcpy(s->out_path, cwd, c);
  s->out_path[c] = '/';
  setenv("PROBE_OUTPUT", s->out_path, 1);
}

int shim_outfile_open(int* is_root) {
  struct shim_state* s = &probe_shim;
  make_absolute();
  const char* append = getenv("PROBE_OUTPUT_APPEND");
  const char* force = getenv("PROBE_OUTPUT_FORCE");
  const char* why = NULL;
  long fd;
  *is_root = !(append && *append);
  if (*is_root) {
    fd = create_file(s->out_path, force && !strcmp(force, "1"), &why);
  } else {
    unsigned long long dev = 0, ino = 0;
    fd = syscall(SYS_openat, AT_FDCWD, s->out_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
      why = strerror(errno);
    } else if (sscanf(append, "%llu:%llu", &dev, &ino) != 2 ||
               !same_file(fd, (dev_t)dev, (ino_t)ino)) {
      why = "is not the file this process's ancestor created";
      syscall(SYS_close, fd);
      fd = -1;
    }
  }
  struct stat st;
  if (fd >= 0 && syscall(SYS_fstat, fd, &st) != 0) {
    why = strerror(errno);
    syscall(SYS_close, fd);
    fd = -1;
  }
  if (fd < 0) {
    complain(s->out_path, why ? why : "cannot be opened");
    return 0;
  }
  s->out_dev = st.st_dev;
  s->out_ino = st.st_ino;
  if (*is_root) {
    char value[64];
    snprintf(value, sizeof(value), "%llu:%llu", (unsigned long long)st.st_dev,
             (unsigned long long)st.st_ino);
    setenv("PROBE_OUTPUT_APPEND", value, 1); /* exec'd descendants append, to this file only */
  }
  s->out_fd = place_fd((int)fd);
  return 1;
}

int shim_outfile_fd(int* transient) {
  struct shim_state* s = &probe_shim;
  *transient = 0;
  int fd = __atomic_load_n(&s->out_fd, __ATOMIC_ACQUIRE);
  if (fd >= 0 && same_file(fd, s->out_dev, s->out_ino)) return fd;
  /* The host closed or replaced our fd (or we hold none): the same file
   * again, by path, never through a link, and never another file. */
  long again =
      syscall(SYS_openat, AT_FDCWD, s->out_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (again < 0) return -1;
  if (!same_file(again, s->out_dev, s->out_ino)) {
    syscall(SYS_close, again);
    return -1;
  }
  int placed = place_fd((int)again);
  if (placed >= 0) {
    /* Two threads may both reopen: keep one, close the other. */
    int expected = fd;
    if (__atomic_compare_exchange_n(&s->out_fd, &expected, placed, 0, __ATOMIC_ACQ_REL,
                                    __ATOMIC_ACQUIRE))
      return placed;
    syscall(SYS_close, placed);
    return expected;
  }
  /* No room to hold one: open for this write only. */
  again = syscall(SYS_openat, AT_FDCWD, s->out_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOFOLLOW);
  if (again < 0) return -1;
  if (!same_file(again, s->out_dev, s->out_ino)) {
    syscall(SYS_close, again);
    return -1;
  }
  *transient = 1;
  return (int)again;
}
