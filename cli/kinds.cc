#include "kinds.h"

namespace probe {

std::string CanonicalKind(const std::string& name) {
  for (const char* k : {"process", "syscall", "wakeup", "shim", "marker"}) {
    std::string kind = k;
    if (name == kind || name == kind + (kind == "process" ? "es" : "s")) return kind;
  }
  return "";
}

}  // namespace probe
