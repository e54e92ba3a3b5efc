/* UTF-8 well-formedness, for the readers that display names (names,
 * argv and marker names are proto `bytes`, kept exact by the agent and the
 * shim). probe_utf8_sanitize makes a copy valid: every byte that is not part
 * of a well-formed UTF-8 sequence, and every control byte, becomes '?'. */
#ifndef PROBE_PRELOAD_PROBE_UTF8_H_
#define PROBE_PRELOAD_PROBE_UTF8_H_

#include <stddef.h>
#include <stdint.h>

/* Length of the well-formed sequence at s[0..n), or 0. */
static inline size_t probe_utf8_sequence(const unsigned char* s, size_t n) {
  unsigned char c = s[0];
  size_t len;
  uint32_t cp;
  if (c < 0x80) return c >= 0x20 && c != 0x7f ? 1 : 0;
  if (c >= 0xc2 && c <= 0xdf) {
    len = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    len = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    len = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (len > n) return 0;
  for (size_t i = 1; i < len; ++i) {
    if ((s[i] & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (s[i] & 0x3f);
  }
  if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
      (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
    return 0;
  return len;
}

/* Copies n bytes of src to dst (n bytes), made valid as described above. */
static inline void probe_utf8_sanitize(char* dst, const char* src, size_t n) {
  const unsigned char* s = (const unsigned char*)src;
  size_t i = 0;
  while (i < n) {
    size_t len = probe_utf8_sequence(s + i, n - i);
    if (len == 0) {
      dst[i++] = '?';
      continue;
    }
    for (size_t k = 0; k < len; ++k, ++i) dst[i] = (char)s[i];
  }
}

#endif /* PROBE_PRELOAD_PROBE_UTF8_H_ */
