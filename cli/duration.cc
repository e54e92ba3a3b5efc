#include "duration.h"

#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdlib>

namespace probe {

bool ParseDuration(const std::string& s, uint64_t* ns) {
  if (s.empty() || !(isdigit(static_cast<unsigned char>(s[0])) || s[0] == '.')) return false;
  char* end = nullptr;
  errno = 0;
  double v = strtod(s.c_str(), &end);
  if (errno != 0 || end == s.c_str() || !std::isfinite(v) || !(v >= 0)) return false;
  std::string unit(end);
  double scale;
  if (unit == "ns")
    scale = 1;
  else if (unit == "us" || unit == "\u00b5s")
    scale = 1e3;
  else if (unit == "ms")
    scale = 1e6;
  else if (unit == "s" || unit.empty())
    scale = 1e9;
  else if (unit == "m")
    scale = 60e9;
  else
    return false;
  double total = v * scale;
  if (total > 1e18) return false;
  *ns = static_cast<uint64_t>(total + 0.5);
  return true;
}

}  // namespace probe
