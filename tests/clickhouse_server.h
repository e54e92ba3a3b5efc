// A real clickhouse-server (Debian's, /usr/sbin/clickhouse-server) for the
// tests and the benchmark: on 127.0.0.1 with free HTTP, TCP and interserver
// ports, a temporary data directory and a generated config (no systemd, no
// /etc/clickhouse-server). The object owns the process: its destructor stops
// it (SIGTERM, then SIGKILL) and removes the directory, whether the test
// passed or not; the server also dies with the test process (PDEATHSIG).
#pragma once
#include <sys/types.h>

#include <memory>
#include <string>

namespace probe::testing {

class ClickHouseServer {
 public:
  // Null with *error (and the server's log) when it does not answer /ping
  // within 60 s.
  static std::unique_ptr<ClickHouseServer> Start(std::string* error);
  ~ClickHouseServer();
  ClickHouseServer(const ClickHouseServer&) = delete;
  ClickHouseServer& operator=(const ClickHouseServer&) = delete;

  const std::string& url() const { return url_; }  // http://127.0.0.1:PORT/
  double start_seconds() const { return start_seconds_; }
  // Runs one statement over HTTP (libcurl, not probe-report's client);
  // false with the server's answer in *error.
  bool Query(const std::string& sql, std::string* out, std::string* error) const;
  // The answer to a query, "" (and a test failure) on error.
  std::string Must(const std::string& sql) const;

 private:
  ClickHouseServer() = default;
  pid_t pid_ = -1;
  std::string dir_, url_;
  double start_seconds_ = 0;
};

}  // namespace probe::testing
