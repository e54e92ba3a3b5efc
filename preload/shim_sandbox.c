/* Notices a host sandboxing itself, so the shim makes no syscall the
 * sandbox may kill for.
 *
 * The shim makes its region when it loads (memfd_create, and socket to send
 * it to the agent), and again in a fork child. A host that installs a
 * seccomp filter after the shim loaded and then forks, or execs a program
 * that loads the shim again, may have forbidden those: a filter that kills
 * (SECCOMP_RET_KILL_PROCESS) would kill the child. Filters are installed
 * through prctl(PR_SET_SECCOMP) or the seccomp syscall, which glibc has no
 * wrapper for (libseccomp calls syscall(__NR_seccomp, ...)): the shim
 * exports prctl and syscall, notes the filter, and makes the call itself,
 * exactly as glibc does (the kernel's result, errno from a negative one).
 * Once noted: fork children make no region (their events are counted lost
 * in the parent's), and PROBE_SANDBOXED=1 tells exec'd programs to make
 * none either. A filter installed by a raw syscall instruction is not seen.
 */
#define _GNU_SOURCE
#include <linux/seccomp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#include "shim_internal.h"

#define EXPORT __attribute__((visibility("default")))

static long raw_syscall6(long n, long a, long b, long c, long d, long e, long f) {
  long ret;
#if defined(__x86_64__)
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
#elif defined(__aarch64__)
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc 0"
                   : "+r"(x0)
                   : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5)
                   : "memory");
  ret = x0;
#else
#error "the shim makes raw syscalls on x86_64 and aarch64 only"
#endif
  if (ret < 0 && ret > -4096) {
    errno = (int)-ret;
    return -1;
  }
  return ret;
}

static void note_filter(void) {
  if (__atomic_exchange_n(&probe_shim.sandboxed, 1, __ATOMIC_ACQ_REL)) return;
  setenv("PROBE_SANDBOXED", "1", 1);
}

EXPORT long syscall(long n, ...) {
  va_list ap;
  va_start(ap, n);
  long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long);
  long d = va_arg(ap, long), e = va_arg(ap, long), f = va_arg(ap, long);
  va_end(ap);
  if ((n == SYS_seccomp && (a == SECCOMP_SET_MODE_STRICT || a == SECCOMP_SET_MODE_FILTER)) ||
      (n == SYS_prctl && a == PR_SET_SECCOMP))
    note_filter();
  return raw_syscall6(n, a, b, c, d, e, f);
}

EXPORT int prctl(int option, ...) {
  va_list ap;
  va_start(ap, option);
  long a = va_arg(ap, long), b = va_arg(ap, long), c = va_arg(ap, long), d = va_arg(ap, long);
  va_end(ap);
  if (option == PR_SET_SECCOMP) note_filter();
  return (int)raw_syscall6(SYS_prctl, option, a, b, c, d, 0);
}
