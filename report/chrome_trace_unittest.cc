// The Chrome trace exporter: records in memory -> a temp file -> parsed back
// by a strict JSON parser written here (RFC 8259, no extensions) -> the
// Trace Event Format's rules and the content of each event.
#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <algorithm>
#include <cstdint>
#include <fstream>
#include <map>
#include <memory>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "exporter.h"

namespace probe {
namespace {

// The model probe-report feeds before each record reaches an exporter.
struct Model {
  TraceSummary s;
  void Add(const v1::Record& r, Exporter& e) {
    AddRecord(r, &s);
    e.Add(r);
  }
};

// ---- a strict JSON parser ------------------------------------------------

struct Json {
  enum Type { kNull, kBool, kNumber, kString, kArray, kObject } type = kNull;
  bool boolean = false;
  std::string text;  // number: its literal; string: the decoded UTF-8
  std::vector<Json> items;
  std::vector<std::pair<std::string, Json>> members;

  const Json* Find(const std::string& key) const {
    for (const auto& [k, v] : members) {
      if (k == key) return &v;
    }
    return nullptr;
  }
  bool Has(const std::string& key) const { return Find(key) != nullptr; }
  const Json& operator[](const std::string& key) const {
    static const Json kMissing;
    const Json* v = Find(key);
    return v ? *v : kMissing;
  }
  bool IsInteger() const {
    return type == kNumber && text.find_first_of(".eE") == std::string::npos;
  }
  int64_t Int() const { return std::stoll(text); }
  const std::string& Str() const { return text; }
};

class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}

  // The whole input must be one value with only whitespace around it.
  bool Parse(Json* out, std::string* error) {
    Ws();
    if (!Value(out, 0)) {
      *error = error_ + " at offset " + std::to_string(pos_);
      return false;
    }
    Ws();
    if (pos_ != s_.size()) {
      *error = "trailing bytes at offset " + std::to_string(pos_);
      return false;
    }
    return true;
  }

