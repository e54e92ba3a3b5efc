/* PROBE_OUTPUT: with no agent, the shim writes the record file itself, in
 * the same framing and schema (proto/FORMAT.md), encoded by shim_pb.c because
 * the shim may not use protobuf. The first process writes the Header and, at
 * its exit, the Trailer; its descendants append their records (exec'd ones
 * reopen the path, told by PROBE_OUTPUT_APPEND) and a Stats record at exit.
 * Every write is whole records with O_APPEND, so processes never interleave
 * inside a record. Raw syscalls throughout: the shim's own writes must not
 * go through its wrappers or change the host's errno. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "shim_internal.h"
#include "shim_pb.h"

static int write_all(const uint8_t* data, size_t n) {
  int transient;
  int fd = shim_outfile_fd(&transient);
  if (fd < 0) return 0;
  int ok = 1;
  while (n > 0) {
    long w = syscall(SYS_write, fd, data, n);
    if (w <= 0) { /* EINTR cannot happen on a regular file; ENOSPC ends it */
      ok = 0;
      break;
    }
    data += w;
    n -= (size_t)w;
  }
  if (transient) syscall(SYS_close, fd);
  return ok;
}

/* Counted on the slot the events came from, by whichever process drained
 * it, so a process's counters hold however it ended. */
static void write_records(struct probe_shm_slot* s, const uint8_t* data, size_t n,
                          uint64_t records) {
  if (records == 0) return;
  if (write_all(data, n))
    __atomic_fetch_add(&s->written, records, __ATOMIC_RELAXED);
  else
    __atomic_fetch_add(&s->lost_write, records, __ATOMIC_RELAXED);
}

/* /proc/self/cmdline into buf: its length (0 when unreadable). */
static size_t read_cmdline(char* buf, size_t cap) {
  long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return 0;
  long n = syscall(SYS_read, fd, buf, cap - 1);
  syscall(SYS_close, fd);
  return n > 0 ? (size_t)n : 0;
}

static void write_header(void) {
  uint8_t out[4200];
  struct pb o = {out, out + sizeof(out), 0};
  char cmdline[2048];
  struct utsname u;
  uint64_t mono = probe_monotonic_ns();
  struct timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  const int named = syscall(SYS_uname, &u) == 0;
  struct shim_pb_header h = {
      .hostname = named ? u.nodename : NULL,
      .release = named ? u.release : NULL,
      .wall_clock_offset_ns = ((int64_t)rt.tv_sec * 1000000000ll + rt.tv_nsec) - (int64_t)mono,
      .cmdline = cmdline,
      .cmdline_len = read_cmdline(cmdline, sizeof(cmdline)),
      .pid = probe_shim.pid,
      .start_ns = probe_shim.start_ns,
      .ready_ns = mono,
  };
  shim_pb_header(&o, &h);
  if (!o.overflow) write_all(out, (size_t)(o.p - out));
}

void shim_file_open(void) {
  struct shim_state* s = &probe_shim;
  int is_root = 0;
  if (!shim_outfile_open(&is_root)) {
    s->self_drain = 0; /* nowhere to write: record nothing rather than fill memory */
    s->functions = 0;
    return;
  }
  s->is_root = is_root;
  if (is_root) write_header();
}

static const char* name_of(const struct probe_shm_header* h, uint32_t id, uint32_t* len) {
  const struct probe_shm_name* names =
      (const struct probe_shm_name*)((const char*)h + probe_shm_names_offset());
  if (id == 0 || id > h->nnames || !__atomic_load_n(&names[id - 1].ready, __ATOMIC_ACQUIRE)) {
    *len = 0;
    return "";
  }
  *len = names[id - 1].len < PROBE_SHM_NAME_TEXT ? names[id - 1].len : PROBE_SHM_NAME_TEXT;
  return names[id - 1].text;
}

static void encode_event(struct pb* out, const struct probe_shm_event* e, int32_t pid,
                         int32_t tid) {
  uint32_t len = 0;
  const char* name = e->kind >= PROBE_EV_MARKER ? name_of(probe_shim.region, e->aux, &len) : "";
  shim_pb_event(out, e, pid, tid, name, len);
}

void shim_file_drain_slot(struct probe_shm_slot* s) {
  if (__atomic_exchange_n(&s->drain_lock, 1, __ATOMIC_ACQUIRE)) return; /* someone is on it */
  int saved = errno;
  int32_t pid = __atomic_load_n(&s->pid, __ATOMIC_ACQUIRE);
  uint64_t head = __atomic_load_n(&s->head, __ATOMIC_ACQUIRE);
  uint64_t tail = s->tail;
  uint32_t mask = probe_shim.region->slot_events - 1;
  int32_t tid = __atomic_load_n(&s->tid, __ATOMIC_ACQUIRE);
  const struct probe_shm_event* events = shim_slot_events(s);
  uint8_t buf[4096];
  struct pb out = {buf, buf + sizeof(buf), 0};
  uint64_t pending = 0;
  while (tail != head) {
    uint8_t* before = out.p;
    encode_event(&out, &events[tail & mask], pid, tid);
    if (out.overflow) { /* buffer full: write what fits, then this event again */
      out.p = before;
      out.overflow = 0;
      write_records(s, buf, (size_t)(out.p - buf), pending);
      out.p = buf;
      pending = 0;
      continue;
    }
    ++pending;
    ++tail;
  }
  write_records(s, buf, (size_t)(out.p - buf), pending);
  __atomic_store_n(&s->tail, tail, __ATOMIC_RELEASE);
  __atomic_store_n(&s->drain_lock, 0, __ATOMIC_RELEASE);
  errno = saved;
}

