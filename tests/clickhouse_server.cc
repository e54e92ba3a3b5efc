#include "clickhouse_server.h"

#include <curl/curl.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>
#include <vector>

#include "run_command.h"

namespace probe::testing {
namespace {

constexpr const char* kServer = "/usr/sbin/clickhouse-server";

// Ports the kernel hands out as free; all held until all are chosen.
std::vector<int> FreePorts(int n) {
  std::vector<int> fds, ports;
  for (int i = 0; i < n; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    ports.push_back(ntohs(a.sin_port));
    fds.push_back(fd);
  }
  for (int fd : fds) close(fd);
  return ports;
}

size_t Collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

}  // namespace

std::unique_ptr<ClickHouseServer> ClickHouseServer::Start(std::string* error) {
  if (access(kServer, X_OK) != 0) {
    *error =
        std::string(kServer) + " is missing: scripts/install-deps.sh installs clickhouse-server";
    return nullptr;
  }
  std::unique_ptr<ClickHouseServer> s(new ClickHouseServer());
  s->dir_ = MakeTempDir();
  const std::vector<int> ports = FreePorts(3);
  const std::string d = s->dir_;
  std::ofstream(d + "/config.xml")
      << "<?xml version=\"1.0\"?>\n<yandex>\n"
      << "  <logger><level>warning</level><log>" << d << "/server.log</log><errorlog>" << d
      << "/server.err.log</errorlog><console>0</console></logger>\n"
      << "  <listen_host>127.0.0.1</listen_host>\n"
      << "  <http_port>" << ports[0] << "</http_port>\n"
      << "  <tcp_port>" << ports[1] << "</tcp_port>\n"
      << "  <interserver_http_port>" << ports[2] << "</interserver_http_port>\n"
      << "  <path>" << d << "/data/</path>\n  <tmp_path>" << d << "/data/tmp/</tmp_path>\n"
      << "  <user_files_path>" << d << "/data/user_files/</user_files_path>\n"
      << "  <format_schema_path>" << d << "/data/format_schemas/</format_schema_path>\n"
      << "  <users_config>" << d << "/users.xml</users_config>\n"
      << "  <default_profile>default</default_profile>\n"
      << "  <default_database>default</default_database>\n"
      << "  <mark_cache_size>67108864</mark_cache_size>\n"
      << "  <uncompressed_cache_size>67108864</uncompressed_cache_size>\n"
      << "  <timezone>UTC</timezone>\n</yandex>\n";
  std::ofstream(d + "/users.xml")
      << "<?xml version=\"1.0\"?>\n<yandex>\n  <profiles><default></default></profiles>\n"
      << "  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>"
      << "<profile>default</profile><quota>default</quota></default></users>\n"
      << "  <quotas><default></default></quotas>\n</yandex>\n";
  s->url_ = "http://127.0.0.1:" + std::to_string(ports[0]) + "/";

  const auto t0 = std::chrono::steady_clock::now();
  const pid_t parent = getpid();
  s->pid_ = fork();
  if (s->pid_ == 0) {
    prctl(PR_SET_PDEATHSIG, SIGKILL);  // never outlives the test
    if (getppid() != parent) _exit(1);
    int log = open((d + "/stdout.log").c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    dup2(log, 1);
    dup2(log, 2);
    const std::string config = "--config-file=" + d + "/config.xml";
    execl(kServer, kServer, config.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  for (int i = 0; i < 600; ++i) {
    std::string out, e;
    if (s->Query("SELECT 1", &out, &e) && out == "1\n") {
      s->start_seconds_ =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      return s;
    }
    int st;
    if (waitpid(s->pid_, &st, WNOHANG) == s->pid_) {
      s->pid_ = -1;
      *error = "clickhouse-server exited at start: " + Slurp(d + "/stdout.log") +
               Slurp(d + "/server.err.log");
      return nullptr;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  *error = "clickhouse-server did not answer within 60 s: " + Slurp(d + "/server.err.log");
  return nullptr;
}

ClickHouseServer::~ClickHouseServer() {
  if (pid_ > 0) {
    kill(pid_, SIGTERM);
    int st;
    bool gone = false;
    for (int i = 0; i < 300 && !gone; ++i) {  // 30 s for a clean shutdown
      gone = waitpid(pid_, &st, WNOHANG) == pid_;
      if (!gone) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (!gone) {
      kill(pid_, SIGKILL);
      waitpid(pid_, &st, 0);
    }
  }
  if (!dir_.empty()) (void)!system(("rm -rf " + dir_).c_str());
}

bool ClickHouseServer::Query(const std::string& sql, std::string* out, std::string* error) const {
  CURL* c = curl_easy_init();
  if (!c) return false;
  std::string body;
  curl_easy_setopt(c, CURLOPT_URL, url_.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, sql.c_str());
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(sql.size()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  const CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_cleanup(c);
  if (rc != CURLE_OK || status != 200) {
    *error = rc != CURLE_OK ? curl_easy_strerror(rc) : body;
    return false;
  }
  *out = std::move(body);
  return true;
}

std::string ClickHouseServer::Must(const std::string& sql) const {
  std::string out, error;
  if (!Query(sql, &out, &error)) {
    ADD_FAILURE() << "query failed: " << sql << "\n" << error;
    return "";
  }
  return out;
}

}  // namespace probe::testing
