/* probe markers: named points and spans on the same CLOCK_MONOTONIC timeline
 * as probe's kernel records.
 *
 *   PROBE_MARK("BEFORE_SEND", bytes, 0);      instant, two integer arguments
 *   PROBE_BEGIN("request", id, 0);            opens a span on this thread
 *   PROBE_END("request", id, 0);              closes it
 *
 * Header only, C and C++. The functions live in libprobe_preload.so; when it
 * is not loaded (no LD_PRELOAD) every marker is a test of a cached pointer:
 * it never fails, allocates or makes a syscall after the first lookup. Each
 * call site interns its name once; names are at most PROBE_NAME_MAX bytes
 * (longer ones are cut). Link with -ldl on glibc older than 2.34. */
#ifndef PROBE_PRELOAD_PROBE_H_
#define PROBE_PRELOAD_PROBE_H_

#include <dlfcn.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

enum { PROBE_MARKER_INSTANT = 0, PROBE_MARKER_BEGIN = 1, PROBE_MARKER_END = 2 };
#define PROBE_NAME_MAX 55

/* Exported by the shim. probe_name returns a nonzero id for name (0 when the
 * name table is full: markers with id 0 are counted and dropped). */
typedef uint32_t (*probe_name_fn)(const char* name);
typedef void (*probe_marker_fn)(uint32_t type, uint32_t name_id, int64_t arg0, int64_t arg1);

struct probe_api_ {
  probe_name_fn name;
  probe_marker_fn marker;
};

/* Looked up once per translation unit; a shim loaded later by dlopen is not
 * seen, which is fine: the shim only works preloaded. */
static inline const struct probe_api_* probe_api_(void) {
  static struct probe_api_ api;
  static int state; /* 0 unknown, 1 present, 2 absent */
  int s = __atomic_load_n(&state, __ATOMIC_ACQUIRE);
  if (s == 0) {
    probe_name_fn n = (probe_name_fn)dlsym(RTLD_DEFAULT, "probe_name");
    probe_marker_fn m = (probe_marker_fn)dlsym(RTLD_DEFAULT, "probe_marker");
    if (n && m) {
      api.name = n;
      api.marker = m;
      s = 1;
    } else {
      s = 2;
    }
    __atomic_store_n(&state, s, __ATOMIC_RELEASE);
  }
  return s == 1 ? &api : (const struct probe_api_*)0;
}

static inline void probe_emit_(uint32_t type, uint32_t* cached_id, const char* name, int64_t a0,
                               int64_t a1) {
  const struct probe_api_* api = probe_api_();
  if (!api) return;
  uint32_t id = __atomic_load_n(cached_id, __ATOMIC_RELAXED);
  if (id == 0) {
    id = api->name(name);
    __atomic_store_n(cached_id, id, __ATOMIC_RELAXED);
  }
  api->marker(type, id, a0, a1);
}

#define PROBE_EMIT_(type, name, a0, a1)                                    \
  do {                                                                     \
    static uint32_t probe_id_;                                             \
    probe_emit_((type), &probe_id_, (name), (int64_t)(a0), (int64_t)(a1)); \
  } while (0)

/* name must be the same string at every execution of a call site. */
#define PROBE_MARK(name, a0, a1) PROBE_EMIT_(PROBE_MARKER_INSTANT, name, a0, a1)
#define PROBE_BEGIN(name, a0, a1) PROBE_EMIT_(PROBE_MARKER_BEGIN, name, a0, a1)
#define PROBE_END(name, a0, a1) PROBE_EMIT_(PROBE_MARKER_END, name, a0, a1)

/* For names only known at run time: intern once, then emit by id. */
static inline uint32_t probe_intern(const char* name) {
  const struct probe_api_* api = probe_api_();
  return api ? api->name(name) : 0;
}
static inline void probe_emit(uint32_t type, uint32_t name_id, int64_t a0, int64_t a1) {
  const struct probe_api_* api = probe_api_();
  if (api) api->marker(type, name_id, a0, a1);
}

#ifdef __cplusplus
}
#endif
#endif /* PROBE_PRELOAD_PROBE_H_ */
