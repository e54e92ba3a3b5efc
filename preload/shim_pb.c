/* The shim's protobuf encoder (shim_pb.h). proto3 leaves fields at their
 * default out, and fields go in field-number order, as libprotobuf writes
 * them. */
#include "shim_pb.h"

#include <string.h>
#include <time.h>

/* Field numbers of proto/probe.proto used here. */
enum {
  REC_HEADER = 1,
  REC_TRAILER = 2,
  REC_STATS = 3,
  REC_SHIM_CALL = 10,
  REC_MARKER = 11,
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

/* int32: a negative value is sign-extended to ten bytes, as protobuf writes it. */
static void pb_int32(struct pb* b, uint32_t field, int32_t v) {
  pb_uint(b, field, (uint64_t)(int64_t)v);
}

static void pb_sint(struct pb* b, uint32_t field, int64_t v) {
  pb_uint(b, field, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

static void pb_bytes(struct pb* b, uint32_t field, const void* data, size_t n) {
  pb_varint(b, ((uint64_t)field << 3) | 2);
  pb_varint(b, n);
  pb_raw(b, data, n);
}

/* A singular bytes or string field: left out when empty, like any default. */
static void pb_opt_bytes(struct pb* b, uint32_t field, const void* data, size_t n) {
  if (n) pb_bytes(b, field, data, n);
}

static void pb_string(struct pb* b, uint32_t field, const char* s) {
  pb_opt_bytes(b, field, s, strlen(s));
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

void shim_pb_header(struct pb* out, const struct shim_pb_header* hd) {
  uint8_t body[4096];
  struct pb h = {body, body + sizeof(body), 0};
  pb_uint(&h, 1, 1);  /* format_version */
  if (hd->hostname) { /* bytes of the system, kept exact */
    pb_string(&h, 2, hd->hostname);
    pb_string(&h, 3, hd->release);
  }
  pb_uint(&h, 4, CLOCK_MONOTONIC);
  pb_uint(&h, 5, (uint64_t)hd->wall_clock_offset_ns);
  for (size_t i = 0; i < hd->cmdline_len;) { /* command_line: one field per argument */
    size_t len = strnlen(hd->cmdline + i, hd->cmdline_len - i);
    pb_bytes(&h, 6, hd->cmdline + i, len); /* repeated: an empty argument is kept */
    i += len + 1;
  }
  pb_int32(&h, 7, hd->pid);    /* target_pids, unpacked: see shim_pb_unittest.cc */
  pb_uint(&h, 8, 1);           /* follow_children */
  pb_bytes(&h, 10, "shim", 4); /* events (repeated) */
  pb_uint(&h, 11, hd->start_ns);
  pb_uint(&h, 12, hd->ready_ns);
  pb_string(&h, 14, "probe-preload");
  pb_uint(&h, 19, 1); /* shim_only */
  pb_frame(out, REC_HEADER, &h, body);
}

void shim_pb_event(struct pb* out, const struct probe_shm_event* e, int32_t pid, int32_t tid,
                   const char* name, uint32_t name_len) {
  uint8_t body[128];
  struct pb b = {body, body + sizeof(body), 0};
  pb_int32(&b, 1, pid);
  pb_int32(&b, 2, tid);
  if (e->kind >= PROBE_EV_MARKER) {
    pb_uint(&b, 3, e->kind - PROBE_EV_MARKER);
    pb_opt_bytes(&b, 4, name, name_len); /* empty: a name not (yet) in the region */
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

/* p as the ShimProcess field `field` of b. */
static void pb_process(struct pb* b, uint32_t field, const struct shim_pb_process* c) {
  uint8_t body[256];
  struct pb p = {body, body + sizeof(body), 0};
  pb_int32(&p, 1, c->pid);
  pb_uint(&p, 2, c->produced);
  pb_uint(&p, 3, c->written);
  pb_uint(&p, 4, c->sampled_out);
  pb_uint(&p, 5, c->lost_buffer_full);
  pb_uint(&p, 6, c->lost_no_buffer);
  pb_uint(&p, 8, c->sample_every);
  pb_uint(&p, 9, c->min_duration_ns);
  pb_string(&p, 10, c->functions);
  pb_uint(&p, 12, c->lost_write);
  pb_uint(&p, 13, 1); /* finished */
  if (!p.overflow) pb_bytes(b, field, body, (size_t)(p.p - body));
}

void shim_pb_stats(struct pb* out, uint64_t time_ns, const struct shim_pb_process* p) {
  uint8_t body[512];
  struct pb b = {body, body + sizeof(body), 0};
  pb_uint(&b, 1, time_ns);
  pb_process(&b, 4, p);
  pb_frame(out, REC_STATS, &b, body);
}

void shim_pb_trailer(struct pb* out, uint64_t time_ns, const struct shim_pb_process* p) {
  uint8_t body[512];
  struct pb b = {body, body + sizeof(body), 0};
  pb_uint(&b, 1, time_ns);
  pb_string(&b, 4, "process exit");
  pb_process(&b, 5, p);
  pb_frame(out, REC_TRAILER, &b, body);
}
