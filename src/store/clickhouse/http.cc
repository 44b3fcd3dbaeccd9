#include "store/clickhouse/http.h"

#include <curl/curl.h>

#include <thread>

#include "common/strings.h"

namespace vantage::store::clickhouse {

namespace {

// Settings every request carries. wait_end_of_query: the server answers only once the query
// has finished (spilling a long answer to its own disk), so a failure mid-query arrives as an
// HTTP error instead of a truncated 200 answer with the exception text glued to the end.
// max_query_size and max_(expanded_)ast_elements: a write's dedup queries list the batch's
// occurrence ids literally (three times), and the pipeline merges queued batches, so a batch
// of 65,536 events is ~200,000 AST elements, four times ClickHouse's default limit ("AST is too
// big. Maximum: 50000"). The limits below hold batches of a million events.
constexpr const char* kCommonParams =
    "wait_end_of_query=1&insert_distributed_sync=1&max_query_size=67108864&max_ast_elements="
    "4000000&max_expanded_ast_elements=4000000";

struct Transfer {
  CURL* curl = nullptr;
  const std::function<bool(std::string_view)>* sink = nullptr;
  std::string error_body;  // the answer of a failed request, for the message
  bool delivered = false;
  bool stopped = false;  // the sink asked to stop
};

size_t on_body(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t bytes = size * n;
  long code = 0;
  curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &code);
  if (code != 200) {
    if (t->error_body.size() < 4096) t->error_body.append(data, std::min<size_t>(bytes, 4096));
    return bytes;
  }
  t->delivered = true;
  if (!(*t->sink)(std::string_view(data, bytes))) {
    t->stopped = true;
    return 0;  // aborts the transfer
  }
  return bytes;
}

std::string url_encode(std::string_view s) {
  std::string out;
  static const char* hex = "0123456789ABCDEF";
  for (unsigned char c : s) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  return out;
}

// ClickHouse's exception text on one line, bounded: a failed distributed query's first line
// says only "All connection tries failed. Log:"; the next ones name the shard that is down.
std::string first_line(std::string_view s) {
  std::string out;
  for (auto line : split(s, '\n')) {
    line = trim(line);
    if (line.empty()) continue;
    if (!out.empty()) out += " | ";
    out.append(line);
    if (out.size() > 400) break;
  }
  if (out.size() > 400) out.resize(400);
  return out;
}

}  // namespace

ClickHouseHttp::ClickHouseHttp(HttpOptions options) : options_(options) {
  curl_ = curl_easy_init();
}

ClickHouseHttp::~ClickHouseHttp() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Status ClickHouseHttp::request_once(const std::string& url, const std::string& params,
                                    std::string_view body,
                                    const std::function<bool(std::string_view)>& sink,
                                    bool& delivered, bool& retryable) {
  auto* curl = static_cast<CURL*>(curl_);
  if (!curl) return Error::internal("libcurl could not be initialised");
  curl_easy_reset(curl);
  std::string full = url;
  if (!full.empty() && full.back() == '/') full.pop_back();
  full += "/?" + params;
  Transfer t;
  t.curl = curl;
  t.sink = &sink;
  curl_easy_setopt(curl, CURLOPT_URL, full.c_str());
  curl_easy_setopt(curl, CURLOPT_POST, 1L);
  curl_easy_setopt(curl, CURLOPT_POSTFIELDS, body.data());
  curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body.size()));
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &t);
  curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.request_timeout.count()));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  // No "Expect: 100-continue" round trip before each insert body.
  struct curl_slist* headers = curl_slist_append(nullptr, "Expect:");
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  CURLcode rc = curl_easy_perform(curl);
  curl_slist_free_all(headers);
  delivered = t.delivered;
  if (t.stopped) return {};
  if (rc != CURLE_OK) {
    retryable = true;
    return Error{ErrorCode::kUnavailable,
                 "ClickHouse at " + url + " unreachable: " + curl_easy_strerror(rc)};
  }
  long code = 0;
  curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &code);
  if (code != 200) {
    // 5xx from an overloaded or restarting node may pass; a query error (also 500 in 18.16)
    // repeats identically, so only connection-level failures and 503 are retried.
    retryable = code == 503;
    return Error{code == 503 ? ErrorCode::kUnavailable : ErrorCode::kIo,
                 "ClickHouse at " + url + " answered HTTP " + std::to_string(code) + ": " +
                     first_line(t.error_body)};
  }
  return {};
}

