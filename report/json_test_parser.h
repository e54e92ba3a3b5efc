// A strict JSON parser for the tests, on Debian's nlohmann-json: the value
// tree keeps each number's literal text, so a test can check how a number
// was written ("1.000"), not only its value.
#pragma once
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>
#include <vector>

namespace probe::testing {

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

// Parses with Debian's nlohmann-json (strict: RFC 8259 grammar, valid UTF-8,
// nothing after the value) into Json, keeping each number's literal text and
// refusing duplicate keys, which nlohmann alone would let through.
class JsonParser {
 public:
  explicit JsonParser(const std::string& s) : s_(s) {}

  bool Parse(Json* out, std::string* error) {
    Builder b(out);
    const bool ok = nlohmann::json::sax_parse(s_, &b) && b.error.empty();
    if (!ok) *error = b.error.empty() ? "not JSON" : b.error;
    return ok;
  }

 private:
  struct Builder : nlohmann::json_sax<nlohmann::json> {
    explicit Builder(Json* root) : root(root) {}
    Json* root;
    std::vector<Json*> open;  // containers being filled, innermost last
    std::string error;

    Json* Next() {
      if (open.empty()) return root;
      Json* top = open.back();
      if (top->type == Json::kArray) return &top->items.emplace_back();
      return &top->members.back().second;
    }
    bool Scalar(Json::Type type, std::string text, bool b = false) {
      Json* v = Next();
      v->type = type;
      v->text = std::move(text);
      v->boolean = b;
      return true;
    }
    bool null() override { return Scalar(Json::kNull, ""); }
    bool boolean(bool b) override { return Scalar(Json::kBool, "", b); }
    bool number_integer(number_integer_t v) override {
      return Scalar(Json::kNumber, std::to_string(v));
    }
    bool number_unsigned(number_unsigned_t v) override {
      return Scalar(Json::kNumber, std::to_string(v));
    }
    bool number_float(number_float_t, const string_t& literal) override {
      return Scalar(Json::kNumber, literal);
    }
    bool string(string_t& s) override { return Scalar(Json::kString, s); }
    bool binary(binary_t&) override { return false; }
    bool start_object(std::size_t) override { return Open(Json::kObject); }
    bool key(string_t& k) override {
      if (open.back()->Has(k)) {
        error = "duplicate key " + k;
        return false;
      }
      open.back()->members.emplace_back(k, Json());
      return true;
    }
    bool end_object() override { return Close(); }
    bool start_array(std::size_t) override { return Open(Json::kArray); }
    bool end_array() override { return Close(); }
    bool parse_error(std::size_t, const std::string&,
                     const nlohmann::detail::exception& e) override {
      error = e.what();
      return false;
    }
    bool Open(Json::Type type) {
      Json* v = Next();
      v->type = type;
      open.push_back(v);
      return true;
    }
    bool Close() {
      open.pop_back();
      return true;
    }
  };

  const std::string& s_;
};

}  // namespace probe::testing
