/* Hands a new region to the agent over its unix socket (abstract name in
 * PROBE_AGENT_SOCKET), so the agent holds it even if this process lives only
 * a few ms, and reads it after the process is gone. Best effort, never
 * blocking: if the agent is not there, it finds regions in /proc/PID/maps. */
#define _GNU_SOURCE
#include <stddef.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include "shim_internal.h"

void shim_send_region_to_agent(int memfd) {
  const char* name = probe_shim.agent_socket;
  struct sockaddr_un addr;
  memset(&addr, 0, sizeof(addr));
  addr.sun_family = AF_UNIX;
  size_t len = strlen(name);
  if (len == 0 || len >= sizeof(addr.sun_path)) return;
  memcpy(addr.sun_path, name, len);
  if (name[0] == '@') addr.sun_path[0] = '\0'; /* abstract: no file to clean up */
  long sock = syscall(SYS_socket, AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (sock < 0) return;
  socklen_t alen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len);
  if (syscall(SYS_connect, sock, &addr, alen) == 0) {
    char byte = 'R';
    struct iovec iov = {.iov_base = &byte, .iov_len = 1};
    union {
      struct cmsghdr h;
      char buf[CMSG_SPACE(sizeof(int))];
    } control;
    memset(&control, 0, sizeof(control));
    struct msghdr msg = {.msg_iov = &iov,
                         .msg_iovlen = 1,
                         .msg_control = control.buf,
                         .msg_controllen = sizeof(control.buf)};
    struct cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &memfd, sizeof(int));
    syscall(SYS_sendmsg, sock, &msg, MSG_DONTWAIT | MSG_NOSIGNAL);
  }
  syscall(SYS_close, sock);
}
