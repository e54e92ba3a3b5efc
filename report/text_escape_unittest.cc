// The escaping of untrusted names for the terminal (text report) and for
// UTF-8 outputs (CSV), issue 17 items 1 and 11.
#include "text_escape.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "exporter.h"
#include "probe_utf8.h"

namespace probe {
namespace {

bool ValidUtf8(const std::string& s) {
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  for (size_t i = 0; i < s.size();) {
    if (p[i] < 0x80) {
      ++i;
      continue;
    }
    size_t len = probe_utf8_sequence(p + i, s.size() - i);
    if (len < 2) return false;
    i += len;
  }
  return true;
}

bool TerminalInert(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c == 0x7f) return false;
  return ValidUtf8(s);
}

TEST(TextEscapeTest, TerminalTextShowsControlsAndBadBytesAsEscapes) {
  EXPECT_EQ(TerminalText("plain name-1.2"), "plain name-1.2");
  EXPECT_EQ(TerminalText("e\x1b[31mv\nl"), "e\\x1b[31mv\\nl");
  EXPECT_EQ(TerminalText("\x1b]0;PWNED\x07\x1b[2J"), "\\x1b]0;PWNED\\x07\\x1b[2J");
  EXPECT_EQ(TerminalText("a\tb\rc\x7f"), "a\\tb\\rc\\x7f");
  EXPECT_EQ(TerminalText(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(TerminalText("\xff\xfe"), "\\xff\\xfe");
  EXPECT_EQ(TerminalText("back\\slash"), "back\\\\slash") << "lossless: \\ is escaped";
  EXPECT_EQ(TerminalText("caf\xc3\xa9 \xe2\x9c\x93"), "caf\xc3\xa9 \xe2\x9c\x93") << "UTF-8 kept";
  EXPECT_EQ(TerminalText("\xc2\x9b"
                         "2J"),
            "\\xc2\\x9b2J")
      << "C1 CSI";
  EXPECT_EQ(TerminalText("a\xe2\x80\xae"
                         "b"),
            "a\\xe2\\x80\\xaeb")
      << "bidi override";
  EXPECT_EQ(TerminalText("\xe2\x80\xa8"), "\\xe2\\x80\\xa8") << "line separator";
  EXPECT_EQ(TerminalText("\xc3"), "\\xc3") << "cut sequence";
  EXPECT_EQ(TerminalText("\xed\xa0\x80"), "\\xed\\xa0\\x80") << "surrogate";
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_TRUE(TerminalInert(TerminalText(all)));
}

TEST(TextEscapeTest, TerminalTextIsLossless) {
  // Distinct inputs give distinct outputs (a backslash is escaped too).
  EXPECT_NE(TerminalText("\\xff"), TerminalText("\xff"));
  EXPECT_NE(TerminalText("\\n"), TerminalText("\n"));
}

TEST(TextEscapeTest, Utf8TextIsValidAndLikePythonBackslashreplace) {
  EXPECT_EQ(Utf8Text("a\xff"
                     "b\xc3\xa9\x1b"),
            "a\\xffb\xc3\xa9\x1b");
  std::string all;
  for (int b = 0; b < 256; ++b) all.push_back(static_cast<char>(b));
  EXPECT_TRUE(ValidUtf8(Utf8Text(all)));
}

TEST(TextEscapeTest, MakeTerminalSafeEscapesEveryNameOfARecord) {
  v1::Record r;
  r.mutable_process()->set_comm("e\x1b[31mv\nl");
  r.mutable_process()->set_exe("/tmp/\xff");
  r.mutable_process()->add_argv("ok");
  r.mutable_process()->add_argv("\x1b]0;PWNED\x07");
  r.mutable_process()->set_pid(7);
  ASSERT_TRUE(NeedsTerminalEscaping(r));
  ASSERT_TRUE(MakeTerminalSafe(&r));
  EXPECT_EQ(r.process().comm(), "e\\x1b[31mv\\nl");
  EXPECT_EQ(r.process().exe(), "/tmp/\\xff");
  EXPECT_EQ(r.process().argv(0), "ok");
  EXPECT_EQ(r.process().argv(1), "\\x1b]0;PWNED\\x07");
  EXPECT_EQ(r.process().pid(), 7);

  v1::Record w;
  w.mutable_syscall()->mutable_breakdown()->mutable_waker()->set_comm("w\x1b");
  EXPECT_TRUE(MakeTerminalSafe(&w));
  EXPECT_EQ(w.syscall().breakdown().waker().comm(), "w\\x1b");

  v1::Record h;
  h.mutable_header()->set_hostname("h\x07");
  h.mutable_header()->add_command_line("\xff");
  h.mutable_header()->add_events("process");
  EXPECT_TRUE(MakeTerminalSafe(&h));
  EXPECT_EQ(h.header().hostname(), "h\\x07");
  EXPECT_EQ(h.header().command_line(0), "\\xff");

  v1::Record plain;
  plain.mutable_process()->set_comm("caf\xc3\xa9");
  EXPECT_FALSE(NeedsTerminalEscaping(plain));
  EXPECT_FALSE(MakeTerminalSafe(&plain));
}

// The CSV files stay UTF-8 whatever the names hold (issue 17, item 1).
TEST(TextEscapeTest, CsvCellsShowBytesThatAreNotUtf8AsEscapes) {
  char tmpl[] = "/tmp/probe_csvbytes_XXXXXX";
  const std::string dir = mkdtemp(tmpl);
  std::string error;
  TraceSummary summary;  // fed before the exporter, as probe-report does
  auto csv = MakeCsvExporter(dir + "/out", summary, &error);
  ASSERT_TRUE(csv) << error;
  v1::Record p;
  p.mutable_process()->set_pid(3);
  p.mutable_process()->set_comm("a\xff\xfe");
  p.mutable_process()->add_argv("/bin/true");
  p.mutable_process()->add_argv("\xff");
  AddRecord(p, &summary);
  csv->Add(p);
  ASSERT_TRUE(csv->Finish(&error)) << error;
  std::ifstream f(dir + "/out/processes.csv", std::ios::binary);
  std::stringstream ss;
  ss << f.rdbuf();
  const std::string text = ss.str();
  EXPECT_TRUE(ValidUtf8(text)) << text;
  EXPECT_NE(text.find(",3,0,a\\xff\\xfe,,/bin/true '\\xff',"), std::string::npos) << text;
  (void)!system(("rm -rf " + dir).c_str());
}

}  // namespace
}  // namespace probe
