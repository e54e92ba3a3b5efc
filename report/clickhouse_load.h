// probe-report FILE... --clickhouse URL: loads recordings into ClickHouse.
// Creates the database and tables if missing; a file is identified by its
// run id and sequence (Header.run_id, Header.sequence): one already in the
// runs table adds nothing and is said so. Records stream in batches
// (bounded memory, any file size); the file's runs row is inserted last, so
// a load that failed part way has no runs row, and the next load first
// removes what it left, then loads the file whole. A cut-off file loads its
// whole records and is marked cut in runs.
#pragma once
#include <cstdio>
#include <string>
#include <vector>

namespace probe {

struct ClickHouseLoadOptions {
  std::string url;
  std::string database = "probe";
  std::string host_name;           // overrides each header's hostname
  std::vector<std::string> files;  // "-": stdin
};

// Prints one line per file (rows per table) to out and one line per problem
// to err; returns the exit status (0: every file loaded or already loaded).
int LoadIntoClickHouse(const ClickHouseLoadOptions& o, FILE* out, FILE* err);

}  // namespace probe
