// Waker names written once: a waker's comm moves out of each record into a
// ThreadName record the first time its tid appears (or its name changes), so
// a breakdown or wakeup costs the waker's tid and not 16 more bytes. Pure.
#pragma once
#include <cstdint>
#include <string>
#include <unordered_map>

#include "probe.pb.h"

namespace probe {

class ThreadNames {
 public:
  static constexpr size_t kMaxThreads = 65536;  // then forgotten and announced again

  // Takes the waker name out of r. Returns true with *name set when a
  // ThreadName record must be written before r; false leaves *name as it
  // was (the last name announced, not to be written again).
  bool Intern(v1::Record* r, v1::Record* name);
  // A new file (--rotate): every name is announced again in it.
  void Reset() { known_.clear(); }

 private:
  bool Take(v1::Waker* w, v1::Record* name);
  std::unordered_map<int32_t, std::string> known_;
};

}  // namespace probe
