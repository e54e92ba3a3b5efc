#include "clickhouse_tsv.h"

#include <charconv>
#include <cstdio>
#include <cstring>

#include "text_escape.h"

namespace probe {
namespace {

bool IsAscii(std::string_view s) {
  for (unsigned char c : s)
    if (c >= 0x80) return false;
  return true;
}

template <typename T>
void AppendNumber(std::string* out, T v) {
  char tmp[24];
  auto res = std::to_chars(tmp, tmp + sizeof tmp, v);
  out->append(tmp, res.ptr);
}

void AppendEscaped(std::string* out, std::string_view s) {
  for (char c : s) {
    switch (c) {
      case '\\':
        out->append("\\\\");
        break;
      case '\t':
        out->append("\\t");
        break;
      case '\n':
        out->append("\\n");
        break;
      case '\r':
        out->append("\\r");
        break;
      case '\0':
        out->append("\\0");
        break;
      case '\'':
        out->append("\\'");
        break;
      default:
        out->push_back(c);
    }
  }
}

// What an unset column holds.
const char* DefaultText(const std::string& type) {
  if (type.rfind("Nullable(", 0) == 0) return "\\N";
  if (type.rfind("Array(", 0) == 0) return "[]";
  if (type == "String") return "";
  if (type == "DateTime") return "0000000000";
  return "0";
}

}  // namespace

void AppendTsvText(std::string* out, std::string_view raw) {
  if (IsAscii(raw))
    AppendEscaped(out, raw);
  else
    AppendEscaped(out, Utf8Text(raw));
}

TsvRow::TsvRow(ChTable t, TsvCells& cells) : columns_(ChColumns(t)), cells_(cells) {
  cells_.text.resize(std::max(cells_.text.size(), columns_.size()));
  cells_.set.assign(columns_.size(), 0);
}

std::string& TsvRow::Cell(const char* column) {
  const size_t n = columns_.size();
  for (size_t k = 0; k < n; ++k) {
    const size_t i = (next_ + k) % n;
    if (columns_[i].name == column) {
      next_ = i + 1;
      cells_.set[i] = 1;
      cells_.text[i].clear();
      return cells_.text[i];
    }
  }
  // A column the schema lacks is a bug of this file, caught by the unit tests.
  fprintf(stderr, "probe-report: internal error: no column %s\n", column);
  abort();
}

TsvRow& TsvRow::U(const char* column, uint64_t v) {
  AppendNumber(&Cell(column), v);
  return *this;
}

TsvRow& TsvRow::I(const char* column, int64_t v) {
  AppendNumber(&Cell(column), v);
  return *this;
}

TsvRow& TsvRow::T(const char* column, std::string_view raw) {
  AppendTsvText(&Cell(column), raw);
  return *this;
}

TsvRow& TsvRow::Time(const char* column, uint32_t seconds) {
  // ClickHouse reads a Unix time in TabSeparated only as exactly 10 digits.
  char tmp[16];
  snprintf(tmp, sizeof tmp, "%010u", seconds);
  Cell(column).append(tmp);
  return *this;
}

TsvRow& TsvRow::Numbers(const char* column,
                        const google::protobuf::RepeatedField<uint64_t>& values) {
  std::string& c = Cell(column);
  c += '[';
  for (int i = 0; i < values.size(); ++i) {
    if (i) c += ',';
    AppendNumber(&c, values.Get(i));
  }
  c += ']';
  return *this;
}

TsvRow& TsvRow::Texts(const char* column, const std::vector<std::string_view>& raw) {
  std::string& c = Cell(column);
  c += '[';
  for (size_t i = 0; i < raw.size(); ++i) {
    if (i) c += ',';
    c += '\'';
    AppendTsvText(&c, raw[i]);
    c += '\'';
  }
  c += ']';
  return *this;
}

void TsvRow::AppendTo(std::string* out) const {
  for (size_t i = 0; i < columns_.size(); ++i) {
    if (i) *out += '\t';
    if (cells_.set[i])
      *out += cells_.text[i];
    else
      *out += DefaultText(columns_[i].type);
  }
  *out += '\n';
}

std::string ChColumnList(ChTable t) {
  std::string out;
  for (const ChColumn& c : ChColumns(t)) {
    if (!out.empty()) out += ", ";
    out += c.name;
  }
  return out;
}

}  // namespace probe