 private:
  bool Fail(const std::string& why) {
    if (error_.empty()) error_ = why;
    return false;
  }
  void Ws() {
    while (pos_ < s_.size() &&
           (s_[pos_] == ' ' || s_[pos_] == '\t' || s_[pos_] == '\n' || s_[pos_] == '\r'))
      ++pos_;
  }
  bool Literal(const char* word) {
    const std::string w(word);
    if (s_.compare(pos_, w.size(), w) != 0) return Fail("bad literal");
    pos_ += w.size();
    return true;
  }
  bool Value(Json* v, int depth) {
    if (depth > 64) return Fail("too deep");
    if (pos_ >= s_.size()) return Fail("unexpected end");
    const char c = s_[pos_];
    if (c == '{') return Object(v, depth);
    if (c == '[') return Array(v, depth);
    if (c == '"') {
      v->type = Json::kString;
      return String(&v->text);
    }
    if (c == 't' || c == 'f') {
      v->type = Json::kBool;
      v->boolean = c == 't';
      return Literal(c == 't' ? "true" : "false");
    }
    if (c == 'n') {
      v->type = Json::kNull;
      return Literal("null");
    }
    return Number(v);
  }
  bool Digits() {
    const size_t start = pos_;
    while (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') ++pos_;
    return pos_ > start;
  }
  bool Number(Json* v) {
    const size_t start = pos_;
    if (pos_ < s_.size() && s_[pos_] == '-') ++pos_;
    if (pos_ < s_.size() && s_[pos_] == '0') {
      ++pos_;
      if (pos_ < s_.size() && s_[pos_] >= '0' && s_[pos_] <= '9') return Fail("leading zero");
    } else if (!Digits()) {
      return Fail("bad value");
    }
    if (pos_ < s_.size() && s_[pos_] == '.') {
      ++pos_;
      if (!Digits()) return Fail("bad fraction");
    }
    if (pos_ < s_.size() && (s_[pos_] == 'e' || s_[pos_] == 'E')) {
      ++pos_;
      if (pos_ < s_.size() && (s_[pos_] == '+' || s_[pos_] == '-')) ++pos_;
      if (!Digits()) return Fail("bad exponent");
    }
    v->type = Json::kNumber;
    v->text = s_.substr(start, pos_ - start);
    return true;
  }
  static void AppendUtf8(std::string* out, uint32_t cp) {
    if (cp < 0x80) {
      out->push_back(static_cast<char>(cp));
    } else if (cp < 0x800) {
      out->push_back(static_cast<char>(0xc0 | (cp >> 6)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else if (cp < 0x10000) {
      out->push_back(static_cast<char>(0xe0 | (cp >> 12)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    } else {
      out->push_back(static_cast<char>(0xf0 | (cp >> 18)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3f)));
      out->push_back(static_cast<char>(0x80 | (cp & 0x3f)));
    }
  }
  bool Hex4(uint32_t* cp) {
    if (pos_ + 4 > s_.size()) return Fail("short \\u escape");
    *cp = 0;
    for (int i = 0; i < 4; ++i) {
      const char h = s_[pos_++];
      *cp <<= 4;
      if (h >= '0' && h <= '9') {
        *cp |= h - '0';
      } else if (h >= 'a' && h <= 'f') {
        *cp |= h - 'a' + 10;
      } else if (h >= 'A' && h <= 'F') {
        *cp |= h - 'A' + 10;
      } else {
        return Fail("bad hex digit");
      }
    }
    return true;
  }
  // One raw UTF-8 sequence, checked as strictly as RFC 3629 asks.
  bool Utf8(std::string* out) {
    const auto c = static_cast<unsigned char>(s_[pos_]);
    size_t len = 0;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf) {
      len = 2;
    } else if (c >= 0xe0 && c <= 0xef) {
      len = 3;
      if (c == 0xe0) lo = 0xa0;
      if (c == 0xed) hi = 0x9f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      len = 4;
      if (c == 0xf0) lo = 0x90;
      if (c == 0xf4) hi = 0x8f;
    } else {
      return Fail("invalid UTF-8 lead byte");
    }
    if (pos_ + len > s_.size()) return Fail("truncated UTF-8");
    for (size_t k = 1; k < len; ++k) {
      const auto b = static_cast<unsigned char>(s_[pos_ + k]);
      if (b < (k == 1 ? lo : 0x80) || b > (k == 1 ? hi : 0xbf)) return Fail("invalid UTF-8");
    }
    out->append(s_, pos_, len);
    pos_ += len;
    return true;
  }
  bool String(std::string* out) {
    ++pos_;  // opening quote
    out->clear();
    while (true) {
      if (pos_ >= s_.size()) return Fail("unterminated string");
      const auto c = static_cast<unsigned char>(s_[pos_]);
      if (c == '"') {
        ++pos_;
        return true;
      }
      if (c < 0x20) return Fail("raw control character in string");
      if (c >= 0x80) {
        if (!Utf8(out)) return false;
        continue;
      }
      ++pos_;
      if (c != '\\') {
        out->push_back(static_cast<char>(c));
        continue;
      }
      if (pos_ >= s_.size()) return Fail("unterminated escape");
      const char e = s_[pos_++];
      switch (e) {
        case '"':
          out->push_back('"');
          break;
        case '\\':
          out->push_back('\\');
          break;
        case '/':
          out->push_back('/');
          break;
        case 'b':
          out->push_back('\b');
          break;
        case 'f':
          out->push_back('\f');
          break;
        case 'n':
          out->push_back('\n');
          break;
        case 'r':
          out->push_back('\r');
          break;
        case 't':
          out->push_back('\t');
          break;
        case 'u': {
          uint32_t cp;
          if (!Hex4(&cp)) return false;
          if (cp >= 0xdc00 && cp <= 0xdfff) return Fail("lone low surrogate");
          if (cp >= 0xd800 && cp <= 0xdbff) {
            uint32_t low;
            if (s_.compare(pos_, 2, "\\u") != 0) return Fail("lone high surrogate");
            pos_ += 2;
            if (!Hex4(&low)) return false;
            if (low < 0xdc00 || low > 0xdfff) return Fail("bad surrogate pair");
            cp = 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
          }
          AppendUtf8(out, cp);
          break;
        }
        default:
          return Fail("bad escape");
      }
    }
  }
  bool Array(Json* v, int depth) {
    v->type = Json::kArray;
    ++pos_;
    Ws();
    if (pos_ < s_.size() && s_[pos_] == ']') {
      ++pos_;
      return true;
    }
    while (true) {
      Ws();
      v->items.emplace_back();
      if (!Value(&v->items.back(), depth + 1)) return false;
      Ws();
      if (pos_ >= s_.size()) return Fail("unterminated array");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == ']') {
        ++pos_;
        return true;
      }
      return Fail("expected , or ]");
    }
  }
  bool Object(Json* v, int depth) {
    v->type = Json::kObject;
    ++pos_;
    Ws();
    if (pos_ < s_.size() && s_[pos_] == '}') {
      ++pos_;
      return true;
    }
    std::set<std::string> keys;
    while (true) {
      Ws();
      if (pos_ >= s_.size() || s_[pos_] != '"') return Fail("expected a key");
      std::string key;
      if (!String(&key)) return false;
      if (!keys.insert(key).second) return Fail("duplicate key " + key);
      Ws();
      if (pos_ >= s_.size() || s_[pos_] != ':') return Fail("expected :");
      ++pos_;
      Ws();
      v->members.emplace_back(key, Json());
      if (!Value(&v->members.back().second, depth + 1)) return false;
      Ws();
      if (pos_ >= s_.size()) return Fail("unterminated object");
      if (s_[pos_] == ',') {
        ++pos_;
        continue;
      }
      if (s_[pos_] == '}') {
        ++pos_;
        return true;
      }
      return Fail("expected , or }");
    }
  }

  const std::string& s_;
  size_t pos_ = 0;
  std::string error_;
};

TEST(ChromeTraceJsonParserTest, AcceptsValidRejectsInvalid) {
  auto ok = [](const std::string& s) {
    Json v;
    std::string error;
    return JsonParser(s).Parse(&v, &error);
  };
  EXPECT_TRUE(ok(R"({"a":[1,-0.5,2e3,true,false,null,"x\u00e9\ud83d\ude00\n"]})"));
  EXPECT_TRUE(ok("\"\xc3\xa9\""));
  EXPECT_FALSE(ok("{\"a\":1,}"));
  EXPECT_FALSE(ok("[1,]"));
  EXPECT_FALSE(ok("01"));
  EXPECT_FALSE(ok("1."));
  EXPECT_FALSE(ok("\"a\nb\""));
  EXPECT_FALSE(ok("\"\\x\""));
  EXPECT_FALSE(ok("\"\xff\""));
  EXPECT_FALSE(ok("\"\xc0\xaf\""));  // overlong
  EXPECT_FALSE(ok("\"\\ud800\""));
  EXPECT_FALSE(ok("{\"a\":1,\"a\":2}"));
  EXPECT_FALSE(ok("{} x"));
  EXPECT_FALSE(ok("NaN"));
}

// ---- helpers ----------------------------------------------------------------

// "1234.567" (microseconds) -> 1234567 ns, exactly.
int64_t Ns(const Json& v) {
  EXPECT_EQ(v.type, Json::kNumber);
  const std::string& t = v.text;
  const size_t dot = t.find('.');
  int64_t ns = std::stoll(t.substr(0, dot)) * 1000;
  if (dot != std::string::npos) {
    std::string frac = t.substr(dot + 1);
    EXPECT_LE(frac.size(), 3u) << t;
    frac.resize(3, '0');
    ns += std::stoll(frac);
  }
  return ns;
}

class TempDir {
 public:
  TempDir() {
    char tmpl[] = "/tmp/probe_chrome_XXXXXX";
    dir_ = mkdtemp(tmpl);
  }
  ~TempDir() {
    for (const std::string& f : files_) unlink(f.c_str());
    rmdir(dir_.c_str());
  }
  std::string File(const std::string& name) {
    files_.push_back(dir_ + "/" + name);
    return files_.back();
  }

 private:
  std::string dir_;
  std::vector<std::string> files_;
};

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

constexpr uint64_t kStart = 5'000'000'000;  // Header.start_time_ns
constexpr int32_t kPid = 100;
constexpr int32_t kTid = 101;       // the thread in select
constexpr int32_t kWakerTid = 102;  // writes the eventfd
constexpr int32_t kAgentPid = 50;
const std::string kOddName = "wor\"ker\\\n\x01 \xc3\xa9\xe2\x9c\x93";  // quotes, newline, UTF-8

v1::Record Header() {
  v1::Record r;
  auto* h = r.mutable_header();
  h->set_format_version(1);
  h->set_hostname("host \"one\"");
  h->set_start_time_ns(kStart);
  h->set_agent_pid(kAgentPid);
  h->add_command_line("probe-agent");
  h->add_command_line("--");
  h->add_command_line("./server");
  return r;
}

// The story of one 5 ms select(): the shim's select around the kernel's
// pselect6, woken by the waker thread's write; markers around it.
std::vector<v1::Record> Story() {
  std::vector<v1::Record> rs;
  rs.push_back(Header());
  {
    v1::Record r;
    auto* s = r.mutable_snapshot();
    s->set_pid(kPid);
    s->set_comm("server");
    s->set_start_time_ns(kStart - 1'000'000);  // before the agent: clamped
    auto* t = s->add_threads();
    t->set_tid(kPid);
    t->set_comm("server");
    t = s->add_threads();
    t->set_tid(kTid);
    t->set_comm(kOddName);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* n = r.mutable_thread_name();
    n->set_pid(kPid);
    n->set_tid(kWakerTid);
    n->set_comm("waker");
    rs.push_back(r);
  }
  auto marker = [&](v1::MarkerType type, const std::string& name, uint64_t t, int64_t a0) {
    v1::Record r;
    auto* m = r.mutable_marker();
    m->set_pid(kPid);
    m->set_tid(kTid);
    m->set_type(type);
    m->set_name(name);
    m->set_time_ns(kStart + t);
    m->set_arg0(a0);
    m->set_arg1(-a0);
    return r;
  };
  rs.push_back(marker(v1::MARKER_BEGIN, "wait", 200, 7));
  rs.push_back(marker(v1::MARKER_INSTANT, "BEFORE_SELECT", 300, 1));
  {
    // The wakeup comes before the call's record: the call is written at return.
    v1::Record r;
    auto* w = r.mutable_wakeup();
    w->set_pid(kPid);
    w->set_tid(kTid);
    w->set_off_cpu_time_ns(kStart + 2'000);
    w->set_wake_time_ns(kStart + 4'992'000);
    w->set_on_cpu_time_ns(kStart + 4'997'000);
    w->set_cpu(1);
    w->set_state(v1::OFF_CPU_SLEEPING);
    w->set_off_cpu_ns(4'990'000);
    w->set_run_queue_ns(5'000);
    auto* k = w->mutable_waker();
    k->set_pid(kPid);
    k->set_tid(kWakerTid);
    k->set_syscall_nr(1);
    k->set_fd(3);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* c = r.mutable_syscall();
    c->set_pid(kPid);
    c->set_tid(kTid);
    c->set_syscall(v1::SYSCALL_PSELECT6);
    c->set_start_time_ns(kStart + 1'000);
    c->set_duration_ns(5'000'000);
    c->set_ret(1);
    c->set_nfds(4);
    auto* b = c->mutable_breakdown();
    b->set_to_block_ns(1'000);
    b->set_blocked_ns(4'990'000);
    b->set_run_queue_ns(5'000);
    b->set_return_ns(4'000);
    b->set_woken(true);
    auto* k = b->mutable_waker();
    k->set_pid(kPid);
    k->set_tid(kWakerTid);  // comm empty: from the ThreadName record
    k->set_syscall_nr(1);
    k->set_fd(3);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* c = r.mutable_syscall();
    c->set_pid(kPid);
    c->set_tid(kWakerTid);
    c->set_syscall(v1::SYSCALL_WRITE);
    c->set_start_time_ns(kStart + 4'991'500);
    c->set_duration_ns(1'500);
    c->set_ret(8);
    c->set_fd(3);
    c->set_has_value(true);
    c->set_value(1);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* c = r.mutable_shim_call();
    c->set_pid(kPid);
    c->set_tid(kTid);
    c->set_function(v1::SHIM_SELECT);
    c->set_entry_ns(kStart + 500);
    c->set_duration_ns(5'001'000);
    c->set_result(1);
    c->set_fd(4);
    rs.push_back(r);
  }
  rs.push_back(marker(v1::MARKER_END, "wait", 5'002'000, 8));
  rs.push_back(marker(v1::MARKER_END, "never begun", 5'003'000, 0));
  rs.push_back(marker(v1::MARKER_BEGIN, "never ended", 5'004'000, 0));
  rs.push_back(marker(v1::MARKER_INSTANT, "odd \x02 \"name\" \xff", 5'005'000, 0));
  {
    // Woken from an interrupt on an idle CPU, straight onto the CPU.
    v1::Record r;
    auto* w = r.mutable_wakeup();
    w->set_pid(kPid);
    w->set_tid(kWakerTid);
    w->set_wake_time_ns(kStart + 6'000'000);
    w->set_on_cpu_time_ns(kStart + 6'000'000);
    w->set_state(v1::OFF_CPU_SLEEPING);
    auto* k = w->mutable_waker();
    k->set_pid(0);
    k->set_tid(0);
    k->set_comm("swapper/1");
    k->set_syscall_nr(-1);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* h = r.mutable_syscall_histogram();
    h->set_pid(kPid);
    h->set_syscall(v1::SYSCALL_PSELECT6);
    h->set_time_ns(kStart + 7'000'000);
    h->set_count(21);
    h->set_sum_ns(102'240'000);
    h->set_timeouts(1);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* h = r.mutable_sched_histogram();
    h->set_pid(kPid);
    h->set_kind(v1::SCHED_HISTOGRAM_RUN_QUEUE);
    h->set_time_ns(kStart + 7'000'000);
    h->set_count(3);
    h->set_sum_ns(12'000);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* s = r.mutable_stats();
    s->set_time_ns(kStart + 8'000'000);
    auto* c = s->add_counters();
    c->set_kind(v1::EVENT_KIND_SYSCALL);
    c->set_produced(30);
    c->set_written(25);
    c->set_sampled_out(3);
    c->set_lost_ring_full(2);
    auto* shim = s->add_shim();
    shim->set_pid(kPid);
    shim->set_produced(12);
    shim->set_written(10);
    shim->set_lost_buffer_full(2);
    rs.push_back(r);
  }
  {
    v1::Record r;
    auto* p = r.mutable_process();
    p->set_pid(kPid);
    p->set_ppid(1);
    p->set_comm("server");
    p->set_exe("/usr/bin/server");
    p->add_argv("server");
    p->add_argv("--flag");
    p->set_fork_time_ns(kStart + 50);
    p->set_exec_time_ns(kStart + 100);
    p->set_exit_time_ns(kStart + 9'000'000);
    p->set_finished(true);
    rs.push_back(r);
  }
  {
    v1::Record r;
    r.mutable_trailer()->set_time_ns(kStart + 9'500'000);
    r.mutable_trailer()->set_stop_reason("targets exited");
    rs.push_back(r);
  }
  return rs;
}

// Writes records through the exporter and parses the file back.
Json Export(const std::vector<v1::Record>& records, const std::string& path,
            std::string* raw = nullptr) {
  std::string error;
  Model m;
  auto e = MakeChromeTraceExporter(path, m.s.names, &error);
  EXPECT_NE(e, nullptr) << error;
  if (!e) return Json();
  for (const v1::Record& r : records) m.Add(r, *e);
  EXPECT_TRUE(e->Finish(&error)) << error;
  const std::string text = ReadFile(path);
  if (raw) *raw = text;
  Json doc;
  std::string perror;
  EXPECT_TRUE(JsonParser(text).Parse(&doc, &perror)) << perror;
  return doc;
}

// The Trace Event Format's rules every output must follow.
void CheckFormatRules(const Json& doc) {
  ASSERT_EQ(doc.type, Json::kObject);
  ASSERT_EQ(doc["traceEvents"].type, Json::kArray);
  EXPECT_EQ(doc["displayTimeUnit"].Str(), "ns");
  EXPECT_EQ(doc["metadata"].type, Json::kObject);

  std::set<int64_t> named_pids;
  std::set<std::pair<int64_t, int64_t>> named_threads;
  std::set<int64_t> used_pids;
  std::set<std::pair<int64_t, int64_t>> used_threads;
  std::map<std::pair<int64_t, int64_t>, int> open_be;
  std::map<std::string, std::pair<int, int>> flows;  // id -> (starts, ends)
  for (const Json& ev : doc["traceEvents"].items) {
    ASSERT_EQ(ev.type, Json::kObject);
    ASSERT_EQ(ev["ph"].type, Json::kString);
    ASSERT_EQ(ev["ph"].Str().size(), 1u);
    const char ph = ev["ph"].Str()[0];
    ASSERT_EQ(ev["name"].type, Json::kString);
    ASSERT_TRUE(ev["pid"].IsInteger()) << ev["name"].Str();
    ASSERT_TRUE(ev["tid"].IsInteger()) << ev["name"].Str();
    const int64_t pid = ev["pid"].Int(), tid = ev["tid"].Int();
    if (ph == 'M') {
      EXPECT_EQ(ev["args"]["name"].type, Json::kString);
      if (ev["name"].Str() == "process_name") named_pids.insert(pid);
      if (ev["name"].Str() == "thread_name") named_threads.insert({pid, tid});
      continue;
    }
    ASSERT_EQ(ev["ts"].type, Json::kNumber) << ev["name"].Str();
    EXPECT_GE(Ns(ev["ts"]), 0);
    used_pids.insert(pid);
    used_threads.insert({pid, tid});
    if (ev.Has("args")) {
      EXPECT_EQ(ev["args"].type, Json::kObject);
    }
    switch (ph) {
      case 'X':
        ASSERT_EQ(ev["dur"].type, Json::kNumber) << ev["name"].Str();
        EXPECT_GE(Ns(ev["dur"]), 0);
        break;
      case 'B':
        ++open_be[std::make_pair(pid, tid)];
        break;
      case 'E': {
        const int open = open_be[std::make_pair(pid, tid)]--;
        EXPECT_GT(open, 0) << "E without B";
        break;
      }
      case 'i':
        EXPECT_TRUE(ev["s"].Str() == "t" || ev["s"].Str() == "p" || ev["s"].Str() == "g");
        break;
      case 'C':
        ASSERT_EQ(ev["args"].type, Json::kObject);
        for (const auto& [k, v] : ev["args"].members) EXPECT_EQ(v.type, Json::kNumber) << k;
        break;
      case 's':
      case 'f':
        ASSERT_TRUE(ev.Has("id"));
        EXPECT_EQ(ev["cat"].Str(), "wakeup");
        if (ph == 's') {
          ++flows[ev["id"].text].first;
        } else {
          ++flows[ev["id"].text].second;
          EXPECT_EQ(ev["bp"].Str(), "e");
        }
        break;
      default:
        ADD_FAILURE() << "unexpected phase " << ph;
    }
  }
  for (const auto& [thread, open] : open_be) EXPECT_EQ(open, 0) << "unbalanced B/E";
  for (const auto& [id, ends] : flows) {
    EXPECT_EQ(ends.first, 1) << "flow " << id;
    EXPECT_EQ(ends.second, 1) << "flow " << id;
  }
  for (int64_t pid : used_pids) EXPECT_TRUE(named_pids.count(pid)) << "no process_name " << pid;
  for (const auto& t : used_threads)
    EXPECT_TRUE(named_threads.count(t)) << "no thread_name " << t.first << "/" << t.second;
}

std::vector<const Json*> Events(const Json& doc, char ph, const std::string& name) {
  std::vector<const Json*> out;
  for (const Json& ev : doc["traceEvents"].items) {
    if (ev["ph"].Str() == std::string(1, ph) && ev["name"].Str() == name) out.push_back(&ev);
  }
  return out;
}

const Json& One(const Json& doc, char ph, const std::string& name) {
  static const Json kMissing;
  auto evs = Events(doc, ph, name);
  EXPECT_EQ(evs.size(), 1u) << ph << " " << name;
  return evs.empty() ? kMissing : *evs[0];
}

std::string ThreadName(const Json& doc, int64_t pid, int64_t tid) {
  for (const Json* ev : Events(doc, 'M', "thread_name")) {
    if ((*ev)["pid"].Int() == pid && (*ev)["tid"].Int() == tid) return (*ev)["args"]["name"].Str();
  }
  return "<none>";
}

// ---- tests --------------------------------------------------------------------

TEST(ChromeTraceTest, StoryIsValidJsonFollowingTheFormat) {
  TempDir dir;
  const Json doc = Export(Story(), dir.File("trace.json"));
  CheckFormatRules(doc);
  EXPECT_EQ(doc["metadata"]["hostname"].Str(), "host \"one\"");
  EXPECT_EQ(doc["metadata"]["stop_reason"].Str(), "targets exited");
  EXPECT_EQ(doc["metadata"]["start_time_ns"].Int(), static_cast<int64_t>(kStart));
}

TEST(ChromeTraceTest, SyscallSliceWithBreakdownAndWaker) {
  TempDir dir;
  const Json doc = Export(Story(), dir.File("trace.json"));
  const Json& k = One(doc, 'X', "pselect6");
  EXPECT_EQ(k["cat"].Str(), "syscall");
  EXPECT_EQ(k["pid"].Int(), kPid);
  EXPECT_EQ(k["tid"].Int(), kTid);
  EXPECT_EQ(k["ts"].text, "1.000");  // us relative to the header's start, ns precision
  EXPECT_EQ(Ns(k["dur"]), 5'000'000);
  const Json& a = k["args"];
  EXPECT_EQ(a["ret"].Int(), 1);
  EXPECT_EQ(a["nfds"].Int(), 4);
  EXPECT_EQ(a["timeout"].Str(), "none");
  EXPECT_EQ(a["blocked_ns"].Int(), 4'990'000);
  EXPECT_EQ(a["run_queue_ns"].Int(), 5'000);
  EXPECT_EQ(a["to_block_ns"].Int(), 1'000);
  EXPECT_EQ(a["return_ns"].Int(), 4'000);
  EXPECT_EQ(a["waker_tid"].Int(), kWakerTid);
  EXPECT_EQ(a["waker_comm"].Str(), "waker");  // from the ThreadName record
  EXPECT_EQ(a["waker_syscall"].Str(), "write(fd 3)");

  const Json& w = One(doc, 'X', "write(eventfd)");
  EXPECT_EQ(w["args"]["fd"].Int(), 3);
  EXPECT_EQ(w["args"]["value"].Int(), 1);
  EXPECT_EQ(w["ts"].text, "4991.500");
}

TEST(ChromeTraceTest, ShimSliceContainsKernelSlice) {
  TempDir dir;
  const Json doc = Export(Story(), dir.File("trace.json"));
  const Json& k = One(doc, 'X', "pselect6");
  const Json& u = One(doc, 'X', "select (user)");
  EXPECT_EQ(u["cat"].Str(), "shim");
  EXPECT_EQ(u["tid"].Int(), k["tid"].Int());
  EXPECT_EQ(u["pid"].Int(), k["pid"].Int());
  EXPECT_LE(Ns(u["ts"]), Ns(k["ts"]));
  EXPECT_LE(Ns(k["ts"]) + Ns(k["dur"]), Ns(u["ts"]) + Ns(u["dur"]));
  EXPECT_EQ(u["args"]["result"].Int(), 1);
  EXPECT_EQ(u["args"]["nfds"].Int(), 4);
  // And the marker span contains both.
  const Json& span = One(doc, 'X', "wait");
  EXPECT_LE(Ns(span["ts"]), Ns(u["ts"]));
  EXPECT_LE(Ns(u["ts"]) + Ns(u["dur"]), Ns(span["ts"]) + Ns(span["dur"]));
}

TEST(ChromeTraceTest, Markers) {
  TempDir dir;
  const Json doc = Export(Story(), dir.File("trace.json"));
  const Json& span = One(doc, 'X', "wait");
  EXPECT_EQ(span["cat"].Str(), "marker");
  EXPECT_EQ(Ns(span["ts"]), 200);
  EXPECT_EQ(Ns(span["dur"]), 5'001'800);
  EXPECT_EQ(span["args"]["arg0"].Int(), 7);
  EXPECT_EQ(span["args"]["arg1"].Int(), -7);
  EXPECT_EQ(span["args"]["end_arg0"].Int(), 8);

  const Json& inst = One(doc, 'i', "BEFORE_SELECT");
  EXPECT_EQ(inst["s"].Str(), "t");
  EXPECT_EQ(Ns(inst["ts"]), 300);
  EXPECT_EQ(inst["args"]["arg0"].Int(), 1);

  // An END without its BEGIN stays visible as an instant; a BEGIN never
  // ENDed runs to the end of the trace (the trailer).
  EXPECT_EQ(One(doc, 'i', "never begun")["args"]["unmatched"].Str(), "end");
  const Json& open = One(doc, 'X', "never ended");
  EXPECT_TRUE(open["args"]["unclosed"].boolean);
  EXPECT_EQ(Ns(open["ts"]) + Ns(open["dur"]), 9'500'000);
  EXPECT_TRUE(Events(doc, 'B', "wait").empty());
}

TEST(ChromeTraceTest, WakeupFlowAndRunQueue) {
  TempDir dir;
  const Json doc = Export(Story(), dir.File("trace.json"));
  auto starts = Events(doc, 's', "wakeup");
  auto ends = Events(doc, 'f', "wakeup");
  ASSERT_EQ(starts.size(), 2u);
  ASSERT_EQ(ends.size(), 2u);
  const Json& s = *starts[0];
  const Json& f = *ends[0];
  EXPECT_EQ(s["id"].text, f["id"].text);
  EXPECT_NE(starts[0]->Find("id")->text, starts[1]->Find("id")->text);
  EXPECT_EQ(s["tid"].Int(), kWakerTid);
  EXPECT_EQ(Ns(s["ts"]), 4'992'000);
  EXPECT_EQ(f["tid"].Int(), kTid);
  EXPECT_EQ(Ns(f["ts"]), 4'997'000);

  auto rq = Events(doc, 'X', "run queue");
  ASSERT_EQ(rq.size(), 1u);  // the second wakeup had no run-queue delay
  EXPECT_EQ((*rq[0])["tid"].Int(), kTid);
  EXPECT_EQ(Ns((*rq[0])["ts"]), 4'992'000);
  EXPECT_EQ(Ns((*rq[0])["dur"]), 5'000);
  EXPECT_EQ((*rq[0])["args"]["waker_comm"].Str(), "waker");
  // Each flow end has a slice to bind to at its timestamp.
  auto wakes = Events(doc, 'X', "wake");
  ASSERT_EQ(wakes.size(), 2u);
  EXPECT_EQ((*wakes[0])["tid"].Int(), kWakerTid);
  EXPECT_EQ(Ns((*wakes[0])["ts"]), 4'992'000);
  // The interrupt's flow starts on the kernel's track, named.
  EXPECT_EQ((*starts[1])["pid"].Int(), 0);
  EXPECT_EQ(ThreadName(doc, 0, 0), "interrupts (idle CPUs)");
  EXPECT_EQ(One(doc, 'X', "woken")["tid"].Int(), kWakerTid);
}

TEST(ChromeTraceTest, NamesAreEscapedAndRoundTrip) {
  TempDir dir;
  std::string raw;
  const Json doc = Export(Story(), dir.File("trace.json"), &raw);
  EXPECT_EQ(ThreadName(doc, kPid, kTid), kOddName);
  EXPECT_EQ(ThreadName(doc, kPid, kPid), "server");
  EXPECT_EQ(ThreadName(doc, kPid, kWakerTid), "waker");
  EXPECT_NE(raw.find("\\u0001"), std::string::npos);
  EXPECT_NE(raw.find("wor\\\"ker\\\\"), std::string::npos);
  // Invalid UTF-8 is replaced, control characters escaped.
  EXPECT_EQ(One(doc, 'i', "odd \x02 \"name\" \xef\xbf\xbd")["s"].Str(), "t");
  for (const Json* ev : Events(doc, 'M', "process_name")) {
    if ((*ev)["pid"].Int() == kPid) {
      EXPECT_EQ((*ev)["args"]["name"].Str(), "server");
    }
  }
}

TEST(ChromeTraceTest, ProcessHistogramAndStatsCounters) {
  TempDir dir;
  const Json doc = Export(Story(), dir.File("trace.json"));
  const Json& p = One(doc, 'X', "process server");
  EXPECT_EQ(p["pid"].Int(), kPid);
  EXPECT_EQ(p["tid"].Int(), kPid);
  EXPECT_EQ(Ns(p["ts"]), 100);
  EXPECT_EQ(Ns(p["dur"]), 9'000'000 - 100);
  EXPECT_EQ(p["args"]["argv"].Str(), "server --flag");
  EXPECT_EQ(p["args"]["exit_code"].Int(), 0);

  const Json& calls = One(doc, 'C', "calls: pselect6");
  EXPECT_EQ(calls["pid"].Int(), kPid);
  EXPECT_EQ(Ns(calls["ts"]), 7'000'000);
  EXPECT_EQ(calls["args"]["count"].Int(), 21);
  EXPECT_EQ(One(doc, 'C', "total time: pselect6")["args"]["ms"].text, "102.240000");
  EXPECT_EQ(One(doc, 'C', "timeouts: pselect6")["args"]["count"].Int(), 1);
  EXPECT_TRUE(Events(doc, 'C', "errors: pselect6").empty());
  EXPECT_EQ(One(doc, 'C', "run queue waits")["args"]["count"].Int(), 3);

  const Json& written = One(doc, 'C', "records written");
  EXPECT_EQ(written["pid"].Int(), kAgentPid);
  EXPECT_EQ(written["args"]["syscall"].Int(), 25);
  EXPECT_EQ(One(doc, 'C', "lost")["args"]["syscall"].Int(), 2);
  EXPECT_EQ(One(doc, 'C', "sampled out")["args"]["syscall"].Int(), 3);
  const Json& shim = One(doc, 'C', "shim records written");
  EXPECT_EQ(shim["pid"].Int(), kPid);
  EXPECT_EQ(shim["args"]["count"].Int(), 10);
  EXPECT_EQ(One(doc, 'C', "shim records lost")["args"]["count"].Int(), 2);
}

TEST(ChromeTraceTest, RecordOrderDoesNotMatterForValidity) {
  // File order is not time order (per-CPU rings): reversed still makes a
  // valid file with the same events.
  TempDir dir;
  auto records = Story();
  std::reverse(records.begin() + 1, records.end());
  const Json doc = Export(records, dir.File("trace.json"));
  CheckFormatRules(doc);
  EXPECT_EQ(Events(doc, 'X', "pselect6").size(), 1u);
}

TEST(ChromeTraceTest, OpenSpansAreBoundedPerThread) {
  TempDir dir;
  std::vector<v1::Record> rs{Header()};
  for (int i = 0; i < 1000; ++i) {
    v1::Record r;
    auto* m = r.mutable_marker();
    m->set_pid(kPid);
    m->set_tid(kTid);
    m->set_type(v1::MARKER_BEGIN);
    m->set_name("span");
    m->set_time_ns(kStart + 1000 * i);
    rs.push_back(r);
  }
  const Json doc = Export(rs, dir.File("trace.json"));
  CheckFormatRules(doc);
  // Every BEGIN is in the output: the oldest as instants, the rest unclosed.
  EXPECT_EQ(Events(doc, 'i', "span").size() + Events(doc, 'X', "span").size(), 1000u);
  EXPECT_LE(Events(doc, 'X', "span").size(), 256u);
}

TEST(ChromeTraceTest, ManyRecordsStreamThroughTheBuffer) {
  // More than the 1 MiB buffer: written in pieces, still one valid document.
  TempDir dir;
  std::string error;
  const std::string path = dir.File("big.json");
  Model m;
  auto e = MakeChromeTraceExporter(path, m.s.names, &error);
  ASSERT_NE(e, nullptr) << error;
  m.Add(Header(), *e);
  constexpr int kCalls = 20000;
  v1::Record r;
  auto* c = r.mutable_syscall();
  c->set_pid(kPid);
  c->set_syscall(v1::SYSCALL_POLL);
  c->set_duration_ns(300);
  for (int i = 0; i < kCalls; ++i) {
    c->set_tid(kPid + i % 50);
    c->set_start_time_ns(kStart + 1000 * i);
    m.Add(r, *e);
  }
  ASSERT_TRUE(e->Finish(&error)) << error;
  const std::string text = ReadFile(path);
  EXPECT_GT(text.size(), size_t{2} << 20);
  Json doc;
  std::string perror;
  ASSERT_TRUE(JsonParser(text).Parse(&doc, &perror)) << perror;
  CheckFormatRules(doc);
  EXPECT_EQ(Events(doc, 'X', "poll").size(), static_cast<size_t>(kCalls));
  EXPECT_EQ(Events(doc, 'M', "thread_name").size(), 50u);
}

TEST(ChromeTraceTest, UnwritablePathIsAnError) {
  std::string error;
  Model m;
  auto e = MakeChromeTraceExporter("/nonexistent-probe-dir/trace.json", m.s.names, &error);
  EXPECT_EQ(e, nullptr);
  EXPECT_NE(error.find("/nonexistent-probe-dir/trace.json"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

TEST(ChromeTraceTest, WriteErrorFailsFinish) {
  if (access("/dev/full", W_OK) != 0) GTEST_SKIP() << "no /dev/full";
  std::string error;
  Model m;
  auto e = MakeChromeTraceExporter("/dev/full", m.s.names, &error);
  ASSERT_NE(e, nullptr) << error;
  for (const v1::Record& r : Story()) m.Add(r, *e);
  EXPECT_FALSE(e->Finish(&error));
  EXPECT_NE(error.find("/dev/full"), std::string::npos) << error;
  EXPECT_EQ(error.find('\n'), std::string::npos);
}

}  // namespace
}  // namespace probe
