#pragma once
// ClickHouse's HTTP interface through libcurl (Debian ships no C++ client for 18.16): a query
// or an insert to one node, its answer collected or streamed line by line as TabSeparated,
// plus the TSV and SQL-literal escaping both directions need.
//
// Errors name the node's URL and the cause (connection refused, timeout, or ClickHouse's own
// exception text). A request that failed before any answer reached the caller is retried
// `retries` times with doubling back-off: every request the store makes is idempotent (inserts
// are deduplicated by deterministic ids), so a retry never counts twice.
//
// Thread-safety: one ClickHouseHttp per thread (it keeps one curl handle for keep-alive).

#include <chrono>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace vantage::store::clickhouse {

struct HttpOptions {
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds request_timeout{120000};
  int retries = 2;
  std::chrono::milliseconds retry_backoff{200};
};

class ClickHouseHttp {
 public:
  explicit ClickHouseHttp(HttpOptions options);
  ~ClickHouseHttp();
  ClickHouseHttp(const ClickHouseHttp&) = delete;
  ClickHouseHttp& operator=(const ClickHouseHttp&) = delete;

  // Runs a statement that answers nothing worth reading (DDL, INSERT ... SELECT, ALTER).
  Status execute(const std::string& url, const std::string& sql);
  // INSERT: `sql` ("INSERT INTO t FORMAT TabSeparated") goes in the URL, `data` is the body.
  Status insert(const std::string& url, const std::string& sql, std::string_view data);
  // A SELECT whose whole answer is small.
  Result<std::string> query(const std::string& url, const std::string& sql);
  // A SELECT answered as TabSeparated, handed over one row at a time (fields unescaped; the
  // views live until the callback returns). Memory is one row, whatever the answer's size.
  // The callback returns false to stop early (not an error).
  Status query_rows(const std::string& url, const std::string& sql,
                    const std::function<bool(const std::vector<std::string_view>&)>& row);

 private:
  Status request(const std::string& url, const std::string& params, std::string_view body,
                 const std::function<bool(std::string_view)>& sink);
  Status request_once(const std::string& url, const std::string& params, std::string_view body,
                      const std::function<bool(std::string_view)>& sink, bool& delivered,
                      bool& retryable);

  HttpOptions options_;
  void* curl_ = nullptr;  // CURL*, kept for keep-alive
};

// TabSeparated field escaping (\\, \t, \n, \r, \0) for inserts.
void append_tsv_escaped(std::string& out, std::string_view value);
// The inverse, for answers; appends to `out`.
void append_tsv_unescaped(std::string& out, std::string_view field);
// A quoted SQL string literal ('...' with backslash escapes), also the form of a String inside
// an Array in TabSeparated.
std::string sql_quote(std::string_view value);
// Parses "[1,2,3]" (an Array of unsigned integers as TabSeparated writes it).
std::vector<uint64_t> parse_uint_array(std::string_view text);

}  // namespace vantage::store::clickhouse
