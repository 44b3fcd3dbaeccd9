#pragma once
// HTTP(S) GETs for the JSON-API and web-fingerprint probes (couchdb, docker, kubernetes,
// etcd, ipp's HTTP transport aside, the edge-device fingerprints). One connection, one or more
// GETs in turn (keep-alive between them, "Connection: close" on the last), optionally inside
// TLS (ssl/ssl.h, no verification). Each reply is kept whole up to the engine's byte cap; a
// server that closes early leaves the later replies missing, which the module's interpret()
// must accept.

#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "common/result.h"
#include "sensors/scanner/probes/http/http.h"
#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {

// What the module makes of the replies (replies[i] answers paths[i]; fewer when the server
// stopped early) and, over TLS, the certificate columns (empty object otherwise).
using WebInterpret = std::function<Result<nlohmann::json>(const std::vector<HttpReply>& replies,
                                                          const nlohmann::json& tls)>;

struct WebProbe {
  std::vector<std::string> paths;
  bool tls = false;
  WebInterpret interpret;
  // Optional: the whole request for paths[i] (a POST, say) instead of the GET; `last` says
  // whether it must ask the server to close ("Connection: close").
  std::function<std::string(const ProbeTarget&, const std::string& path, bool last)> request;
};

// The Exchange for `probe` against `target`.
std::unique_ptr<Exchange> make_web_exchange(const WebProbe& probe, const ProbeTarget& target);

// Recorded plaintext replies (one after the other, as a server would send them) through
// interpret(): for tests and fuzzing.
Result<nlohmann::json> replay_web(const WebProbe& probe, std::string_view replies);

// http, http_code, http_reason, content_type, server and the date header (as `date_column`)
// of a reply; JSON API types (scan_docker, scan_kubernetes) carry these.
void http_status_columns(const HttpReply& r, nlohmann::json& f, const char* date_column = "date");

// The header columns of the scan_http family (scan_http, scan_cwmp, ...): http, http_code,
// http_reason, content_type, server and http_date (http_status_columns), plus connection,
// www_authenticate, set_cookie, content_length and transfer_encoding as sent.
nlohmann::json http_reply_columns(const HttpReply& r);

// A module built from `probe` (exchange, and parse() = replay_web).
ProbeModule web_module(std::string name, std::string report_type, uint16_t port,
                       std::vector<std::string> columns, WebProbe probe);

// A JSON value as report text: strings as they are, numbers and booleans printed, arrays of
// strings joined with "|", anything else dumped; nullopt for a missing key or null.
std::optional<std::string> json_text(const nlohmann::json& obj, const char* key);

}  // namespace vantage::scanner
