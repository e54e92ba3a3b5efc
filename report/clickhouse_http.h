// A ClickHouse server's HTTP interface through libcurl: statements and
// TabSeparated inserts, each a POST, every failure one line of text. The
// CURL handle (its connection kept alive between requests) has one owner.
#pragma once
#include <curl/curl.h>

#include <memory>
#include <string>
#include <string_view>

namespace probe {

class ClickHouseHttp {
 public:
  // url: http[s]://[user:password@]host:port[/][?settings]. Only http and
  // https are followed; *error is one line when the URL cannot be used.
  static std::unique_ptr<ClickHouseHttp> Open(const std::string& url, std::string* error);

  // Runs one statement; the server's answer (e.g. TabSeparated rows) in *out.
  bool Query(const std::string& sql, std::string* out, std::string* error);
  // INSERT INTO `into` FORMAT TabSeparated with rows (lines) as the body.
  bool InsertRows(const std::string& into, std::string_view rows, std::string* error);
  // The URL without user and password, for messages.
  const std::string& shown_url() const { return shown_; }

 private:
  struct CurlDeleter {
    void operator()(CURL* c) const { curl_easy_cleanup(c); }
  };
  struct SlistDeleter {
    void operator()(curl_slist* l) const { curl_slist_free_all(l); }
  };
  ClickHouseHttp() = default;
  // POSTs body to the URL with `query` added to its query string.
  bool Post(const std::string& query, std::string_view body, const std::string& what,
            std::string* out, std::string* error);

  std::unique_ptr<CURL, CurlDeleter> curl_;
  std::unique_ptr<curl_slist, SlistDeleter> headers_;
  std::string url_;    // as given, checked
  std::string shown_;  // without credentials
};

}  // namespace probe
