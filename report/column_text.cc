#include "column_text.h"

#include <cctype>
#include <cstring>

namespace probe {

std::string EnumName(const google::protobuf::EnumDescriptor* d, int value,
                     std::string_view prefix) {
  const google::protobuf::EnumValueDescriptor* v = d->FindValueByNumber(value);
  if (v == nullptr) return std::to_string(value);
  std::string_view name = v->name();
  if (name.substr(0, prefix.size()) == prefix) name.remove_prefix(prefix.size());
  std::string out(name);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string ShellQuote(const std::string& arg) {
  bool plain = !arg.empty();
  for (unsigned char c : arg) {
    if (!(std::isalnum(c) || std::strchr("@%+=:,./-_", c) != nullptr)) {
      plain = false;
      break;
    }
  }
  if (plain) return arg;
  std::string out = "'";
  for (char c : arg) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string JoinArgv(const google::protobuf::RepeatedPtrField<std::string>& argv) {
  std::string out;
  for (const std::string& a : argv) {
    if (!out.empty()) out += ' ';
    out += ShellQuote(a);
  }
  return out;
}

std::string JoinNumbers(const google::protobuf::RepeatedField<uint64_t>& values) {
  std::string out;
  for (auto v : values) {
    if (!out.empty()) out += ';';
    out += std::to_string(v);
  }
  return out;
}

}  // namespace probe
