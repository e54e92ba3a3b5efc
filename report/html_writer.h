// The HTML page's writing primitives: escaping of untrusted text, clipping,
// printf-style formatting without a size limit (libfmt), and the small
// pieces of text every section uses.
#pragma once
#include <fmt/printf.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace probe::html {

inline constexpr size_t kMaxText = 300;  // bytes kept of a command line or name for the page

// Safe in HTML text and in quoted attributes: & < > " ' escaped, invalid
// UTF-8 and control characters shown as U+FFFD. Names come from traced
// programs and may hold anything, "</script>" included.
std::string Esc(std::string_view s);
// At most max bytes (the cut may split a UTF-8 sequence: Esc shows it as
// U+FFFD), with "..." when cut.
std::string Clip(std::string_view s, size_t max = kMaxText);

// printf formatting into a string of any length (a fixed buffer would cut
// long names silently).
template <typename... Args>
std::string Printf(const char* format, const Args&... args) {
  return fmt::sprintf(format, args...);
}

std::string Num(uint64_t n);
// "+12.35 ms": a time relative to a base.
std::string Rel(uint64_t t, uint64_t base);
// "2024-01-01 12:00:00 UTC", or "" without a wall-clock offset.
std::string WallTime(uint64_t mono_ns, int64_t offset_ns);
// "<span class="stat"><b>name</b> value</span>"; value already escaped.
std::string Stat(const char* name, const std::string& value);

}  // namespace probe::html
