/* The wrapped libc functions. Each calls the next definition (glibc's) with
 * the caller's arguments untouched and returns its result with its errno; the
 * shim only reads a clock around it. Calls before the shim is ready, or while
 * dlsym itself is being resolved (dynamic loading calls back into libc),
 * go straight to the kernel. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/select.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "shim_internal.h"

#define EXPORT __attribute__((visibility("default")))
#define KERNEL_SIGSET_BYTES 8

typedef int (*select_fn)(int, fd_set*, fd_set*, fd_set*, struct timeval*);
typedef int (*pselect_fn)(int, fd_set*, fd_set*, fd_set*, const struct timespec*, const sigset_t*);
typedef int (*poll_fn)(struct pollfd*, nfds_t, int);
typedef int (*ppoll_fn)(struct pollfd*, nfds_t, const struct timespec*, const sigset_t*);
typedef int (*poll_chk_fn)(struct pollfd*, nfds_t, int, size_t);
typedef int (*ppoll_chk_fn)(struct pollfd*, nfds_t, const struct timespec*, const sigset_t*,
                            size_t);
typedef int (*epoll_wait_fn)(int, struct epoll_event*, int, int);
typedef int (*epoll_pwait_fn)(int, struct epoll_event*, int, int, const sigset_t*);
typedef int (*epoll_pwait2_fn)(int, struct epoll_event*, int, const struct timespec*,
                               const sigset_t*);
typedef int (*eventfd_fn)(unsigned int, int);
typedef int (*eventfd_read_fn)(int, eventfd_t*);
typedef int (*eventfd_write_fn)(int, eventfd_t);
typedef ssize_t (*read_fn)(int, void*, size_t);
typedef ssize_t (*read_chk_fn)(int, void*, size_t, size_t);
typedef ssize_t (*write_fn)(int, const void*, size_t);
typedef int (*close_fn)(int);
typedef int (*dup_fn)(int);
typedef int (*dup2_fn)(int, int);
typedef int (*dup3_fn)(int, int, int);
typedef int (*close_range_fn)(unsigned int, unsigned int, int);

/* glibc's definitions, looked up once. */
static struct {
  select_fn select;
  pselect_fn pselect;
  poll_fn poll;
  ppoll_fn ppoll;
  poll_chk_fn __poll_chk;
  ppoll_chk_fn __ppoll_chk;
  epoll_wait_fn epoll_wait;
  epoll_pwait_fn epoll_pwait;
  epoll_pwait2_fn epoll_pwait2;
  eventfd_fn eventfd;
  eventfd_read_fn eventfd_read;
  eventfd_write_fn eventfd_write;
  read_fn read;
  read_chk_fn __read_chk;
  write_fn write;
  close_fn close;
  dup_fn dup;
  dup2_fn dup2;
  dup3_fn dup3;
  close_range_fn close_range;
} libc;

static __thread int resolving __attribute__((tls_model("initial-exec")));

static void* resolve(const char* name) {
  if (resolving) return NULL;
  resolving = 1;
  void* p = dlsym(RTLD_NEXT, name);
  resolving = 0;
  return p;
}

