/* The records the shim writes itself (PROBE_OUTPUT), encoded by hand in the
 * schema of proto/probe.proto because the shim may not use protobuf: libc
 * only, no allocation, into the caller's buffer. Each shim_pb_* function
 * appends one framed Trace.record (proto/FORMAT.md) to out, or sets
 * out->overflow and leaves the record out. Pure: the encoding is tested
 * byte for byte against libprotobuf's (shim_pb_unittest.cc). */
#ifndef PROBE_PRELOAD_SHIM_PB_H_
#define PROBE_PRELOAD_SHIM_PB_H_

#include <stddef.h>
#include <stdint.h>

#include "probe_shm.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SHIM_PB_HIDDEN __attribute__((visibility("hidden")))

struct pb {
  uint8_t* p;
  uint8_t* end;
  int overflow;
};

/* The Header of a shim-only file. */
struct shim_pb_header {
  const char* hostname; /* NULL when uname failed: neither it nor release */
  const char* release;
  int64_t wall_clock_offset_ns;
  const char* cmdline; /* /proc/self/cmdline: arguments each ended by a NUL */
  size_t cmdline_len;
  int32_t pid;
  uint64_t start_ns, ready_ns;
};

/* One process's counters (a ShimProcess). */
struct shim_pb_process {
  int32_t pid;
  uint64_t produced, written, sampled_out, lost_buffer_full, lost_no_buffer, lost_write;
  uint32_t sample_every;
  uint64_t min_duration_ns;
  const char* functions; /* comma-separated, NUL-terminated */
};

SHIM_PB_HIDDEN void shim_pb_header(struct pb* out, const struct shim_pb_header* h);
/* A wrapped call (ShimCall) or, for kinds from PROBE_EV_MARKER, a Marker
 * named by name_len bytes of name. */
SHIM_PB_HIDDEN void shim_pb_event(struct pb* out, const struct probe_shm_event* e, int32_t pid,
                                  int32_t tid, const char* name, uint32_t name_len);
/* A Stats record, or the Trailer ("process exit"), with one process's counters. */
SHIM_PB_HIDDEN void shim_pb_stats(struct pb* out, uint64_t time_ns,
                                  const struct shim_pb_process* p);
SHIM_PB_HIDDEN void shim_pb_trailer(struct pb* out, uint64_t time_ns,
                                    const struct shim_pb_process* p);

#ifdef __cplusplus
}
#endif

#endif /* PROBE_PRELOAD_SHIM_PB_H_ */