struct counts {
  uint64_t seen, sampled, full, written, lost_write;
};

/* The counters of pid's slots. The region's own (no buffer, no name) go to
 * the process that made the region: with PROBE_OUTPUT, the first of a fork
 * tree, whose trailer counts them once. */
static struct counts count_pid(const struct probe_shm_header* h, int32_t pid) {
  struct counts c = {0, 0, 0, 0, 0};
  for (uint32_t i = 0; h && i < h->slots_high && i < h->nslots; ++i) {
    struct probe_shm_slot* s = shim_slot((struct probe_shm_header*)h, i);
    if (__atomic_load_n(&s->pid, __ATOMIC_ACQUIRE) != pid) continue;
    c.seen += s->seen;
    c.sampled += s->sampled_out;
    c.full += s->lost_full;
    c.written += __atomic_load_n(&s->written, __ATOMIC_RELAXED);
    c.lost_write += __atomic_load_n(&s->lost_write, __ATOMIC_RELAXED);
  }
  return c;
}

/* pid's ShimProcess counters, in fns (its functions' names). */
static struct shim_pb_process process_counters(int32_t pid, char* fns, size_t fns_cap) {
  const struct probe_shm_header* h = probe_shim.region;
  struct counts c = count_pid(h, pid);
  uint64_t no_buffer = 0, no_name = 0;
  if (pid == probe_shim.pid)
    no_buffer = __atomic_load_n(&probe_shim.lost_no_region, __ATOMIC_RELAXED);
  if (h && (int32_t)h->pid == pid) {
    no_buffer += __atomic_load_n(&h->lost_no_buffer, __ATOMIC_RELAXED);
    no_name = __atomic_load_n(&h->lost_no_name, __ATOMIC_RELAXED);
  }
  probe_fn_list(probe_shim.functions, fns, fns_cap);
  struct shim_pb_process p = {
      .pid = pid,
      /* seen counts what was drained, sampled or lost in the ring; what the
       * file refused is of seen too. */
      .produced = c.seen + no_buffer + no_name,
      .written = c.written,
      .sampled_out = c.sampled,
      .lost_buffer_full = c.full,
      .lost_no_buffer = no_buffer + no_name,
      .lost_write = c.lost_write,
      .sample_every = probe_shim.sample_every,
      .min_duration_ns = probe_shim.min_duration_ns,
      .functions = fns,
  };
  return p;
}

/* A Stats record with one process's counters. */
static void write_stats(int32_t pid) {
  uint8_t out[600];
  struct pb o = {out, out + sizeof(out), 0};
  char fns[256];
  struct shim_pb_process p = process_counters(pid, fns, sizeof(fns));
  shim_pb_stats(&o, probe_monotonic_ns(), &p);
  if (!o.overflow) write_all(out, (size_t)(o.p - out));
}

/* Whether slot i is the first of the region's slots that holds pid. */
static int first_slot_of(const struct probe_shm_header* h, uint32_t i, int32_t pid) {
  for (uint32_t j = 0; j < i; ++j)
    if (__atomic_load_n(&shim_slot((struct probe_shm_header*)h, j)->pid, __ATOMIC_RELAXED) == pid)
      return 0;
  return 1;
}

/* At exit(): drains this process's slots and writes its counters. The
 * region's maker also drains every other slot of the region (its fork
 * children's, those that ended in _exit included) and writes each of those
 * processes' counters before its own trailer. */
void shim_file_finish(void) {
  struct probe_shm_header* h = probe_shim.region;
  const int32_t self = probe_shim.pid;
  const int maker = h && (int32_t)h->pid == self;
  uint32_t high = h ? __atomic_load_n(&h->slots_high, __ATOMIC_ACQUIRE) : 0;
  if (h && high > h->nslots) high = h->nslots;
  for (uint32_t i = 0; i < high; ++i) {
    struct probe_shm_slot* s = shim_slot(h, i);
    if (!maker && __atomic_load_n(&s->pid, __ATOMIC_RELAXED) != self) continue;
    if (s->head != __atomic_load_n(&s->tail, __ATOMIC_ACQUIRE)) shim_file_drain_slot(s);
  }
  for (uint32_t i = 0; maker && i < high; ++i) {
    int32_t pid = __atomic_load_n(&shim_slot(h, i)->pid, __ATOMIC_RELAXED);
    if (pid != self && pid > 0 && first_slot_of(h, i, pid)) write_stats(pid);
  }
  if (!probe_shim.is_root) {
    write_stats(self);
    return;
  }
  uint8_t out[600];
  struct pb o = {out, out + sizeof(out), 0};
  char fns[256];
  struct shim_pb_process p = process_counters(self, fns, sizeof(fns));
  shim_pb_trailer(&o, probe_monotonic_ns(), &p);
  if (!o.overflow) write_all(out, (size_t)(o.p - out));
}
