#include "integrations/http_client.h"

#include <curl/curl.h>

#include <cstring>
#include <mutex>

#include "common/strings.h"

namespace vantage::integrations {

namespace {

void init_curl() {
  // curl_global_init is not thread-safe: once per process (the delivery stage does the same;
  // a second call is counted by libcurl and harmless).
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

struct Sink {
  const HttpRequest* request;
  HttpReply* reply;
  bool aborted = false;
};

size_t write_cb(char* data, size_t size, size_t n, void* userp) {
  auto* s = static_cast<Sink*>(userp);
  const size_t bytes = size * n;
  if (s->request->on_body) {
    if (!s->request->on_body(std::string_view(data, bytes))) {
      s->aborted = true;
      return 0;  // libcurl stops with CURLE_WRITE_ERROR
    }
    return bytes;
  }
  size_t room =
      s->request->max_reply_bytes - std::min(s->request->max_reply_bytes, s->reply->body.size());
  if (bytes > room) s->reply->truncated = true;
  s->reply->body.append(data, std::min(bytes, room));
  return bytes;  // the rest is read and dropped: the connection stays usable
}

size_t header_cb(char* data, size_t size, size_t n, void* userp) {
  auto* reply = static_cast<HttpReply*>(userp);
  std::string_view line(data, size * n);
  size_t colon = line.find(':');
  if (colon != line.npos && reply->headers.size() < 100) {
    reply->headers.emplace_back(std::string(trim(line.substr(0, colon))),
                                std::string(trim(line.substr(colon + 1))));
  } else if (line.rfind("HTTP/", 0) == 0) {
    reply->headers.clear();  // a new response (after 100-continue or a redirect)
  }
  return size * n;
}

}  // namespace

HttpClient::HttpClient() {
  init_curl();
  curl_ = curl_easy_init();
}

HttpClient::~HttpClient() {
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

Result<HttpReply> HttpClient::send(const HttpRequest& request) {
  CURL* c = static_cast<CURL*>(curl_);
  if (!c) return Error::internal("curl_easy_init failed");
  if (request.url.rfind("http://", 0) != 0 && request.url.rfind("https://", 0) != 0)
    return Error::invalid("only http:// and https:// URLs are supported");
  curl_easy_reset(c);  // keeps the connection cache: keep-alive survives between requests
  HttpReply reply;
  Sink sink{&request, &reply};
  char errbuf[CURL_ERROR_SIZE] = {0};
  curl_slist* headers = nullptr;
  for (const auto& [name, value] : request.headers)
    headers = curl_slist_append(headers, (name + ": " + value).c_str());
  // libcurl would add "Expect: 100-continue" to large POSTs and wait for the interim answer;
  // receivers that never send one would cost a second per request.
  headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(c, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(std::chrono::milliseconds(request.connect_timeout).count()));
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS,
                   static_cast<long>(std::chrono::milliseconds(request.timeout).count()));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &reply);
  curl_easy_setopt(c, CURLOPT_USERAGENT, "Vantage/" VANTAGE_VERSION);
  curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");  // whatever libcurl can decode (gzip)
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  if (!request.ca_file.empty()) curl_easy_setopt(c, CURLOPT_CAINFO, request.ca_file.c_str());
  if (request.method == "POST") {
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  } else if (request.method == "GET") {
    curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  } else {
    curl_slist_free_all(headers);
    return Error::invalid("unsupported HTTP method " + request.method);
  }
  auto start = std::chrono::steady_clock::now();
  CURLcode rc = curl_easy_perform(c);
  reply.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  curl_slist_free_all(headers);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &reply.status);
  if (rc != CURLE_OK) {
    if (sink.aborted) return Error{ErrorCode::kIo, "download aborted by the receiver of the body"};
    std::string why = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    return Error{ErrorCode::kUnavailable, why};
  }
  return reply;
}

}  // namespace vantage::integrations
