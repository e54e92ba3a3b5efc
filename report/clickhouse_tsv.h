// One row of a ClickHouse table in the TabSeparated format, its cells set by
// column name (clickhouse_schema.h says the order and types); a column not
// set is NULL when Nullable, else its type's default. TabSeparated rather
// than JSONEachRow: ClickHouse 18.16 parses it about 4 times faster
// (bench/clickhouse_load_bench.py), and it is as old and as stable.
//
// Text cells hold the CSV's text of untrusted bytes (text_escape.h Utf8Text:
// a byte that is not part of well-formed UTF-8 is the four characters \xHH),
// escaped for TabSeparated (backslash, tab, newline, CR, NUL and quote), so a
// row is one line of valid UTF-8 whatever the bytes.
#pragma once
#include <google/protobuf/repeated_field.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "clickhouse_schema.h"

namespace probe {

// Cells reused from row to row (no allocation per row once warm).
struct TsvCells {
  std::vector<std::string> text;
  std::vector<char> set;
};

class TsvRow {
 public:
  TsvRow(ChTable t, TsvCells& cells);
  TsvRow(const TsvRow&) = delete;
  TsvRow& operator=(const TsvRow&) = delete;

  TsvRow& U(const char* column, uint64_t v);
  TsvRow& I(const char* column, int64_t v);
  TsvRow& B(const char* column, bool v) { return U(column, v ? 1 : 0); }
  // Untrusted bytes, as their CSV text.
  TsvRow& T(const char* column, std::string_view raw);
  // A DateTime from Unix seconds.
  TsvRow& Time(const char* column, uint32_t seconds);
  TsvRow& Numbers(const char* column, const google::protobuf::RepeatedField<uint64_t>& values);
  // An Array(String) of untrusted bytes.
  TsvRow& Texts(const char* column, const std::vector<std::string_view>& raw);
  // Appends the row as one line.
  void AppendTo(std::string* out) const;

 private:
  std::string& Cell(const char* column);

  const std::vector<ChColumn>& columns_;
  TsvCells& cells_;
  size_t next_ = 0;  // where the next column is looked for first (set in order: no search)
};

// "host, run_id, ...": the columns of t, for INSERT INTO t (...) FORMAT TabSeparated.
std::string ChColumnList(ChTable t);
// Appends raw's CSV text escaped for TabSeparated (quote = true: and for a
// quoted string inside an array).
void AppendTsvText(std::string* out, std::string_view raw);

}  // namespace probe
