#include "json_writer.h"

#include <cstdio>

extern "C" {
#include "probe_utf8.h"
}

namespace probe {

namespace {

constexpr uint64_t kMaxSafeInteger = (uint64_t{1} << 53) - 1;  // exact in a double

}  // namespace

// Appends s as a JSON string: quotes, backslashes and control characters
// escaped, invalid UTF-8 replaced by U+FFFD so the output is always valid.
void AppendString(std::string* out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out->push_back('"');
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c < 0x80) {
      if (c == '"' || c == '\\') {
        out->push_back('\\');
        out->push_back(static_cast<char>(c));
      } else if (c < 0x20 || c == 0x7f) {
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
      } else {
        out->push_back(static_cast<char>(c));
      }
      ++i;
      continue;
    }
    // A well-formed multi-byte sequence is copied; anything else is U+FFFD.
    const size_t len = probe_utf8_sequence(p + i, n - i);
    if (len > 1) {
      out->append(reinterpret_cast<const char*>(p + i), len);
      i += len;
    } else {
      out->append("\xef\xbf\xbd");
      ++i;
    }
  }
  out->push_back('"');
}

// ns as microseconds with three decimals: 1234567 -> 1234.567.
void AppendMicros(std::string* out, uint64_t ns) {
  char buf[32];
  snprintf(buf, sizeof buf, "%llu.%03u", static_cast<unsigned long long>(ns / 1000),
           static_cast<unsigned>(ns % 1000));
  out->append(buf);
}

// ns as milliseconds with six decimals.
void AppendMillis(std::string* out, uint64_t ns) {
  char buf[32];
  snprintf(buf, sizeof buf, "%llu.%06u", static_cast<unsigned long long>(ns / 1000000),
           static_cast<unsigned>(ns % 1000000));
  out->append(buf);
}

void AppendInt(std::string* out, int64_t v) { out->append(std::to_string(v)); }

// Past 2^53 a JSON number would not survive a double: such values go as strings.
void AppendUint(std::string* out, uint64_t v) {
  if (v <= kMaxSafeInteger) {
    out->append(std::to_string(v));
  } else {
    AppendString(out, std::to_string(v));
  }
}

void AppendInt64(std::string* out, int64_t v) {
  if (v >= -static_cast<int64_t>(kMaxSafeInteger) && v <= static_cast<int64_t>(kMaxSafeInteger)) {
    AppendInt(out, v);
  } else {
    AppendString(out, std::to_string(v));
  }
}

}  // namespace probe
