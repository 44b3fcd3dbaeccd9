#include "integrations/misp_feed.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "core/event.h"
#include "integrations/answers.h"
#include "integrations/event_render.h"
#include "integrations/sinks/options.h"

namespace vantage::integrations {

namespace {

using json = nlohmann::json;
using http::Request;
using http::Response;

std::string digest_hex(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(data.data(), data.size(), out, &n, md, nullptr);
  return hex_encode(out, n);
}

Response json_answer(const json& j) {
  return Response::json(200, j.dump(-1, ' ', false, json::error_handler_t::replace));
}

Response unauthorised() {
  Response r = Response::text(401, "MISP feed: HTTP Basic credentials (API key:secret) required\n");
  r.set_header("WWW-Authenticate", "Basic realm=\"Vantage MISP feed\"");
  return r;
}

bool same_secret(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

// The MISP attribute type of a row's constituent (misp_feed.h).
std::string attribute_type(const core::ReportType& t) {
  switch (t.constituent_kind) {
    case core::ConstituentKind::kDomain: return "domain";
    case core::ConstituentKind::kUrl: return "url";
    case core::ConstituentKind::kEmail: return "email-src";
    case core::ConstituentKind::kNone: return "text";
    case core::ConstituentKind::kIp: break;
  }
  if (t.constituent_column == "dst_ip") return "ip-dst";
  if (t.constituent_column == "ip" && t.taxonomy != "malicious-code" &&
      t.taxonomy != "abusive-content")
    return "ip-dst";  // an exposed host: the destination of the scan that found it
  return "ip-src";    // a host that connected out: infected, attacking, abusing
}

int threat_level(uint8_t max_severity) {
  if (max_severity >= 3) return 1;  // high
  if (max_severity == 2) return 2;  // medium
  if (max_severity == 1) return 3;  // low
  return 4;                         // undefined
}

struct FeedEvent {
  DayNumber day = 0;
  std::string type;
  std::string uuid;
  UnixSeconds timestamp = 0;
  uint8_t max_severity = 0;
  std::vector<const store::StoredEvent*> rows;
};

}  // namespace

std::string stable_uuid(std::string_view name) {
  std::string h = digest_hex(EVP_sha256(), name).substr(0, 32);
  h[12] = '5';  // version 5 (name-based)
  static constexpr char kVariant[] = "89ab";
  h[16] = kVariant[std::stoi(h.substr(16, 1), nullptr, 16) & 3];
  return h.substr(0, 8) + "-" + h.substr(8, 4) + "-" + h.substr(12, 4) + "-" + h.substr(16, 4) +
         "-" + h.substr(20, 12);
}

MispFeed::MispFeed(MispFeedOptions options, MispFeedSources sources)
    : options_(std::move(options)), sources_(std::move(sources)) {}

void MispFeed::install(http::HttpServer& server) {
  for (const char* method : {"GET", "HEAD"}) {
    server.route(
        method, "/misp/", [this](const Request& r) { return handle(r); }, http::RouteMatch::kPrefix,
        http::RouteOptions{.redact_path = true});
  }
}

Response MispFeed::handle(const Request& req) {
  Response not_found = Response::text(404, "not found\n");
  std::string_view path = req.path;
  if (path.rfind("/misp/", 0) != 0) return not_found;
  auto parts = split(path.substr(6), '/');
  if (parts.size() != 3 || parts[2].empty()) return not_found;
  std::string org(parts[0]), sub_name(parts[1]), file(parts[2]);
  // Basic credentials: the organisation's API key and secret.
  auto auth = req.header("Authorization");
  auto credentials = auth ? parse_basic_credentials(*auth) : std::nullopt;
  if (!credentials) return unauthorised();
  auto id = sources_.keys->lookup(credentials->first);
  if (!id) {
    if (id.error().code == ErrorCode::kNotFound || id.error().code == ErrorCode::kPermissionDenied)
      return unauthorised();
    return Response::text(503, "key store unavailable\n");
  }
  const std::string& secret = credentials->second;
  bool good = false;
  for (const auto& s : id->secrets) good = same_secret(s, secret) || good;
  if (!good) return unauthorised();
  if (id->org_short_name != org || !id->reports_access) return not_found;

  auto reg = sources_.open_registry();
  if (!reg) return Response::text(503, "registry unavailable\n");
  auto subs = (*reg)->list_subscriptions(static_cast<registry::OrgId>(id->org_id), false);
  if (!subs) return Response::text(503, "registry unavailable\n");
  const registry::Subscription* sub = nullptr;
  for (const auto& s : *subs) {
    if (s.name == sub_name && s.kind == registry::SubscriptionKind::kMisp && s.enabled) sub = &s;
  }
  if (!sub) return not_found;
  auto opts = SinkOptions::parse(sub->options, {{"days", OptionSpec::Type::kInt, 1, 90}});
  int64_t days = opts ? opts->integer("days", 7) : 7;

  auto store = sources_.open_store();
  if (!store) return Response::text(503, "event store unavailable\n");
  DayNumber today = options_.today ? options_.today() : vantage::today();
  store::EventQuery q;
  q.first_day = today - static_cast<DayNumber>(days) + 1;
  q.last_day = today;
  q.org_id = id->org_id;
  q.types = sub->report_types;
  q.descending = true;  // the newest first: a capped feed loses the oldest rows
  q.limit = options_.max_rows;
  auto events = (*store)->query(q);
  if (!events) return Response::text(503, "event store unavailable\n");

  std::map<std::pair<DayNumber, std::string>, FeedEvent> feed;
  for (const auto& ev : *events) {
    if (ev.severity < static_cast<uint8_t>(sub->min_severity)) continue;
    auto& fe = feed[{ev.day, ev.type}];
    if (fe.rows.empty()) {
      fe.day = ev.day;
      fe.type = ev.type;
      fe.uuid = stable_uuid("vantage-misp|" + org + "|" + sub_name + "|" + format_date(ev.day) +
                            "|" + ev.type);
    }
    fe.timestamp = std::max(fe.timestamp, ev.last_seen);
    fe.max_severity = std::max(fe.max_severity, ev.severity);
    fe.rows.push_back(&ev);
  }
  json orgc = {{"name", options_.org_name},
               {"uuid", stable_uuid("vantage-org|" + options_.org_name)}};
  auto info = [&](const FeedEvent& fe) {
    const core::ReportType* t = sources_.catalogue->find(fe.type);
    return options_.org_name + ": " + (t && !t->subject.empty() ? t->subject : fe.type) + " (" +
           fe.type + ") " + format_date(fe.day) + " for " + org;
  };
  auto tags = [](const FeedEvent& fe) {
    return json::array(
        {{{"name", "tlp:amber"}}, {{"name", "vantage:report-type=\"" + fe.type + "\""}}});
  };
  // One attribute per row (reverse store order back to oldest first within an event).
  core::Event row_event;
  auto attributes = [&](const FeedEvent& fe) {
    json out = json::array();
    const core::ReportType* t = sources_.catalogue->find(fe.type);
    for (auto it = fe.rows.rbegin(); it != fe.rows.rend(); ++it) {
      const store::StoredEvent& ev = **it;
      std::string value, comment = fe.type;
      if (t && row_event.decode_into(t, ev.row)) {
        int col = t->column_index(t->constituent_column);
        if (col >= 0 && !row_event.is_null(col)) value = row_event.text(col);
        for (const char* extra : {"port", "dst_port", "tag", "asn", "infection"}) {
          int c = t->column_index(extra);
          if (c >= 0 && !row_event.is_null(c))
            comment += std::string(" ") + extra + "=" + row_event.text(c);
        }
      }
      std::string type = t ? attribute_type(*t) : "text";
      if (value.empty()) {
        value = fe.type + " event " + std::to_string(ev.id);
        type = "text";
      }
      comment += " (Vantage event " + std::to_string(ev.id) + ")";
      out.push_back({{"uuid", stable_uuid("vantage-misp-attr|" + org + "|" + std::to_string(ev.id) +
                                          "|" + std::to_string(ev.day))},
                     {"type", type},
                     {"category", type == "text" ? "Other" : "Network activity"},
                     {"value", value},
                     {"to_ids", false},
                     {"disable_correlation", false},
                     {"comment", comment},
                     {"timestamp", std::to_string(ev.last_seen)}});
    }
    return out;
  };

  if (file == "manifest.json") {
    json m = json::object();
    for (const auto& [key, fe] : feed) {
      m[fe.uuid] = {{"Orgc", orgc},
                    {"Tag", tags(fe)},
                    {"info", info(fe)},
                    {"date", format_date(fe.day)},
                    {"analysis", 2},
                    {"threat_level_id", threat_level(fe.max_severity)},
                    {"timestamp", fe.timestamp}};
    }
    return json_answer(m);
  }
  if (file == "hashes.csv") {
    std::string out;
    for (const auto& [key, fe] : feed) {
      for (const auto& a : attributes(fe))
        out += digest_hex(EVP_md5(), a["value"].get<std::string>()) + "," + fe.uuid + "\n";
    }
    return Response::text(200, std::move(out), "text/csv; charset=utf-8");
  }
  if (file.size() == 41 && file.ends_with(".json")) {
    std::string uuid = file.substr(0, 36);
    for (const auto& [key, fe] : feed) {
      if (fe.uuid != uuid) continue;
      json event = {{"uuid", fe.uuid},
                    {"info", info(fe)},
                    {"date", format_date(fe.day)},
                    {"analysis", "2"},
                    {"threat_level_id", std::to_string(threat_level(fe.max_severity))},
                    {"timestamp", std::to_string(fe.timestamp)},
                    {"publish_timestamp", std::to_string(fe.timestamp)},
                    {"published", true},
                    {"Orgc", orgc},
                    {"Tag", tags(fe)},
                    {"Attribute", attributes(fe)}};
      return json_answer({{"Event", std::move(event)}});
    }
  }
  return not_found;
}

}  // namespace vantage::integrations
