// A streaming JSON writer for the Chrome trace: values appended to a
// string buffer as they come (the document can be far larger than memory),
// strings always valid UTF-8 JSON, numbers past 2^53 as strings.
#pragma once
#include <cstdint>
#include <string>
#include <string_view>

namespace probe {

// Appends s as a JSON string: quotes, backslashes and control characters
// escaped, invalid UTF-8 replaced by U+FFFD so the output is always valid.
void AppendString(std::string* out, std::string_view s);
// ns as microseconds with three decimals: 1234567 -> 1234.567.
void AppendMicros(std::string* out, uint64_t ns);
// ns as milliseconds with six decimals.
void AppendMillis(std::string* out, uint64_t ns);
void AppendInt(std::string* out, int64_t v);
// Past 2^53 a JSON number would not survive a double: such values go as strings.
void AppendUint(std::string* out, uint64_t v);
void AppendInt64(std::string* out, int64_t v);

// One event appended to a buffer: the fields first, then the args.
class Event {
 public:
  Event(std::string* out, char ph, std::string_view name, std::string_view cat, int32_t pid,
        int32_t tid)
      : out_(out) {
    out_->append("{\"ph\":\"");
    out_->push_back(ph);
    out_->append("\",\"name\":");
    AppendString(out_, name);
    if (!cat.empty()) {
      out_->append(",\"cat\":");
      AppendString(out_, cat);
    }
    out_->append(",\"pid\":");
    AppendInt(out_, pid);
    out_->append(",\"tid\":");
    AppendInt(out_, tid);
  }
  // A complete event ("X"): ts and dur in ns, relative to the origin.
  Event(std::string* out, std::string_view name, std::string_view cat, int32_t pid, int32_t tid,
        uint64_t rel_ns, uint64_t dur_ns)
      : Event(out, 'X', name, cat, pid, tid) {
    Ts(rel_ns).Dur(dur_ns);
  }
  ~Event() { out_->append(args_open_ ? "}}" : "}"); }
  Event(const Event&) = delete;
  Event& operator=(const Event&) = delete;

  Event& Ts(uint64_t rel_ns) {
    out_->append(",\"ts\":");
    AppendMicros(out_, rel_ns);
    return *this;
  }
  Event& Dur(uint64_t ns) {
    out_->append(",\"dur\":");
    AppendMicros(out_, ns);
    return *this;
  }
  Event& Field(std::string_view key, std::string_view value) {
    out_->append(",\"");
    out_->append(key);
    out_->append("\":");
    AppendString(out_, value);
    return *this;
  }
  Event& FieldUint(std::string_view key, uint64_t value) {
    out_->append(",\"");
    out_->append(key);
    out_->append("\":");
    AppendUint(out_, value);
    return *this;
  }
  Event& Arg(std::string_view key, std::string_view value) {
    Key(key);
    AppendString(out_, value);
    return *this;
  }
  Event& Arg(std::string_view key, const char* value) { return Arg(key, std::string_view(value)); }
  Event& Arg(std::string_view key, const std::string& value) {
    return Arg(key, std::string_view(value));
  }
  Event& ArgInt(std::string_view key, int64_t value) {
    Key(key);
    AppendInt64(out_, value);
    return *this;
  }
  Event& ArgUint(std::string_view key, uint64_t value) {
    Key(key);
    AppendUint(out_, value);
    return *this;
  }
  Event& ArgBool(std::string_view key, bool value) {
    Key(key);
    out_->append(value ? "true" : "false");
    return *this;
  }
  Event& ArgMillis(std::string_view key, uint64_t ns) {
    Key(key);
    AppendMillis(out_, ns);
    return *this;
  }

 private:
  void Key(std::string_view key) {
    out_->append(args_open_ ? ",\"" : ",\"args\":{\"");
    args_open_ = true;
    // Keys are literals of this file: no escaping needed, but stay safe.
    for (char ch : key) {
      if (ch != '"' && ch != '\\' && static_cast<unsigned char>(ch) >= 0x20) out_->push_back(ch);
    }
    out_->append("\":");
  }

  std::string* out_;
  bool args_open_ = false;
};

}  // namespace probe