#define REAL(fn)                                                          \
  ({                                                                      \
    __typeof__(libc.fn) p_ = __atomic_load_n(&libc.fn, __ATOMIC_RELAXED); \
    if (!p_) {                                                            \
      p_ = (__typeof__(libc.fn))resolve(#fn);                             \
      if (p_) __atomic_store_n(&libc.fn, p_, __ATOMIC_RELAXED);           \
    }                                                                     \
    p_;                                                                   \
  })

#define TIMED(fn) (probe_shim.ready && shim_timed(fn))

SHIM_HIDDEN void shim_resolve_libc(void) {
  (void)REAL(select), (void)REAL(pselect), (void)REAL(poll), (void)REAL(ppoll);
  (void)REAL(__poll_chk), (void)REAL(__ppoll_chk), (void)REAL(epoll_wait);
  (void)REAL(epoll_pwait), (void)REAL(epoll_pwait2), (void)REAL(eventfd);
  (void)REAL(eventfd_read), (void)REAL(eventfd_write), (void)REAL(read);
  (void)REAL(__read_chk), (void)REAL(write), (void)REAL(close), (void)REAL(dup);
  (void)REAL(dup2), (void)REAL(dup3), (void)REAL(close_range);
}

static long sys_pselect(int n, fd_set* r, fd_set* w, fd_set* e, const struct timespec* t,
                        const sigset_t* mask) {
  struct timespec copy; /* the kernel writes back the time left; pselect must not */
  if (t) copy = *t;
  const void* data[2] = {mask, (const void*)(long)KERNEL_SIGSET_BYTES};
  return syscall(SYS_pselect6, n, r, w, e, t ? &copy : NULL, mask ? data : NULL);
}

static long sys_ppoll(struct pollfd* f, nfds_t n, const struct timespec* t, const sigset_t* m) {
  struct timespec copy;
  if (t) copy = *t;
  return syscall(SYS_ppoll, f, n, t ? &copy : NULL, m, KERNEL_SIGSET_BYTES);
}

EXPORT int select(int n, fd_set* r, fd_set* w, fd_set* e, struct timeval* tv) {
  select_fn f = REAL(select);
  if (!f) return (int)syscall(SYS_select, n, r, w, e, tv);
  if (!TIMED(PROBE_FN_SELECT)) return f(n, r, w, e, tv);
  uint64_t t0 = shim_now();
  int ret = f(n, r, w, e, tv);
  shim_call_done(PROBE_FN_SELECT, t0, ret, n);
  return ret;
}

EXPORT int pselect(int n, fd_set* r, fd_set* w, fd_set* e, const struct timespec* t,
                   const sigset_t* m) {
  pselect_fn f = REAL(pselect);
  if (!f) return (int)sys_pselect(n, r, w, e, t, m);
  if (!TIMED(PROBE_FN_PSELECT)) return f(n, r, w, e, t, m);
  uint64_t t0 = shim_now();
  int ret = f(n, r, w, e, t, m);
  shim_call_done(PROBE_FN_PSELECT, t0, ret, n);
  return ret;
}

EXPORT int poll(struct pollfd* fds, nfds_t n, int timeout) {
  poll_fn f = REAL(poll);
  if (!f) return (int)syscall(SYS_poll, fds, n, timeout);
  if (!TIMED(PROBE_FN_POLL)) return f(fds, n, timeout);
  uint64_t t0 = shim_now();
  int ret = f(fds, n, timeout);
  shim_call_done(PROBE_FN_POLL, t0, ret, (int32_t)n);
  return ret;
}

EXPORT int __poll_chk(struct pollfd* fds, nfds_t n, int timeout, size_t fdslen) {
  poll_chk_fn f = REAL(__poll_chk);
  if (!f) return (int)syscall(SYS_poll, fds, n, timeout);
  if (!TIMED(PROBE_FN_POLL)) return f(fds, n, timeout, fdslen);
  uint64_t t0 = shim_now();
  int ret = f(fds, n, timeout, fdslen);
  shim_call_done(PROBE_FN_POLL, t0, ret, (int32_t)n);
  return ret;
}

EXPORT int ppoll(struct pollfd* fds, nfds_t n, const struct timespec* t, const sigset_t* m) {
  ppoll_fn f = REAL(ppoll);
  if (!f) return (int)sys_ppoll(fds, n, t, m);
  if (!TIMED(PROBE_FN_PPOLL)) return f(fds, n, t, m);
  uint64_t t0 = shim_now();
  int ret = f(fds, n, t, m);
  shim_call_done(PROBE_FN_PPOLL, t0, ret, (int32_t)n);
  return ret;
}

EXPORT int __ppoll_chk(struct pollfd* fds, nfds_t n, const struct timespec* t, const sigset_t* m,
                       size_t fdslen) {
  ppoll_chk_fn f = REAL(__ppoll_chk);
  if (!f) return (int)sys_ppoll(fds, n, t, m);
  if (!TIMED(PROBE_FN_PPOLL)) return f(fds, n, t, m, fdslen);
  uint64_t t0 = shim_now();
  int ret = f(fds, n, t, m, fdslen);
  shim_call_done(PROBE_FN_PPOLL, t0, ret, (int32_t)n);
  return ret;
}

EXPORT int epoll_wait(int epfd, struct epoll_event* ev, int max, int timeout) {
  epoll_wait_fn f = REAL(epoll_wait);
  if (!f) return (int)syscall(SYS_epoll_wait, epfd, ev, max, timeout);
  if (!TIMED(PROBE_FN_EPOLL_WAIT)) return f(epfd, ev, max, timeout);
  uint64_t t0 = shim_now();
  int ret = f(epfd, ev, max, timeout);
  shim_call_done(PROBE_FN_EPOLL_WAIT, t0, ret, epfd);
  return ret;
}

EXPORT int epoll_pwait(int epfd, struct epoll_event* ev, int max, int timeout, const sigset_t* m) {
  epoll_pwait_fn f = REAL(epoll_pwait);
  if (!f) return (int)syscall(SYS_epoll_pwait, epfd, ev, max, timeout, m, KERNEL_SIGSET_BYTES);
  if (!TIMED(PROBE_FN_EPOLL_PWAIT)) return f(epfd, ev, max, timeout, m);
  uint64_t t0 = shim_now();
  int ret = f(epfd, ev, max, timeout, m);
  shim_call_done(PROBE_FN_EPOLL_PWAIT, t0, ret, epfd);
  return ret;
}

EXPORT int epoll_pwait2(int epfd, struct epoll_event* ev, int max, const struct timespec* t,
                        const sigset_t* m) {
  epoll_pwait2_fn f = REAL(epoll_pwait2);
  if (!f) return (int)syscall(SYS_epoll_pwait2, epfd, ev, max, t, m, KERNEL_SIGSET_BYTES);
  if (!TIMED(PROBE_FN_EPOLL_PWAIT2)) return f(epfd, ev, max, t, m);
  uint64_t t0 = shim_now();
  int ret = f(epfd, ev, max, t, m);
  shim_call_done(PROBE_FN_EPOLL_PWAIT2, t0, ret, epfd);
  return ret;
}

EXPORT int eventfd(unsigned int initval, int flags) {
  eventfd_fn f = REAL(eventfd);
  int ret;
  if (!f) {
    ret = (int)syscall(SYS_eventfd2, initval, flags);
  } else if (!TIMED(PROBE_FN_EVENTFD)) {
    ret = f(initval, flags);
  } else {
    uint64_t t0 = shim_now();
    ret = f(initval, flags);
    shim_call_done(PROBE_FN_EVENTFD, t0, ret, ret);
  }
  if (ret >= 0) shim_set_eventfd(ret, 1);
  return ret;
}

static int sys_eventfd_rw(int nr, int fd, void* value) {
  return syscall(nr, fd, value, sizeof(eventfd_t)) == sizeof(eventfd_t) ? 0 : -1;
}

EXPORT int eventfd_read(int fd, eventfd_t* value) {
  eventfd_read_fn f = REAL(eventfd_read);
  if (!f) return sys_eventfd_rw(SYS_read, fd, value);
  if (!TIMED(PROBE_FN_EVENTFD_READ)) return f(fd, value);
  uint64_t t0 = shim_now();
  int ret = f(fd, value);
  shim_call_done(PROBE_FN_EVENTFD_READ, t0, ret, fd);
  return ret;
}

EXPORT int eventfd_write(int fd, eventfd_t value) {
  eventfd_write_fn f = REAL(eventfd_write);
  if (!f) return sys_eventfd_rw(SYS_write, fd, &value);
  if (!TIMED(PROBE_FN_EVENTFD_WRITE)) return f(fd, value);
  uint64_t t0 = shim_now();
  int ret = f(fd, value);
  shim_call_done(PROBE_FN_EVENTFD_WRITE, t0, ret, fd);
  return ret;
}

EXPORT ssize_t read(int fd, void* buf, size_t n) {
  read_fn f = REAL(read);
  if (!f) return syscall(SYS_read, fd, buf, n);
  if (!shim_is_eventfd(fd) || !TIMED(PROBE_FN_READ)) return f(fd, buf, n);
  uint64_t t0 = shim_now();
  ssize_t ret = f(fd, buf, n);
  shim_call_done(PROBE_FN_READ, t0, ret, fd);
  return ret;
}

EXPORT ssize_t __read_chk(int fd, void* buf, size_t n, size_t buflen) {
  read_chk_fn f = REAL(__read_chk);
  if (!f) return syscall(SYS_read, fd, buf, n);
  if (!shim_is_eventfd(fd) || !TIMED(PROBE_FN_READ)) return f(fd, buf, n, buflen);
  uint64_t t0 = shim_now();
  ssize_t ret = f(fd, buf, n, buflen);
  shim_call_done(PROBE_FN_READ, t0, ret, fd);
  return ret;
}

EXPORT ssize_t write(int fd, const void* buf, size_t n) {
  write_fn f = REAL(write);
  if (!f) return syscall(SYS_write, fd, buf, n);
  if (!shim_is_eventfd(fd) || !TIMED(PROBE_FN_WRITE)) return f(fd, buf, n);
  uint64_t t0 = shim_now();
  ssize_t ret = f(fd, buf, n);
  shim_call_done(PROBE_FN_WRITE, t0, ret, fd);
  return ret;
}

/* fd bookkeeping: a closed or overwritten eventfd number may come back as a
 * pipe or a file, whose reads must not be timed. */
EXPORT int close(int fd) {
  shim_set_eventfd(fd, 0);
  close_fn f = REAL(close);
  return f ? f(fd) : (int)syscall(SYS_close, fd);
}

EXPORT int dup(int fd) {
  dup_fn f = REAL(dup);
  int ret = f ? f(fd) : (int)syscall(SYS_dup, fd);
  if (ret >= 0) shim_set_eventfd(ret, shim_is_eventfd(fd));
  return ret;
}

EXPORT int dup2(int from, int to) {
  int was = shim_is_eventfd(from);
  dup2_fn f = REAL(dup2);
  int ret = f ? f(from, to) : (int)syscall(SYS_dup2, from, to);
  if (ret >= 0) shim_set_eventfd(ret, was);
  return ret;
}

EXPORT int dup3(int from, int to, int flags) {
  int was = shim_is_eventfd(from);
  dup3_fn f = REAL(dup3);
  int ret = f ? f(from, to, flags) : (int)syscall(SYS_dup3, from, to, flags);
  if (ret >= 0) shim_set_eventfd(ret, was);
  return ret;
}

EXPORT int close_range(unsigned int first, unsigned int last, int flags) {
  close_range_fn f = REAL(close_range);
  int ret = f ? f(first, last, flags) : (int)syscall(SYS_close_range, first, last, flags);
  if (ret == 0 && !(flags & CLOSE_RANGE_CLOEXEC)) {
    for (unsigned int fd = first; fd <= last && fd < SHIM_MAX_TRACKED_FD; ++fd)
      shim_set_eventfd((int)fd, 0);
  }
  return ret;
}
