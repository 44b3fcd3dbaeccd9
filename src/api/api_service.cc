#include "api/api_service.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <istream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "api/connection_pool.h"
#include "api/manifest_reader.h"
#include "api/params.h"
#include "common/file_range.h"
#include "core/event.h"
#include "core/golden_generator.h"
#include "store/open_store.h"

namespace vantage::api {

using http::Request;
using http::Response;
using nlohmann::json;

namespace {

constexpr DayNumber kTestDay = 14650;  // 2010-02-10, the date of Shadowserver's `test` list

// Messages may quote client bytes (a method name, a type) that are not UTF-8; nlohmann would
// throw on them, so invalid sequences are replaced instead (found by fuzz_api_request).
Response error_response(unsigned status, const std::string& message) {
  json j = {{"error", message}};
  return Response::json(status, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// A 500 whose cause goes to the log, not to the client (it may name files or SQL).
Response internal_error(const std::string& what, const Error& cause) {
  spdlog::warn("api: {}: {}", what, cause.message);
  return error_response(500, what);
}

Response ok_json(const json& j) {
  return Response::json(200, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

// Splits one CSV line-oriented file into records (RFC 4180 quoting, LF or CRLF ends).
class CsvRecords {
 public:
  explicit CsvRecords(std::istream& in) : in_(in) {}
  bool next(std::vector<std::string>& fields) {
    fields.clear();
    std::string field;
    bool quoted = false, any = false;
    char c;
    while (in_.get(c)) {
      any = true;
      if (quoted) {
        if (c == '"') {
          if (in_.peek() == '"') {
            in_.get(c);
            field.push_back('"');
          } else {
            quoted = false;
          }
        } else {
          field.push_back(c);
        }
        continue;
      }
      if (c == '"') {
        quoted = true;
      } else if (c == ',') {
        fields.push_back(std::move(field));
        field.clear();
      } else if (c == '\n') {
        fields.push_back(std::move(field));
        return true;
      } else if (c != '\r') {
        field.push_back(c);
      }
    }
    if (!any) return false;
    fields.push_back(std::move(field));
    return true;
  }

 private:
  std::istream& in_;
};

// The rows of a report CSV as a JSON array of objects (keys = header names, values as the
// CSV text), produced piece by piece for a streamed response: memory stays at one chunk
// whatever the file's size.
class JsonRowStream {
 public:
  JsonRowStream(std::unique_ptr<FileRangeReader> bytes, int64_t max_rows)
      : buf_(std::move(bytes)), left_(max_rows) {
    has_header_ = records_.next(header_);
  }

  // BodyGenerator contract: appends the next piece to `chunk`, false after the last one.
  bool next(std::string& chunk) {
    constexpr size_t kChunkBytes = 64 * 1024;
    if (!started_) {
      chunk += '[';
      started_ = true;
    }
    while (chunk.size() < kChunkBytes) {
      if (!has_header_ || left_ <= 0 || !records_.next(fields_)) {
        chunk += ']';
        return false;
      }
      json row = json::object();
      for (size_t i = 0; i < header_.size(); ++i)
        row[header_[i]] = i < fields_.size() ? fields_[i] : "";
      if (!first_row_) chunk += ',';
      first_row_ = false;
      chunk += row.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
      --left_;
    }
    return true;
  }

 private:
  FileRangeStreambuf buf_;
  std::istream in_{&buf_};
  int64_t left_;
  CsvRecords records_{in_};
  std::vector<std::string> header_, fields_;
  bool has_header_ = false;
  bool started_ = false;
  bool first_row_ = true;
};

std::string normalise_type(std::string t) {
  std::replace(t.begin(), t.end(), '-', '_');
  return t;
}

// The row of a stored event as a JSON object (keys = report columns, "" for null).
json event_json(const core::ReportType& type, const store::StoredEvent& ev) {
  json row = json::object();
  auto e = core::Event::decode(&type, ev.row);
  if (!e) {
    row["timestamp"] = format_timestamp(ev.first_seen);
  } else {
    for (int c = 0; c < e->size(); ++c) {
      const auto& col = type.columns[static_cast<size_t>(c)];
      if (e->is_null(c)) {
        row[col.name] = "";
      } else if (col.kind == core::ColumnKind::kInteger) {
        row[col.name] = e->int_at(c);
      } else {
        row[col.name] = e->text(c);
      }
    }
  }
  row["type"] = ev.type;
  return row;
}

class TokenBuckets {
 public:
  bool allow(const std::string& key, double rate, double burst, double now) {
    if (rate <= 0) return true;
    std::lock_guard lock(mu_);
    auto& b = buckets_[key];
    if (b.last == 0) b.tokens = burst;
    b.tokens = std::min(burst, b.tokens + (now - b.last) * rate);
    b.last = now;
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

 private:
  struct Bucket {
    double tokens = 0;
    double last = 0;
  };
  std::mutex mu_;
  std::map<std::string, Bucket> buckets_;
};

}  // namespace

struct ApiService::Impl {
  ApiOptions options;
  std::shared_ptr<KeyStore> keys;
  // With ApiOptions::manifest_path: read-only readers, one per concurrent request. Without:
  // the Manifest object the service was constructed with, in turns.
  std::unique_ptr<ConnectionPool<ManifestReader>> readers;
  std::unique_ptr<ConnectionPool<report::Manifest>> manifests;
  std::unique_ptr<ConnectionPool<store::EventStore>> stores;
  std::shared_ptr<const core::Catalogue> catalogue;
  std::function<UnixSeconds()> clock;
  TokenBuckets buckets;
  std::mutex quota_mu;
  std::map<std::string, std::pair<DayNumber, int64_t>> query_counts;  // key -> (day, count)
  std::map<std::string, ApiService::ExtraMethod> extra;  // add_method(); read-only once serving

  UnixSeconds now() const { return clock ? clock() : now_seconds(); }
  DayNumber today() const { return day_of(now()); }

  int64_t query_count(const std::string& key) {
    std::lock_guard lock(quota_mu);
    auto it = query_counts.find(key);
    if (it == query_counts.end() || it->second.first != today()) return 0;
    return it->second.second;
  }
  // Counts one query; false when the quota is used up.
  bool take_query(const std::string& key) {
    std::lock_guard lock(quota_mu);
    auto& slot = query_counts[key];
    if (slot.first != today()) slot = {today(), 0};
    if (options.daily_query_limit > 0 && slot.second >= options.daily_query_limit) return false;
    ++slot.second;
    return true;
  }

  Result<DayRange> date_param(const json& body, DayRange fallback) {
    auto it = body.find("date");
    if (it == body.end() || it->is_null()) return fallback;
    if (!it->is_string()) return Error::invalid("parameter 'date' must be a string");
    if (it->get_ref<const std::string&>().empty()) return fallback;
    return parse_date_range(it->get_ref<const std::string&>(), today());
  }

  std::vector<std::string> own_reports(const KeyIdentity& id) {
    std::vector<std::string> names;
    if (!id.filter_fields.empty()) names.push_back(id.org_short_name);
    return names;
  }

  // ---- methods ----

  Response ping() { return ok_json({{"pong", format_timestamp(now())}}); }

  Response key_info(const KeyIdentity& id) {
    json o = {{"apikey", id.key},
              {"user", id.org_short_name},
              {"label", id.label},
              {"status", "active"},
              {"access", json::array({"reports"})},
              {"query_limit", std::to_string(options.daily_query_limit)},
              {"query_count", std::to_string(query_count(id.key))}};
    return ok_json(json::array({o}));
  }

  Response subscribed(const KeyIdentity& id) { return ok_json(own_reports(id)); }

  Result<std::vector<report::ReportEntry>> list_entries(const KeyIdentity& id, DayRange range,
                                                        const std::vector<std::string>& types,
                                                        int64_t limit) {
    report::ListQuery q;
    q.org_id = id.org_id;
    q.first_day = range.first;
    q.last_day = range.last;
    q.types = types;
    q.limit = limit;
    auto r =
        with_manifest([&](auto& m) { return m.list(q); },
                      Result<std::vector<report::ReportEntry>>(std::vector<report::ReportEntry>()));
    if (!r) return r.error();
    // Defence in depth: never hand out another organisation's entry.
    std::erase_if(*r, [&](const report::ReportEntry& e) { return e.org_id != id.org_id; });
    return r;
  }

  Response types(const KeyIdentity& id, const json& body) {
    auto detail = bool_param(body, "detail", false);
    if (!detail) return error_response(400, detail.error().message);
    auto range = date_param(body, {today() - (options.default_list_days - 1), today()});
    if (!range) return error_response(400, range.error().message);
    auto entries = list_entries(id, *range, {}, -1);
    if (!entries) return internal_error("report manifest unavailable", entries.error());
    std::set<std::string> names;
    for (const auto& e : *entries) names.insert(e.type);
    json out = json::array();
    for (const auto& n : names) {
      if (!*detail) {
        out.push_back(n);
        continue;
      }
      const core::ReportType* t = catalogue->find(n);
      out.push_back({{"type", n}, {"description", t ? t->subject : n}, {"url", t ? t->url : ""}});
    }
    return ok_json(out);
  }

  Response list(const KeyIdentity& id, const json& body) {
    auto range = date_param(body, {today() - (options.default_list_days - 1), today()});
    if (!range) return error_response(400, range.error().message);
    auto reports = string_list_param(body, "reports");
    if (!reports) return error_response(400, reports.error().message);
    auto type1 = string_list_param(body, "type");
    if (!type1) return error_response(400, type1.error().message);
    auto type2 = string_list_param(body, "types");
    if (!type2) return error_response(400, type2.error().message);
    auto limit = int_param(body, "limit");
    if (!limit) return error_response(400, limit.error().message);
    if (*limit && **limit < 0) return error_response(400, "parameter 'limit' must not be negative");
    std::vector<std::string> types;
    for (auto* v : {&*type1, &*type2})
      for (auto& t : *v) types.push_back(normalise_type(t));
    int64_t lim = *limit && **limit > 0 ? **limit : -1;

    bool want_test = false, want_own = reports->empty();
    auto own = own_reports(id);
    for (const auto& r : *reports) {
      if (r == "test") want_test = true;
      if (std::find(own.begin(), own.end(), r) != own.end()) want_own = true;
    }
    // Written directly (not as a json tree): this is the hot method. Keys in nlohmann's
    // order (sorted), compact, so the bytes are what ok_json() would produce.
    std::string out = "[";
    int64_t count = 0;
    auto entry = [&](std::string_view rid, std::string_view type, std::string_view file,
                     std::string_view report, std::string_view timestamp, std::string_view url) {
      if (count++) out += ',';
      out += "{\"file\":";
      append_json_string(out, file);
      out += ",\"id\":";
      append_json_string(out, rid);
      out += ",\"report\":";
      append_json_string(out, report);
      out += ",\"timestamp\":";
      append_json_string(out, timestamp);
      out += ",\"type\":";
      append_json_string(out, type);
      out += ",\"url\":";
      append_json_string(out, url);
      out += '}';
    };
    auto type_wanted = [&](const std::string& t) {
      return types.empty() || std::find(types.begin(), types.end(), t) != types.end();
    };
    if (want_test) {
      // Sample list (spec §3.5): one entry per type, dated 2010-02-10, dates ignored. It
      // sorts before every real report, so it comes first.
      const std::string test_day = format_date(kTestDay);
      for (const auto* t : catalogue->types()) {
        if (lim >= 0 && count >= lim) break;
        if (!type_wanted(t->name)) continue;
        entry("test:" + t->name, t->name, test_day + "-" + t->name + "-test.csv", "test", test_day,
              t->url);
      }
    }
    if (want_own && !own.empty()) {
      int64_t left = lim < 0 ? -1 : lim - count;
      if (left != 0) {
        auto entries = list_entries(id, *range, types, left);
        if (!entries) return internal_error("report manifest unavailable", entries.error());
        out.reserve(out.size() + entries->size() * 256);
        for (const auto& e : *entries) {
          const core::ReportType* t = catalogue->find(e.type);
          entry(e.id, e.type, e.file_name, e.report, format_date(e.day), t ? t->url : "");
        }
      }
    }
    out += ']';
    return Response::json(200, std::move(out));
  }

  Response schema(const json& body) {
    auto t = string_param(body, "type");
    if (!t) return error_response(400, t.error().message);
    if (!*t) return error_response(400, "parameter 'type' is required");
    const core::ReportType* type = catalogue->find(normalise_type(**t));
    if (!type) return error_response(400, "unknown report type '" + **t + "'");
    json out = json::object();
    for (const auto& c : type->columns) out[c.name] = core::column_kind_name(c.kind);
    return ok_json(out);
  }

  Response stats(const KeyIdentity& id, const json& body) {
    auto range = date_param(body, {today() - 1, today() - 1});
    if (!range) return error_response(400, range.error().message);
    auto reports = string_list_param(body, "report");
    if (!reports) return error_response(400, reports.error().message);
    auto type1 = string_list_param(body, "type");
    if (!type1) return error_response(400, type1.error().message);
    json out = json::array();
    out.push_back({"date", "type", "events"});
    auto own = own_reports(id);
    bool mine = reports->empty();
    for (const auto& r : *reports)
      if (std::find(own.begin(), own.end(), r) != own.end()) mine = true;
    if (!mine || own.empty()) return ok_json(out);
    auto store = stores->acquire();
    if (!store) return internal_error("statistics unavailable", store.error());
    if (!*store) return ok_json(out);
    store::StatsQuery q;
    q.first_day = range->first;
    q.last_day = range->last;
    for (auto& t : *type1) q.types.push_back(normalise_type(t));
    q.org_id = id.org_id;
    q.group_by = {"day", "type"};
    auto rows = (*store)->stats(q);
    if (!rows) return internal_error("statistics unavailable", rows.error());
    for (const auto& r : *rows)
      if (r.keys.size() == 2) out.push_back({r.keys[0], r.keys[1], r.events});
    return ok_json(out);
  }

  // Values of one query field: a string, a number or a list of them; a leading '|' (seen in
  // AM-CERT's example) is dropped.
  static Result<std::vector<std::string>> query_values(const json& v, const std::string& name) {
    std::vector<std::string> out;
    auto one = [&](const json& x) -> bool {
      if (x.is_string()) {
        std::string s = x.get<std::string>();
        if (!s.empty() && s[0] == '|') s.erase(0, 1);
        if (!s.empty()) out.push_back(std::move(s));
        return true;
      }
      if (x.is_number_integer() || x.is_number_unsigned()) {
        out.push_back(x.dump());
        return true;
      }
      return false;
    };
    if (v.is_array()) {
      for (const auto& x : v)
        if (!one(x)) return Error::invalid("query field '" + name + "' has a bad value");
    } else if (!one(v)) {
      return Error::invalid("query field '" + name + "' has a bad value");
    }
    return out;
  }

  // Runs an event query over the org's events, applying non-indexed column filters after
  // decoding. Returns at most offset+limit matching rows (the caller pages).
  Result<std::vector<json>> run_query(const KeyIdentity& id, store::EventQuery q,
                                      const std::map<std::string, std::vector<std::string>>& post,
                                      int64_t want) {
    std::vector<json> rows;
    auto store = stores->acquire();
    if (!store) return store.error();
    if (!*store) return rows;
    q.org_id = id.org_id;
    constexpr int64_t kBatch = 5000;
    constexpr int64_t kScanCap = 200000;  // bounds a query's work well under clients' 45 s
    int64_t scanned = 0;
    q.offset = 0;
    for (;;) {
      q.limit = post.empty() ? want : kBatch;
      auto batch = (*store)->query(q);
      if (!batch) return batch.error();
      for (const auto& ev : *batch) {
        const core::ReportType* t = catalogue->find(ev.type);
        if (!t) continue;
        json row = event_json(*t, ev);
        bool keep = true;
        for (const auto& [field, values] : post) {
          auto it = row.find(field);
          std::string text;
          if (it != row.end()) text = it->is_string() ? it->get<std::string>() : it->dump();
          if (std::find(values.begin(), values.end(), text) == values.end()) {
            keep = false;
            break;
          }
        }
        if (keep) rows.push_back(std::move(row));
        if (static_cast<int64_t>(rows.size()) >= want) return rows;
      }
      scanned += static_cast<int64_t>(batch->size());
      if (post.empty() || static_cast<int64_t>(batch->size()) < q.limit || scanned >= kScanCap)
        return rows;
      q.offset += q.limit;
    }
  }

  Response query(const KeyIdentity& id, const json& body) {
    auto qit = body.find("query");
    if (qit == body.end() || !qit->is_object())
      return error_response(400, "parameter 'query' must be an object");
    const json& query = *qit;
    bool has_filter = false;
    for (const auto& f : id.filter_fields)
      if (query.contains(f)) has_filter = true;
    if (!has_filter) return Response::text(400, "No supported report filters found");
    if (!take_query(id.key)) return error_response(429, "daily query limit reached");

    json date_src = body;
    if (!body.contains("date") && query.contains("date")) date_src = json{{"date", query["date"]}};
    auto range = date_param(date_src, {today() - 1, today()});
    if (!range) return error_response(400, range.error().message);
    auto limit = int_param(body, "limit");
    if (!limit) return error_response(400, limit.error().message);
    auto page = int_param(body, "page");
    if (!page) return error_response(400, page.error().message);
    int64_t lim = std::clamp<int64_t>(limit->value_or(1000), 1, options.max_query_limit);
    int64_t pg = page->value_or(1);
    if (pg < 1) return error_response(400, "parameter 'page' must be at least 1");
    auto sort = string_param(body, "sort");
    if (!sort) return error_response(400, sort.error().message);
    store::EventQuery q;
    q.first_day = range->first;
    q.last_day = range->last;
    if (*sort) {
      if (**sort == "descending" || **sort == "desc")
        q.descending = true;
      else if (**sort != "ascending" && **sort != "asc")
        return error_response(400, "parameter 'sort' must be ascending or descending");
    }
    std::map<std::string, std::vector<std::string>> post;
    for (const auto& [name, value] : query.items()) {
      if (name == "date") continue;
      auto vals = query_values(value, name);
      if (!vals) return error_response(400, vals.error().message);
      if (name == "ip") {
        q.ips = *vals;
      } else if (name == "asn") {
        for (const auto& v : *vals) {
          try {
            q.asns.push_back(static_cast<uint32_t>(std::stoul(v)));
          } catch (const std::exception&) {
            return error_response(400, "query field 'asn' must be a number");
          }
        }
      } else if (name == "geo") {
        for (auto v : *vals) {
          std::transform(v.begin(), v.end(), v.begin(), ::toupper);
          q.geos.push_back(v);
        }
      } else if (name == "region") {
        q.regions = *vals;
      } else if (name == "tag") {
        q.tags = *vals;
      } else if (name == "type" || name == "report_type") {
        for (const auto& v : *vals) q.types.push_back(normalise_type(v));
      } else {
        post[name] = *vals;  // any other column: matched on the decoded row
      }
    }
    if (q.ips.empty() && q.asns.empty() && q.geos.empty() && post.empty() && q.regions.empty() &&
        q.tags.empty() && q.types.empty() && query.size() == 1 && query.contains("date"))
      return Response::text(400, "No supported report filters found");

    auto facet = string_param(body, "facet");
    if (!facet) return error_response(400, facet.error().message);
    if (*facet) {
      auto rows = run_query(id, q, post, options.max_query_limit);
      if (!rows) return internal_error("query failed", rows.error());
      std::map<std::string, int64_t> counts;
      for (const auto& r : *rows) {
        auto it = r.find(**facet);
        if (it == r.end()) continue;
        counts[it->is_string() ? it->get<std::string>() : it->dump()]++;
      }
      std::vector<std::pair<std::string, int64_t>> v(counts.begin(), counts.end());
      std::stable_sort(v.begin(), v.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
      json out = json::array();
      for (const auto& [val, n] : v) out.push_back({val, n});
      return ok_json(out);
    }
    int64_t want = pg * lim;
    if (want > 10 * options.max_query_limit) return ok_json(json::array());
    auto rows = run_query(id, q, post, want);
    if (!rows) return internal_error("query failed", rows.error());
    json out = json::array();
    for (int64_t i = (pg - 1) * lim; i < static_cast<int64_t>(rows->size()) && i < want; ++i)
      out.push_back(std::move((*rows)[static_cast<size_t>(i)]));
    return ok_json(out);
  }

  Response device_info(const KeyIdentity& id, const json& body) {
    auto qit = body.find("query");
    const json query = qit != body.end() && qit->is_object() ? *qit : body;
    store::EventQuery q;
    bool any = false;
    for (const char* f : {"ip", "asn", "geo"}) {
      if (!query.contains(f)) continue;
      auto vals = query_values(query[f], f);
      if (!vals) return error_response(400, vals.error().message);
      any = true;
      if (std::string_view(f) == "ip") q.ips = *vals;
      if (std::string_view(f) == "geo") q.geos = *vals;
      if (std::string_view(f) == "asn")
        for (const auto& v : *vals) {
          try {
            q.asns.push_back(static_cast<uint32_t>(std::stoul(v)));
          } catch (const std::exception&) {
            return error_response(400, "query field 'asn' must be a number");
          }
        }
    }
    if (!any) return error_response(400, "query needs one of ip, asn, geo");
    q.first_day = today() - 30;
    q.last_day = today();
    q.descending = true;
    auto rows = run_query(id, q, {}, 1000);
    if (!rows) return internal_error("query failed", rows.error());
    json out = json::object();
    for (const auto& r : *rows) {
      std::string ip = r.contains("ip") ? r["ip"].get<std::string>() : "";
      if (ip.empty() || out.contains(ip)) continue;
      json d = json::object();
      for (const char* f : {"device_vendor", "device_type", "device_model", "device_version", "tag",
                            "asn", "geo", "timestamp", "type"})
        if (r.contains(f)) d[f == std::string_view("timestamp") ? "last_seen" : f] = r[f];
      out[ip] = d;
    }
    return ok_json(out);
  }

  Response download_json(const KeyIdentity& id, const json& body) {
    auto rid = string_param(body, "id");
    if (!rid) return error_response(400, rid.error().message);
    if (!*rid) return error_response(400, "parameter 'id' is required");
    auto limit = int_param(body, "limit");
    if (!limit) return error_response(400, limit.error().message);
    int64_t lim = std::min(options.download_json_row_cap,
                           *limit && **limit > 0 ? **limit : options.download_json_row_cap);
    json out = json::array();
    const std::string& report_id = **rid;
    if (report_id.rfind("test:", 0) == 0) {
      const core::ReportType* t = catalogue->find(normalise_type(report_id.substr(5)));
      if (!t) return error_response(404, "report not found");
      for (const auto& e : core::testing::golden_events(*t)) {
        if (static_cast<int64_t>(out.size()) >= lim) break;
        json row = json::object();
        for (int c = 0; c < e.size(); ++c) row[t->columns[static_cast<size_t>(c)].name] = e.text(c);
        out.push_back(row);
      }
      return ok_json(out);
    }
    auto entry = find_entry(report_id);
    if (!entry) return internal_error("report manifest unavailable", entry.error());
    if (!*entry || (*entry)->org_id != id.org_id) return error_response(404, "report not found");
    auto bytes = open_report(**entry);
    if (!bytes) return error_response(404, "report not found");
    auto rows = std::make_shared<JsonRowStream>(std::move(*bytes), lim);
    // Streamed: building the whole array first cost ~1 KB of server memory per row (a
    // 100,000-row answer peaked at hundreds of MB).
    Response r;
    r.headers.emplace_back("Content-Type", "application/json");
    r.generator = [rows](std::string& chunk) { return rows->next(chunk); };
    return r;
  }

  // The report's bytes, from its own file or its range of a day's pack. A rebuild of the day
  // may remove the pack `entry` names between the lookup and the open (the rebuilt entry
  // points at the new pack): then the entry is looked up once more.
  Result<std::unique_ptr<FileRangeReader>> open_report(report::ReportEntry& entry) {
    auto reader = FileRangeReader::open(entry.bytes());
    if (reader || reader.error().code != ErrorCode::kNotFound || entry.pack_offset < 0)
      return reader;
    auto again = find_entry(entry.id);
    if (!again || !*again) return reader;
    entry = std::move(**again);
    return FileRangeReader::open(entry.bytes());
  }

  Result<std::optional<report::ReportEntry>> find_entry(const std::string& report_id) {
    return with_manifest(
        [&](auto& m) { return m.find(report_id); },
        Result<std::optional<report::ReportEntry>>(std::optional<report::ReportEntry>()));
  }

  // Runs `fn` on a borrowed manifest connection (a ManifestReader or a Manifest: both have
  // list() and find()); `none` when the service has no manifest.
  template <class Fn, class R>
  R with_manifest(Fn fn, R none) {
    if (readers) {
      auto lease = readers->acquire();
      if (!lease) return lease.error();
      return fn(**lease);
    }
    auto lease = manifests->acquire();
    if (!lease) return lease.error();
    if (!*lease) return none;
    return fn(**lease);
  }

  Response handle(const Request& req) {
    if (req.method != "POST") {
      Response r = error_response(405, "API calls must be made with HTTP POST");
      r.set_header("Allow", "POST");
      return r;
    }
    std::string_view path = req.path;
    if (path.rfind("/api2/", 0) != 0) return error_response(404, "unknown method");
    std::string method(path.substr(6));
    while (!method.empty() && method.back() == '/') method.pop_back();
    static const std::set<std::string> kMethods = {"test/ping",
                                                   "key/info",
                                                   "reports/subscribed",
                                                   "reports/types",
                                                   "reports/list",
                                                   "reports/query",
                                                   "reports/stats",
                                                   "reports/schema",
                                                   "reports/device-info",
                                                   "reports/download",
                                                   "honeypot/common-vulnerabilities"};
    auto extra_it = extra.find(method);
    if (!kMethods.count(method) && extra_it == extra.end())
      return error_response(404, "unknown method '" + method + "'");

    json body = json::parse(req.body, nullptr, false);
    if (body.is_discarded() || !body.is_object())
      return error_response(400, "invalid JSON request");
    auto kit = body.find("apikey");
    if (kit == body.end() || !kit->is_string() || kit->get_ref<const std::string&>().empty())
      return error_response(401, "missing apikey");
    auto hmac = req.header("HMAC2");
    if (!hmac) return error_response(401, "missing HMAC2 header");
    auto id = keys->lookup(kit->get_ref<const std::string&>());
    if (!id) {
      if (id.error().code == ErrorCode::kNotFound ||
          id.error().code == ErrorCode::kPermissionDenied)
        return error_response(401, "invalid apikey");
      return error_response(503, "key store unavailable");
    }
    bool good = false;
    for (const auto& s : id->secrets)
      if (hmac_matches(s, req.body, *hmac)) good = true;
    if (!good) return error_response(401, "HMAC2 mismatch");
    double t = static_cast<double>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::steady_clock::now().time_since_epoch())
                                       .count()) /
               1000.0;
    if (!buckets.allow(id->key, options.rate_per_second, options.burst, t))
      return error_response(429, "rate limit exceeded");

    if (method == "test/ping") return ping();
    if (method == "key/info") return key_info(*id);
    if (method.rfind("honeypot/", 0) == 0)
      return error_response(403, "access to this module is limited to the honeypot group");
    if (!id->reports_access)
      return error_response(403, "access to this module is limited to the reports group");
    if (method == "reports/subscribed") return subscribed(*id);
    if (method == "reports/types") return types(*id, body);
    if (method == "reports/list") return list(*id, body);
    if (method == "reports/query") return query(*id, body);
    if (method == "reports/stats") return stats(*id, body);
    if (method == "reports/schema") return schema(body);
    if (method == "reports/device-info") return device_info(*id, body);
    if (extra_it != extra.end()) return extra_it->second(*id, body);
    return download_json(*id, body);
  }

  Response download(const Request& req, std::string_view prefix) {
    Response not_found = Response::text(404, "not found\n");
    if (req.method != "GET" && req.method != "HEAD") {
      Response r = Response::text(405, "method not allowed\n");
      r.set_header("Allow", "GET, HEAD");
      return r;
    }
    if (req.path.compare(0, prefix.size(), prefix) != 0) return not_found;
    std::string raw = req.path.substr(prefix.size());
    if (!req.query.empty()) raw += "?" + req.query;  // the `path?query` id form (spec §1.4)
    auto id = http::percent_decode(raw);
    if (!id || id->empty() || id->size() > 128) return not_found;
    for (char c : *id) {
      bool ok = std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '?' ||
                c == ':';
      if (!ok) return not_found;  // '/', '.', '%', NUL...: never a valid id, never a path
    }
    if (id->rfind("test:", 0) == 0) {
      const core::ReportType* t = catalogue->find(normalise_type(id->substr(5)));
      if (!t) return not_found;
      Response r = Response::text(200, core::testing::golden_csv(*t), "text/csv; charset=utf-8");
      r.set_header("Content-Disposition",
                   "attachment; filename=" + format_date(kTestDay) + "-" + t->name + "-test.csv");
      return r;
    }
    auto found = find_entry(*id);
    if (!found) {
      spdlog::warn("api: report manifest unavailable: {}", found.error().message);
      return Response::text(503, "manifest unavailable\n");
    }
    auto& entry = *found;
    if (!entry) return not_found;
    if (entry->pack_offset < 0) {  // a report file of its own (the files layout, older days)
      std::error_code ec;
      auto size = std::filesystem::file_size(entry->path, ec);
      if (ec || size == 0) return not_found;  // an empty 200 would read as a failed download
      Response r = Response::file(entry->path, "text/csv; charset=utf-8");
      r.set_header("Content-Disposition", "attachment; filename=" + entry->file_name);
      return r;
    }
    // A range of the day's pack: streamed with its exact Content-Length (which also keeps the
    // body uncompressed, byte for byte what the file layout sends).
    auto bytes = open_report(*entry);
    if (!bytes) {
      spdlog::warn("api: report {}: {}", entry->file_name, bytes.error().message);
      return not_found;
    }
    if ((*bytes)->size() == 0) return not_found;
    std::shared_ptr<FileRangeReader> reader = std::move(*bytes);
    Response r;
    r.headers.emplace_back("Content-Type", "text/csv; charset=utf-8");
    r.set_header("Content-Disposition", "attachment; filename=" + entry->file_name);
    r.content_length = static_cast<uint64_t>(reader->size());
    r.generator = [reader](std::string& chunk) {
      auto n = reader->read(chunk, 256 * 1024);
      // A read error ends the body short of its Content-Length: the client sees a failed
      // download, never wrong bytes.
      return n.ok() && *n > 0;
    };
    return r;
  }
};

ApiService::ApiService(ApiOptions options, std::shared_ptr<KeyStore> keys,
                       std::unique_ptr<report::Manifest> manifest,
                       std::unique_ptr<store::EventStore> store,
                       std::shared_ptr<const core::Catalogue> catalogue,
                       std::function<UnixSeconds()> clock)
    : impl_(std::make_unique<Impl>()) {
  impl_->options = options;
  impl_->keys = std::move(keys);
  // Another process (the pipeline, the report builder) may hold a write lock while a
  // connection opens; a few bounded retries ride that out instead of failing the request.
  auto with_retries = [](auto open) {
    return [open] {
      auto r = open();
      for (int attempt = 1; !r && attempt < 5; ++attempt) {
        std::this_thread::sleep_for(std::chrono::milliseconds(20 * attempt));
        r = open();
      }
      return r;
    };
  };
  if (!options.manifest_path.empty())
    impl_->readers = std::make_unique<ConnectionPool<ManifestReader>>(
        nullptr,
        with_retries([path = options.manifest_path] { return ManifestReader::open(path); }),
        options.max_db_connections);
  impl_->manifests =
      std::make_unique<ConnectionPool<report::Manifest>>(std::move(manifest), nullptr, 1);
  ConnectionPool<store::EventStore>::Opener open_store;
  if (options.open_store)
    open_store = with_retries(options.open_store);
  else if (!options.store_path.empty())
    open_store = with_retries([path = options.store_path] {
      store::StoreSettings settings;  // a path alone names the embedded SQLite file
      settings.sqlite_path = path;
      return store::open_event_store(settings);
    });
  impl_->stores = std::make_unique<ConnectionPool<store::EventStore>>(
      std::move(store), std::move(open_store), options.max_db_connections);
  impl_->catalogue = std::move(catalogue);
  impl_->clock = std::move(clock);
}

ApiService::~ApiService() = default;

Response ApiService::handle_api(const Request& request) {
  try {
    return impl_->handle(request);
  } catch (const std::exception&) {
    return error_response(500, "internal error");
  }
}

Response ApiService::handle_download(const Request& request, std::string_view prefix) {
  try {
    return impl_->download(request, prefix);
  } catch (const std::exception&) {
    return Response::text(500, "internal error\n");
  }
}

void ApiService::add_method(const std::string& name, ExtraMethod method) {
  impl_->extra[name] = std::move(method);
}

void ApiService::install(http::HttpServer& server, const std::string& download_prefix) {
  server.route(
      "*", "/api2/", [this](const Request& r) { return handle_api(r); }, http::RouteMatch::kPrefix);
  server.route(
      "*", download_prefix,
      [this, download_prefix](const Request& r) { return handle_download(r, download_prefix); },
      http::RouteMatch::kPrefix, http::RouteOptions{.redact_path = true});
}

namespace {

bool is_root_report_id(const Request& r) {
  // "/" + the id; the id may come split into path and query (Shadowserver's own ids hold a
  // '?'), so the length is counted over both. Manifest ids are 50 characters.
  constexpr size_t kIdLength = 50;
  if (r.path.size() < 2 || r.path[0] != '/') return false;
  std::string_view head = std::string_view(r.path).substr(1);
  size_t total = head.size() + (r.query.empty() ? 0 : 1 + r.query.size());
  if (total != kIdLength) return false;
  auto id_char = [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-';
  };
  return std::all_of(head.begin(), head.end(), id_char) &&
         std::all_of(r.query.begin(), r.query.end(), id_char);
}

}  // namespace

void ApiService::install_root_downloads(http::HttpServer& server) {
  for (const char* method : {"GET", "HEAD"}) {
    server.route(
        method, "/", [this](const Request& r) { return handle_download(r, "/"); },
        http::RouteMatch::kPrefix,
        http::RouteOptions{.redact_path = true, .accepts = is_root_report_id});
  }
}

}  // namespace vantage::api
