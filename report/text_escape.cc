#include "text_escape.h"

#include <cstdint>

#include "probe_utf8.h"
#include "record_kind.h"

namespace probe {
namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::Reflection;

// Code points that are valid UTF-8 but act on (or reorder) a terminal's text.
bool IsHiddenCodePoint(const unsigned char* p, size_t len) {
  uint32_t cp = 0;
  if (len == 2) cp = ((p[0] & 0x1fu) << 6) | (p[1] & 0x3fu);
  if (len == 3) cp = ((p[0] & 0x0fu) << 12) | ((p[1] & 0x3fu) << 6) | (p[2] & 0x3fu);
  return (cp >= 0x80 && cp <= 0x9f) || (cp >= 0x202a && cp <= 0x202e) ||
         (cp >= 0x2066 && cp <= 0x2069) || cp == 0x2028 || cp == 0x2029;
}

void AppendHex(std::string* out, unsigned char c) {
  static const char kHex[] = "0123456789abcdef";
  out->append("\\x");
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 15]);
}

bool IsPlain(std::string_view s) {
  for (unsigned char c : s)
    if (c < 0x20 || c >= 0x7f || c == '\\') return false;
  return true;
}

bool NeedsEscaping(std::string_view s) { return !IsPlain(s) && TerminalText(s) != s; }

// Calls f(message, field, index) for every string and bytes value in m and
// its sub-messages; index is -1 for a singular field.
template <typename M, typename F>
void ForEachText(M& m, const F& f) {
  const Reflection* refl = m.GetReflection();
  std::vector<const FieldDescriptor*> fields;
  refl->ListFields(m, &fields);  // only the fields that are set
  for (const FieldDescriptor* fd : fields) {
    const bool text =
        fd->type() == FieldDescriptor::TYPE_STRING || fd->type() == FieldDescriptor::TYPE_BYTES;
    if (!text && fd->cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) continue;
    if (!fd->is_repeated()) {
      if (text) {
        f(m, fd, -1);
      } else if constexpr (std::is_const_v<M>) {
        ForEachText(refl->GetMessage(m, fd), f);
      } else {
        ForEachText(*refl->MutableMessage(&m, fd), f);
      }
      continue;
    }
    for (int i = 0; i < refl->FieldSize(m, fd); ++i) {
      if (text) {
        f(m, fd, i);
      } else if constexpr (std::is_const_v<M>) {
        ForEachText(refl->GetRepeatedMessage(m, fd, i), f);
      } else {
        ForEachText(*refl->MutableRepeatedMessage(&m, fd, i), f);
      }
    }
  }
}

std::string GetText(const Message& m, const FieldDescriptor* fd, int i) {
  const Reflection* refl = m.GetReflection();
  return i < 0 ? refl->GetString(m, fd) : refl->GetRepeatedString(m, fd, i);
}

}  // namespace

std::string TerminalText(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    const unsigned char c = p[i];
    if (c >= 0x20 && c < 0x7f) {
      if (c == '\\') out.push_back('\\');
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if (c == '\n' || c == '\r' || c == '\t') {
      out.push_back('\\');
      out.push_back(c == '\n' ? 'n' : c == '\r' ? 'r' : 't');
      ++i;
      continue;
    }
    const size_t len = c >= 0x80 ? probe_utf8_sequence(p + i, n - i) : 0;
    if (len > 1 && !IsHiddenCodePoint(p + i, len)) {
      out.append(reinterpret_cast<const char*>(p + i), len);
      i += len;
      continue;
    }
    // A control byte, a byte of no well-formed sequence, or every byte of a
    // hidden code point.
    const size_t bytes = len > 1 ? len : 1;
    for (size_t k = 0; k < bytes; ++k) AppendHex(&out, p[i + k]);
    i += bytes;
  }
  return out;
}

std::string Utf8Text(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  size_t i = 0;
  while (i < n) {
    if (p[i] < 0x80) {
      out.push_back(static_cast<char>(p[i++]));
      continue;
    }
    const size_t len = probe_utf8_sequence(p + i, n - i);
    if (len > 1) {
      out.append(reinterpret_cast<const char*>(p + i), len);
      i += len;
    } else {
      AppendHex(&out, p[i++]);
    }
  }
  return out;
}

bool NeedsTerminalEscaping(const v1::Record& r) {
  switch (TextOf(r)) {
    case RecordText::kNone:
      return false;
    case RecordText::kWakerName: {  // checked without reflection: most of a file
      const v1::Waker* w = WakerOf(r);
      return w != nullptr && NeedsEscaping(w->comm());
    }
    case RecordText::kAny:
      break;
  }
  bool needs = false;
  ForEachText(r, [&](const Message& m, const FieldDescriptor* fd, int i) {
    if (!needs) needs = NeedsEscaping(GetText(m, fd, i));
  });
  return needs;
}

bool MakeTerminalSafe(v1::Record* r) {
  if (!NeedsTerminalEscaping(*r)) return false;
  ForEachText(*r, [](Message& m, const FieldDescriptor* fd, int i) {
    const Reflection* refl = m.GetReflection();
    std::string safe = TerminalText(GetText(m, fd, i));
    if (i < 0)
      refl->SetString(&m, fd, std::move(safe));
    else
      refl->SetRepeatedString(&m, fd, i, std::move(safe));
  });
  return true;
}

}  // namespace probe
