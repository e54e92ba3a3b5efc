// Who started the agent through sudo: the writer gives the output file to
// that user, and the agent drops to that user after attaching.
#pragma once
#include <sys/types.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <optional>

namespace probe {

struct SudoUser {
  uid_t uid;
  gid_t gid;
};

// Reads a decimal id from the environment; false if unset or malformed.
inline bool EnvId(const char* name, unsigned long* out) {
  const char* s = getenv(name);
  if (s == nullptr || *s == '\0') return false;
  char* end = nullptr;
  errno = 0;
  unsigned long v = strtoul(s, &end, 10);
  if (errno != 0 || *end != '\0' || s[0] == '-' || v > 0xfffffffeUL) return false;
  *out = v;
  return true;
}

// SUDO_UID/SUDO_GID, trusted only when running as root (anyone can set them).
inline std::optional<SudoUser> InvokingSudoUser() {
  unsigned long uid = 0, gid = 0;
  if (geteuid() != 0 || !EnvId("SUDO_UID", &uid) || !EnvId("SUDO_GID", &gid)) return std::nullopt;
  return SudoUser{static_cast<uid_t>(uid), static_cast<gid_t>(gid)};
}

}  // namespace probe
