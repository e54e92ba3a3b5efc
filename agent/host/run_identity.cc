#include "run_identity.h"

#include <fcntl.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>

namespace probe {

namespace {

int64_t Ns(const timespec& t) { return int64_t(t.tv_sec) * 1000000000ll + t.tv_nsec; }

// BOOTTIME - MONOTONIC, the BOOTTIME read between two MONOTONIC reads.
int64_t BoottimeOffsetNs() {
  timespec m1{}, b{}, m2{};
  clock_gettime(CLOCK_MONOTONIC, &m1);
  clock_gettime(CLOCK_BOOTTIME, &b);
  clock_gettime(CLOCK_MONOTONIC, &m2);
  return Ns(b) - (Ns(m1) + (Ns(m2) - Ns(m1)) / 2);
}

// The first line of a small system file, kept only if it is an id: hex
// digits and dashes (boot_id is a UUID, machine-id 32 hex digits).
std::string ReadId(const char* path) {
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0) fd = open(path, O_RDONLY | O_CLOEXEC);  // /etc/machine-id may be a link
  if (fd < 0) return "";
  char buf[64];
  ssize_t n = read(fd, buf, sizeof(buf));
  close(fd);
  std::string id;
  for (ssize_t i = 0; i < n && buf[i] != '\n'; ++i) {
    char c = buf[i];
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || c == '-')) return "";
    id += c;
  }
  return id.size() >= 32 ? id : "";
}

}  // namespace

std::string NewRunId() {
  unsigned char b[16];
  if (getrandom(b, sizeof(b), 0) != ssize_t(sizeof(b))) return "";
  b[6] = (b[6] & 0x0f) | 0x40;  // version 4
  b[8] = (b[8] & 0x3f) | 0x80;  // RFC 4122 variant
  char out[37];
  snprintf(out, sizeof(out), "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
           b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13],
           b[14], b[15]);
  return out;
}

void AddRunIdentity(const Options& o, v1::Header* h) {
  h->set_boottime_offset_ns(BoottimeOffsetNs());
  h->set_boot_id(ReadId("/proc/sys/kernel/random/boot_id"));
  h->set_machine_id(ReadId("/etc/machine-id"));
  h->set_run_id(NewRunId());
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  h->set_cpu_count(cpus > 0 ? uint32_t(cpus) : 0);
  for (const auto& [key, value] : o.tags) {
    auto* t = h->add_tags();
    t->set_key(key);
    t->set_value(value);
  }
}

}  // namespace probe
