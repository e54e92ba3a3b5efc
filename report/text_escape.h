// Untrusted bytes (names, argv, paths from traced programs: bytes, not
// necessarily UTF-8) shown as text. The text report shows every name through
// TerminalText; CSV cells go through Utf8Text.
#pragma once
#include <string>
#include <string_view>

#include "probe.pb.h"

namespace probe {

// s with nothing a terminal would act on, losslessly: printable ASCII and
// well-formed UTF-8 pass; a backslash is "\\"; \n \r \t are "\n" "\r" "\t";
// every other control byte (C0, DEL), every byte that is not part of
// well-formed UTF-8, and the UTF-8 of C1 controls (U+0080..U+009F, 8-bit CSI
// among them), bidi overrides and isolates (U+202A..U+202E, U+2066..U+2069)
// and line/paragraph separators (U+2028, U+2029) are "\xHH" per byte.
std::string TerminalText(std::string_view s);

// s as valid UTF-8: every byte that is not part of well-formed UTF-8 is
// "\xHH", everything else (controls included) unchanged. The same text as
// Python's bytes.decode("utf-8", "backslashreplace").
std::string Utf8Text(std::string_view s);

// Replaces every name, argument and path of r (comm, exe, argv, waker and
// thread names, marker names, the header's host, kernel and command line,
// the shim's function list) with its TerminalText, so tables built from r
// print nothing raw. Returns false, leaving r alone, when nothing needed it.
bool MakeTerminalSafe(v1::Record* r);
// Whether r holds a name MakeTerminalSafe would change (cheap: no copy).
bool NeedsTerminalEscaping(const v1::Record& r);

}  // namespace probe
