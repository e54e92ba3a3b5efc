/* PROBE_OUTPUT: with no agent, the shim writes the record file itself, in
 * the same framing and schema (proto/FORMAT.md), encoded here by hand because
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

/* Field numbers of proto/probe.proto used here. */
enum {
  REC_HEADER = 1,
  REC_TRAILER = 2,
  REC_STATS = 3,
  REC_SHIM_CALL = 10,
  REC_MARKER = 11,
};

struct pb {
  uint8_t* p;
  uint8_t* end;
  int overflow;
};

static void pb_raw(struct pb* b, const void* data, size_t n) {
  if (b->overflow || (size_t)(b->end - b->p) < n) {
    b->overflow = 1;
    return;
  }
  memcpy(b->p, data, n);
  b->p += n;
}

static void pb_varint(struct pb* b, uint64_t v) {
  uint8_t buf[10];
  size_t n = 0;
  do {
    buf[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
    v >>= 7;
  } while (v);
  pb_raw(b, buf, n);
}

static void pb_uint(struct pb* b, uint32_t field, uint64_t v) {
  if (!v) return; /* proto3 leaves defaults out */
  pb_varint(b, (uint64_t)field << 3);
  pb_varint(b, v);
}

static void pb_sint(struct pb* b, uint32_t field, int64_t v) {
  pb_uint(b, field, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void pb_bytes(struct pb* b, uint32_t field, const void* data, size_t n) {
  pb_varint(b, ((uint64_t)field << 3) | 2);
  pb_varint(b, n);
  pb_raw(b, data, n);
}

static void pb_string(struct pb* b, uint32_t field, const char* s) {
  if (*s) pb_bytes(b, field, s, strlen(s));
}

/* Bytes of the system (argv, hostname) into a bytes field: kept exact. */
static void pb_text(struct pb* b, uint32_t field, const char* s, size_t n) {
  pb_bytes(b, field, s, n);
}

/* Appends Trace.record { <field>: body } to out. */
static void pb_frame(struct pb* out, uint32_t field, const struct pb* body, uint8_t* body_start) {
  uint8_t rec[16];
  struct pb r = {rec, rec + sizeof(rec), 0};
  pb_varint(&r, ((uint64_t)field << 3) | 2);
  pb_varint(&r, (uint64_t)(body->p - body_start));
  size_t record_len = (size_t)(r.p - rec) + (size_t)(body->p - body_start);
  if (body->overflow) {
    out->overflow = 1;
    return;
  }
  pb_varint(out, (0x1u << 3) | 2);
  pb_varint(out, record_len);
  pb_raw(out, rec, (size_t)(r.p - rec));
  pb_raw(out, body_start, (size_t)(body->p - body_start));
}

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

static void read_cmdline(struct pb* b, uint32_t field) {
  char buf[2048];
  long fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/cmdline", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  long n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
  syscall(SYS_close, fd);
  for (long i = 0; i < n;) {
    size_t len = strnlen(buf + i, (size_t)(n - i));
    pb_text(b, field, buf + i, len);
    i += (long)len + 1;
  }
}

static void write_header(void) {
  uint8_t body[4096], out[4200];
  struct pb h = {body, body + sizeof(body), 0}, o = {out, out + sizeof(out), 0};
  struct utsname u;
  uint64_t mono = probe_monotonic_ns();
  struct timespec rt;
  clock_gettime(CLOCK_REALTIME, &rt);
  int64_t wall_offset = ((int64_t)rt.tv_sec * 1000000000ll + rt.tv_nsec) - (int64_t)mono;
  pb_uint(&h, 1, 1); /* format_version */
  if (syscall(SYS_uname, &u) == 0) {
    pb_text(&h, 2, u.nodename, strlen(u.nodename));
    pb_text(&h, 3, u.release, strlen(u.release));
  }
  pb_uint(&h, 4, CLOCK_MONOTONIC);
  pb_uint(&h, 5, (uint64_t)wall_offset);
  read_cmdline(&h, 6);
  pb_uint(&h, 7, (uint64_t)probe_shim.pid);
  pb_uint(&h, 8, 1); /* follow_children */
  pb_bytes(&h, 10, "shim", 4);
  pb_uint(&h, 11, probe_shim.start_ns);
  pb_uint(&h, 12, mono);
  pb_string(&h, 14, "probe-preload");
  pb_uint(&h, 19, 1); /* shim_only */
  pb_frame(&o, REC_HEADER, &h, body);
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
  uint8_t body[128];
  struct pb b = {body, body + sizeof(body), 0};
  pb_uint(&b, 1, (uint32_t)pid);
  pb_uint(&b, 2, (uint32_t)tid);
  if (e->kind >= PROBE_EV_MARKER) {
    uint32_t len;
    const char* name = name_of(probe_shim.region, e->aux, &len);
    pb_uint(&b, 3, e->kind - PROBE_EV_MARKER);
    pb_bytes(&b, 4, name, len);
    pb_uint(&b, 5, e->start);
    pb_sint(&b, 6, e->value);
    pb_sint(&b, 7, (int64_t)e->end);
    pb_frame(out, REC_MARKER, &b, body);
  } else {
    pb_uint(&b, 3, e->kind);
    pb_uint(&b, 4, e->start);
    pb_uint(&b, 5, e->end - e->start);
    pb_sint(&b, 6, e->value);
    pb_sint(&b, 7, e->fd);
    pb_uint(&b, 8, e->aux);
    pb_frame(out, REC_SHIM_CALL, &b, body);
  }
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

static void encode_process_counters(struct pb* b, uint32_t field, int32_t pid) {
  const struct probe_shm_header* h = probe_shim.region;
  struct counts c = count_pid(h, pid);
  uint64_t no_buffer = 0, no_name = 0;
  if (pid == probe_shim.pid)
    no_buffer = __atomic_load_n(&probe_shim.lost_no_region, __ATOMIC_RELAXED);
  if (h && (int32_t)h->pid == pid) {
    no_buffer += __atomic_load_n(&h->lost_no_buffer, __ATOMIC_RELAXED);
    no_name = __atomic_load_n(&h->lost_no_name, __ATOMIC_RELAXED);
  }
  uint8_t body[256];
  struct pb p = {body, body + sizeof(body), 0};
  pb_uint(&p, 1, (uint32_t)pid);
  /* seen counts what was drained, sampled or lost in the ring; what the
   * file refused is of seen too. */
  pb_uint(&p, 2, c.seen + no_buffer + no_name);
  pb_uint(&p, 3, c.written);
  pb_uint(&p, 4, c.sampled);
  pb_uint(&p, 5, c.full);
  pb_uint(&p, 6, no_buffer + no_name);
  pb_uint(&p, 8, probe_shim.sample_every);
  pb_uint(&p, 9, probe_shim.min_duration_ns);
  char fns[256];
  probe_fn_list(probe_shim.functions, fns, sizeof(fns));
  pb_string(&p, 10, fns);
  pb_uint(&p, 12, c.lost_write);
  pb_uint(&p, 13, 1); /* finished */
  if (!p.overflow) pb_bytes(b, field, body, (size_t)(p.p - body));
}

/* A Stats record with one process's counters. */
static void write_stats(int32_t pid) {
  uint8_t body[512], out[600];
  struct pb b = {body, body + sizeof(body), 0}, o = {out, out + sizeof(out), 0};
  pb_uint(&b, 1, probe_monotonic_ns());
  encode_process_counters(&b, 4, pid);
  pb_frame(&o, REC_STATS, &b, body);
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
  uint8_t body[512], out[600];
  struct pb b = {body, body + sizeof(body), 0}, o = {out, out + sizeof(out), 0};
  pb_uint(&b, 1, probe_monotonic_ns());
  pb_bytes(&b, 4, "process exit", 12);
  encode_process_counters(&b, 5, self);
  pb_frame(&o, REC_TRAILER, &b, body);
  if (!o.overflow) write_all(out, (size_t)(o.p - out));
}
