// The one rule for every duration option of both tools: a number with a
// unit ns, us (or µs), ms, s or m, e.g. 250us, 1.5s, 2m; a bare number is
// seconds ("--duration 10", "--from 1.5").
#pragma once
#include <cstdint>
#include <string>

namespace probe {

// "250ns", "40us", "1.5ms", "2s", "3m", "5" (seconds) -> ns; false for
// anything else, negative, or beyond ~31 years.
bool ParseDuration(const std::string& s, uint64_t* ns);

// The sentence --help prints about durations.
inline constexpr const char* kDurationRule =
    "DUR is a number with a unit ns, us, ms, s or m (e.g. 250us, 1.5s, 2m); a bare\n"
    "number is seconds.";

}  // namespace probe
