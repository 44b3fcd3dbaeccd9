#pragma once
// A MISP feed per misp subscription, pulled by the organisation's MISP ("Add feed", format
// "MISP Feed", URL https://<vantage>/misp/<org>/<subscription>, header
// "Authorization: Basic base64(<API key>:<API secret>)"):
//
//   GET /misp/<org>/<subscription>/manifest.json   {"<event uuid>": {info, Orgc, Tag, date,
//                                                   analysis, threat_level_id, timestamp}}
//   GET /misp/<org>/<subscription>/hashes.csv      "<md5 of attribute value>,<event uuid>"
//   GET /misp/<org>/<subscription>/<uuid>.json     {"Event": {..., "Attribute": [...]}}
//
// the layout PyMISP's feed generator writes. One MISP event per (day, report type) of the
// subscription's events (its types, at or above its severity) over its last `days` days (7);
// one attribute per event row: the constituent's address (ip-src, or ip-dst when the
// organisation's side is the destination), domain, url or e-mail, to_ids false -- these are
// the organisation's own exposed or affected hosts, not indicators to block -- with the
// report's key columns in the comment. Event and attribute uuids are derived from their
// content's identity, so they stay stable between fetches and the event's timestamp moves
// only when it gains rows: MISP fetches what changed.
//
// Authentication: the organisation's api2 key and secret (any of its active keys) as HTTP
// Basic credentials, compared in constant time; another organisation's key gets 404, exactly
// like an unknown feed.
//
// Thread-safety: handle() may run concurrently; the registry and store are borrowed per call.

#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "api/http/http_server.h"
#include "api/key_store.h"
#include "common/result.h"
#include "core/catalogue.h"
#include "registry/registry.h"
#include "store/store.h"

namespace vantage::integrations {

struct MispFeedOptions {
  std::string org_name = "Vantage";  // the creator organisation (Orgc) of every event
  int64_t max_rows = 100000;         // attributes per feed; the oldest days give way
  std::function<DayNumber()> today;  // null: the clock
};

struct MispFeedSources {
  std::function<Result<std::unique_ptr<registry::Registry>>()> open_registry;
  std::function<Result<std::unique_ptr<store::EventStore>>()> open_store;
  std::shared_ptr<api::KeyStore> keys;
  std::shared_ptr<const core::Catalogue> catalogue;
};

class MispFeed {
 public:
  MispFeed(MispFeedOptions options, MispFeedSources sources);
  http::Response handle(const http::Request& request);
  // GET/HEAD /misp/ (prefix, paths redacted in the access log: they name organisations).
  void install(http::HttpServer& server);

 private:
  MispFeedOptions options_;
  MispFeedSources sources_;
};

// A name-based UUID (RFC 4122 version 5 layout over SHA-256 of `name`, truncated).
std::string stable_uuid(std::string_view name);

}  // namespace vantage::integrations
