// Why a program could not take the LD_PRELOAD shim, read from its ELF file:
// the dynamic loader ignores LD_PRELOAD for static binaries and for setuid or
// setgid ones, and a libc other than glibc lacks the symbols the shim wraps.
#pragma once
#include <string>

namespace probe {

// The executable execvp would run for name (searched in PATH when it has no
// '/'), or "" if none.
std::string FindExecutable(const std::string& name);

// "" when the program at path can be preloaded, else the reason, one line.
std::string PreloadObstacle(const std::string& path);

}  // namespace probe
