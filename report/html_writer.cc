#include "html_writer.h"

#include <ctime>

#include "histogram.h"
extern "C" {
#include "probe_utf8.h"
}

namespace probe::html {

// Safe in HTML text and in quoted attributes: & < > " ' escaped, invalid
// UTF-8 and control characters shown as U+FFFD. Names come from traced
// programs and may hold anything, "</script>" included.
std::string Esc(std::string_view s) {
  static const char kBad[] = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(s.size() + 8);
  size_t i = 0;
  while (i < s.size()) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      switch (c) {
        case '&':
          out += "&amp;";
          break;
        case '<':
          out += "&lt;";
          break;
        case '>':
          out += "&gt;";
          break;
        case '"':
          out += "&quot;";
          break;
        case '\'':
          out += "&#39;";
          break;
        default:
          if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
            out += kBad;
          else
            out += static_cast<char>(c);
      }
      ++i;
      continue;
    }
    // A well-formed multi-byte sequence is copied; anything else is U+FFFD.
    const size_t len =
        probe_utf8_sequence(reinterpret_cast<const unsigned char*>(s.data()) + i, s.size() - i);
    const bool ok = len > 1;
    if (!ok) {
      out += kBad;
      ++i;
      continue;
    }
    out.append(s.substr(i, len));
    i += len;
  }
  return out;
}

// At most max bytes (the cut may split a UTF-8 sequence: Esc shows it as
// U+FFFD), with "..." when cut.
std::string Clip(std::string_view s, size_t max) {
  if (s.size() <= max) return std::string(s);
  return std::string(s.substr(0, max)) + "...";
}

std::string Num(uint64_t n) { return std::to_string(n); }

// "+12.35 ms": a time relative to a base.
std::string Rel(uint64_t t, uint64_t base) {
  return t >= base ? "+" + FormatDuration(t - base) : "-" + FormatDuration(base - t);
}

// 4096 -> "4.1us": short, for axis labels.

std::string WallTime(uint64_t mono_ns, int64_t offset_ns) {
  if (offset_ns == 0) return "";
  const int64_t wall = static_cast<int64_t>(mono_ns) + offset_ns;
  time_t secs = static_cast<time_t>(wall / 1000000000);
  struct tm tm {};
  if (!gmtime_r(&secs, &tm)) return "";
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string Stat(const char* name, const std::string& value) {
  return std::string("<span class=\"stat\"><b>") + name + "</b> " + value + "</span>";
}

}  // namespace probe::html
