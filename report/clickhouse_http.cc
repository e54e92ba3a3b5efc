#include "clickhouse_http.h"

#include <algorithm>

#include "text_escape.h"

namespace probe {
namespace {

struct UrlDeleter {
  void operator()(CURLU* u) const { curl_url_cleanup(u); }
};
using UniqueUrl = std::unique_ptr<CURLU, UrlDeleter>;

size_t Collect(char* data, size_t size, size_t n, void* user) {
  static_cast<std::string*>(user)->append(data, size * n);
  return size * n;
}

// The server's error text as one line: "Code: 60, e.displayText() =
// DB::Exception: Table probe.x doesn't exist., e.what() = DB::Exception"
// keeps its first part, newlines folded, bounded.
std::string OneLine(std::string text) {
  if (size_t what = text.find(", e.what() = "); what != std::string::npos) text.resize(what);
  std::replace_if(
      text.begin(), text.end(), [](char c) { return c == '\n' || c == '\r'; }, ' ');
  while (!text.empty() && text.back() == ' ') text.pop_back();
  if (text.size() > 400) text = text.substr(0, 400) + "...";
  return TerminalText(text);  // it may quote bytes of the rows
}

// Ends a one-line message with a part of a request made of untrusted text.
std::string Shorten(const std::string& s) { return s.size() > 80 ? s.substr(0, 80) + "..." : s; }

}  // namespace

std::unique_ptr<ClickHouseHttp> ClickHouseHttp::Open(const std::string& url, std::string* error) {
  UniqueUrl u(curl_url());
  char* scheme = nullptr;
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url.c_str(), 0) != CURLUE_OK ||
      curl_url_get(u.get(), CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK) {
    *error = "invalid --clickhouse URL '" + Shorten(url) + "': expected http://HOST:PORT";
    return nullptr;
  }
  const std::string s = scheme;
  curl_free(scheme);
  if (s != "http" && s != "https") {
    *error = "invalid --clickhouse URL '" + Shorten(url) +
             "': only http and https (ClickHouse's HTTP interface, port 8123 by default)";
    return nullptr;
  }
  std::unique_ptr<ClickHouseHttp> c(new ClickHouseHttp());
  c->url_ = url;
  // Credentials go as user:password@ or ?user=..&password=..: neither is shown.
  curl_url_set(u.get(), CURLUPART_USER, nullptr, 0);
  curl_url_set(u.get(), CURLUPART_PASSWORD, nullptr, 0);
  curl_url_set(u.get(), CURLUPART_QUERY, nullptr, 0);
  char* shown = nullptr;
  if (curl_url_get(u.get(), CURLUPART_URL, &shown, 0) == CURLUE_OK) {
    c->shown_ = shown;
    curl_free(shown);
  }
  c->curl_.reset(curl_easy_init());
  if (!c->curl_) {
    *error = "cannot start libcurl";
    return nullptr;
  }
  CURL* h = c->curl_.get();
  // No "Expect: 100-continue" round trip before large bodies.
  c->headers_.reset(curl_slist_append(nullptr, "Expect:"));
  c->headers_.reset(curl_slist_append(c->headers_.release(), "Content-Type: text/plain"));
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers_.get());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 10L);
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  return c;
}

bool ClickHouseHttp::Post(const std::string& query, std::string_view body, const std::string& what,
                          std::string* out, std::string* error) {
  UniqueUrl u(curl_url());
  std::string param = "query=" + query;
  char* full = nullptr;
  if (!u || curl_url_set(u.get(), CURLUPART_URL, url_.c_str(), 0) != CURLUE_OK ||
      (!query.empty() && curl_url_set(u.get(), CURLUPART_QUERY, param.c_str(),
                                      CURLU_APPENDQUERY | CURLU_URLENCODE) != CURLUE_OK) ||
      curl_url_get(u.get(), CURLUPART_URL, &full, 0) != CURLUE_OK) {
    *error = "cannot make the request URL from " + shown_;
    return false;
  }
  const std::string request = full;
  curl_free(full);
  CURL* h = curl_.get();
  std::string response;
  char curl_error[CURL_ERROR_SIZE] = "";
  curl_easy_setopt(h, CURLOPT_URL, request.c_str());
  curl_easy_setopt(h, CURLOPT_POST, 1L);
  curl_easy_setopt(h, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &response);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_error);
  const CURLcode rc = curl_easy_perform(h);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, nullptr);
  if (rc != CURLE_OK) {
    *error = "cannot reach ClickHouse at " + shown_ + ": " +
             (curl_error[0] ? curl_error : curl_easy_strerror(rc));
    return false;
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200) {
    *error = "ClickHouse at " + shown_ + " refused " + what + " (HTTP " + std::to_string(status) +
             "): " + OneLine(response);
    return false;
  }
  if (out) *out = std::move(response);
  return true;
}

bool ClickHouseHttp::Query(const std::string& sql, std::string* out, std::string* error) {
  // The statement is the body: any length, no URL encoding.
  return Post("", sql, Shorten(sql), out, error);
}

bool ClickHouseHttp::InsertRows(const std::string& into, std::string_view rows,
                                std::string* error) {
  const std::string sql = "INSERT INTO " + into + " FORMAT TabSeparated";
  // Messages name the table, not its column list.
  const std::string what = "INSERT INTO " + into.substr(0, into.find(' '));
  return Post(sql, rows, what, nullptr, error);
}

}  // namespace probe
