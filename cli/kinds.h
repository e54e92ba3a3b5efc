// One spelling of each record kind across both tools. The documented one is
// the singular (process, syscall, wakeup, shim, marker: the names of
// EventKind and of the CSV files); the plural is accepted everywhere too.
#pragma once
#include <string>

namespace probe {

// "syscalls" -> "syscall", "wakeup" -> "wakeup", "processes" -> "process";
// "" for a name that is no kind.
std::string CanonicalKind(const std::string& name);

}  // namespace probe