Status ClickHouseHttp::request(const std::string& url, const std::string& params,
                               std::string_view body,
                               const std::function<bool(std::string_view)>& sink) {
  auto backoff = options_.retry_backoff;
  for (int attempt = 0;; ++attempt) {
    bool delivered = false, retryable = false;
    auto st = request_once(url, params, body, sink, delivered, retryable);
    // Once part of an answer reached the caller, a retry would hand it over twice.
    if (st || delivered || !retryable || attempt >= options_.retries) return st;
    std::this_thread::sleep_for(backoff);
    backoff *= 2;
  }
}

Status ClickHouseHttp::execute(const std::string& url, const std::string& sql) {
  return request(url, kCommonParams, sql, [](std::string_view) { return true; });
}

Status ClickHouseHttp::insert(const std::string& url, const std::string& sql,
                              std::string_view data) {
  return request(url, std::string(kCommonParams) + "&query=" + url_encode(sql), data,
                 [](std::string_view) { return true; });
}

Result<std::string> ClickHouseHttp::query(const std::string& url, const std::string& sql) {
  std::string out;
  auto st = request(url, kCommonParams, sql, [&](std::string_view chunk) {
    out.append(chunk);
    return true;
  });
  if (!st) return st.error();
  return out;
}

Status ClickHouseHttp::query_rows(
    const std::string& url, const std::string& sql,
    const std::function<bool(const std::vector<std::string_view>&)>& row) {
  std::string pending;  // the unfinished line of the last chunk
  std::vector<std::string> unescaped;
  std::vector<std::string_view> fields;
  bool stop = false;
  auto emit_line = [&](std::string_view line) {
    size_t n = 0, start = 0;
    while (true) {
      auto tab = line.find('\t', start);
      if (n >= unescaped.size()) unescaped.emplace_back();
      unescaped[n].clear();
      append_tsv_unescaped(unescaped[n], line.substr(start, tab - start));
      ++n;
      if (tab == std::string_view::npos) break;
      start = tab + 1;
    }
    fields.clear();
    for (size_t i = 0; i < n; ++i) fields.emplace_back(unescaped[i]);
    if (!row(fields)) stop = true;
  };
  auto st = request(url, kCommonParams, sql + " FORMAT TabSeparated", [&](std::string_view chunk) {
    size_t start = 0;
    while (!stop) {
      auto nl = chunk.find('\n', start);
      if (nl == std::string_view::npos) {
        pending.append(chunk.substr(start));
        break;
      }
      if (pending.empty()) {
        emit_line(chunk.substr(start, nl - start));
      } else {
        pending.append(chunk.substr(start, nl - start));
        emit_line(pending);
        pending.clear();
      }
      start = nl + 1;
    }
    return !stop;
  });
  if (!st) return st;
  if (!stop && !pending.empty()) {
    return Error::io("ClickHouse at " + url + " sent a truncated answer (no final newline)");
  }
  return {};
}

void append_tsv_escaped(std::string& out, std::string_view value) {
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      default: out += c;
    }
  }
}

void append_tsv_unescaped(std::string& out, std::string_view field) {
  for (size_t i = 0; i < field.size(); ++i) {
    char c = field[i];
    if (c != '\\' || i + 1 == field.size()) {
      out += c;
      continue;
    }
    char e = field[++i];
    switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'r': out += '\r'; break;
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case '0': out += '\0'; break;
      case 'a': out += '\a'; break;
      case 'v': out += '\v'; break;
      default: out += e;  // \\ and \' (and any other escaped character) stand for themselves
    }
  }
}

std::string sql_quote(std::string_view value) {
  std::string out = "'";
  for (char c : value) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '\'': out += "\\'"; break;
      case '\t': out += "\\t"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\0': out += "\\0"; break;
      default: out += c;
    }
  }
  out += '\'';
  return out;
}

std::vector<uint64_t> parse_uint_array(std::string_view text) {
  std::vector<uint64_t> out;
  uint64_t v = 0;
  bool in_number = false;
  for (char c : text) {
    if (c >= '0' && c <= '9') {
      v = v * 10 + static_cast<uint64_t>(c - '0');
      in_number = true;
    } else {
      if (in_number) out.push_back(v);
      v = 0;
      in_number = false;
    }
  }
  if (in_number) out.push_back(v);
  return out;
}

}  // namespace vantage::store::clickhouse
