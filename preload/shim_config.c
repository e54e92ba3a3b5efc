/* Reads the shim's environment once, in the constructor. Bad values fall back
 * to defaults: a typo must not break the host. */
#include <stdlib.h>
#include <string.h>

#include "shim_internal.h"

#define FN_BIT(f) (1u << (f))
#define ALL_FUNCTIONS (((1u << PROBE_FN_COUNT) - 1) & ~1u)
#define WAIT_FUNCTIONS                                                                   \
  (FN_BIT(PROBE_FN_SELECT) | FN_BIT(PROBE_FN_PSELECT) | FN_BIT(PROBE_FN_POLL) |          \
   FN_BIT(PROBE_FN_PPOLL) | FN_BIT(PROBE_FN_EPOLL_WAIT) | FN_BIT(PROBE_FN_EPOLL_PWAIT) | \
   FN_BIT(PROBE_FN_EPOLL_PWAIT2))

static uint32_t group_bits(const char* word, size_t len) {
  if (len == 3 && !memcmp(word, "all", 3)) return ALL_FUNCTIONS;
  if (len == 5 && !memcmp(word, "waits", 5)) return WAIT_FUNCTIONS;
  if (len == 8 && !memcmp(word, "eventfds", 8)) return ALL_FUNCTIONS & ~WAIT_FUNCTIONS;
  for (uint32_t f = 1; f < PROBE_FN_COUNT; ++f)
    if (strlen(probe_fn_name(f)) == len && !memcmp(probe_fn_name(f), word, len)) return FN_BIT(f);
  return 0;
}

/* "all", "waits", "eventfds" or function names, comma-separated; a leading
 * '-' removes. Starts from nothing unless the first word removes. */
static uint32_t parse_functions(const char* s) {
  uint32_t bits = (s[0] == '-') ? ALL_FUNCTIONS : 0;
  while (*s) {
    int remove = *s == '-';
    if (remove) ++s;
    size_t len = strcspn(s, ",");
    uint32_t b = group_bits(s, len);
    bits = remove ? (bits & ~b) : (bits | b);
    s += len;
    if (*s == ',') ++s;
  }
  return bits;
}

/* "250ns", "40us", "1.5ms", "2s"; returns 0 on anything else. */
static uint64_t parse_duration_ns(const char* s) {
  char* end = NULL;
  double v = strtod(s, &end);
  if (end == s || v < 0) return 0;
  double unit = 1;
  if (!strcmp(end, "ns") || !*end)
    unit = 1;
  else if (!strcmp(end, "us"))
    unit = 1e3;
  else if (!strcmp(end, "ms"))
    unit = 1e6;
  else if (!strcmp(end, "s"))
    unit = 1e9;
  else
    return 0;
  return (uint64_t)(v * unit);
}

static uint32_t parse_u32(const char* s, uint32_t fallback, uint32_t max) {
  char* end = NULL;
  unsigned long v = strtoul(s, &end, 10);
  if (end == s || *end || v == 0 || v > max) return fallback;
  return (uint32_t)v;
}

static uint32_t round_up_pow2(uint32_t v) {
  uint32_t p = 64;
  while (p < v && p < PROBE_SHM_MAX_SLOT_EVENTS) p <<= 1;
  return p;
}

/* Ticks per ns of the TSC, measured against the clock for ~200 us: only
 * needed to turn PROBE_MIN_DURATION into ticks, where 1e-4 is plenty. */
static uint64_t ns_to_ticks(uint64_t ns) {
  struct probe_clock_point a = probe_clock_sample(), b;
  do b = probe_clock_sample();
  while (b.ns - a.ns < 200000);
  return (uint64_t)((double)ns * (double)(b.tsc - a.tsc) / (double)(b.ns - a.ns));
}

void shim_read_config(void) {
  struct shim_state* s = &probe_shim;
  const char* v;
  s->functions = ALL_FUNCTIONS;
  if ((v = getenv("PROBE_FUNCTIONS")) && *v) s->functions = parse_functions(v);
  s->sample_every = 1;
  if ((v = getenv("PROBE_SAMPLE")) && *v) s->sample_every = parse_u32(v, 1, 1u << 30);
  if ((v = getenv("PROBE_MIN_DURATION")) && *v) s->min_duration_ns = parse_duration_ns(v);
  if ((v = getenv("PROBE_FIRST_PER_SECOND")) && *v) s->first_per_second = parse_u32(v, 0, 1u << 30);
  s->slot_events = SHIM_DEFAULT_SLOT_EVENTS;
  if ((v = getenv("PROBE_BUFFER_EVENTS")) && *v)
    s->slot_events =
        round_up_pow2(parse_u32(v, SHIM_DEFAULT_SLOT_EVENTS, PROBE_SHM_MAX_SLOT_EVENTS));
  s->nslots = SHIM_DEFAULT_SLOTS;
  if ((v = getenv("PROBE_THREADS")) && *v)
    s->nslots = parse_u32(v, SHIM_DEFAULT_SLOTS, PROBE_SHM_MAX_SLOTS);
  while (s->nslots > 8 &&
         probe_shm_total_bytes(SHIM_NAMES, s->nslots, s->slot_events) > PROBE_SHM_MAX_BYTES)
    s->nslots /= 2;
  if ((v = getenv("PROBE_AGENT_SOCKET")) && *v && strlen(v) < sizeof(s->agent_socket))
    strcpy(s->agent_socket, v);
  if ((v = getenv("PROBE_OUTPUT")) && *v && strlen(v) < sizeof(s->out_path)) {
    strcpy(s->out_path, v);
    s->self_drain = 1;
  }
  /* A file written by the shim alone has no agent to convert TSC ticks, and
   * its threads flush at arbitrary times: it stores clock ns directly. */
  s->clock =
      (!s->self_drain && probe_tsc_is_clocksource()) ? PROBE_CLOCK_TSC : PROBE_CLOCK_MONOTONIC;
  s->min_duration_ticks = s->min_duration_ns;
  s->second_ticks = 1000000000ull;
  if (s->clock == PROBE_CLOCK_TSC && (s->min_duration_ns || s->first_per_second)) {
    s->min_duration_ticks = ns_to_ticks(s->min_duration_ns);
    s->second_ticks = ns_to_ticks(1000000000ull);
  }
}
