#include "integrations/collector.h"

#include <openssl/evp.h>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "api/params.h"
#include "common/strings.h"
#include "integrations/http_client.h"
#include "store/sqlite/sqlite_db.h"

namespace vantage::integrations {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS fetched(
  upstream TEXT NOT NULL, id TEXT NOT NULL, file TEXT NOT NULL, type TEXT NOT NULL,
  report TEXT NOT NULL, day TEXT NOT NULL, bytes INTEGER NOT NULL, fetched_at INTEGER NOT NULL,
  PRIMARY KEY(upstream, id)) WITHOUT ROWID;
)sql";

std::string with_slash(std::string s) {
  if (s.empty() || s.back() != '/') s += '/';
  return s;
}

// A file name from upstream, made safe to create here: its last path component, only
// [A-Za-z0-9._-], no leading dot; with a short tag of the report id before the extension so
// that two upstream reports of the same name cannot overwrite each other.
std::string local_name(const ListedReport& r) {
  std::string base = r.file.substr(r.file.find_last_of("/\\") + 1);
  std::string clean;
  for (char c : base)
    clean +=
        std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ? c : '_';
  while (!clean.empty() && clean.front() == '.') clean.erase(0, 1);
  if (clean.empty()) clean = "report.csv";
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  EVP_Digest(r.id.data(), r.id.size(), md, &n, EVP_sha256(), nullptr);
  std::string tag = hex_encode(md, 4);
  size_t dot = clean.rfind('.');
  if (dot == std::string::npos || dot == 0) return clean + "-" + tag;
  return clean.substr(0, dot) + "-" + tag + clean.substr(dot);
}

}  // namespace

std::string default_download_root(const std::string& api_url) {
  size_t scheme = api_url.find("://");
  size_t host_end = api_url.find('/', scheme == std::string::npos ? 0 : scheme + 3);
  std::string root =
      host_end == std::string::npos ? api_url + "/" : api_url.substr(0, host_end + 1);
  if (root.find("transform.shadowserver.org") != std::string::npos)
    return "https://dl.shadowserver.org/";
  return root;
}

Collector::Collector(std::unique_ptr<store::Db> db) : db_(std::move(db)) {}
Collector::~Collector() = default;

Result<std::unique_ptr<Collector>> Collector::open(const std::string& state_path) {
  auto db = store::Db::open(state_path);
  if (!db) return db.error();
  for (const char* sql : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL", kSchema}) {
    if (auto st = (*db)->exec(sql); !st) return st.error();
  }
  return std::unique_ptr<Collector>(new Collector(std::move(*db)));
}

Result<std::vector<ListedReport>> Collector::list(const CollectOptions& o) {
  json body = {{"apikey", o.key}, {"date", o.date}};
  if (!o.reports.empty()) body["reports"] = o.reports;
  if (!o.types.empty()) body["types"] = o.types;
  HttpRequest req;
  req.url = with_slash(o.api_url) + "reports/list";
  req.body = body.dump();
  req.headers = {{"Content-Type", "application/json"},
                 {"HMAC2", api::hmac_sha256_hex(o.secret, req.body)}};
  req.timeout = o.api_timeout;
  req.ca_file = o.ca_file;
  req.max_reply_bytes = 64 << 20;
  HttpClient client;
  auto reply = client.send(req);
  if (!reply) return reply.error();
  if (reply->status != 200)
    return Error{reply->status == 401 || reply->status == 403 ? ErrorCode::kPermissionDenied
                                                              : ErrorCode::kUnavailable,
                 "reports/list answered HTTP " + std::to_string(reply->status) + ": " +
                     strip_control(reply->body.substr(0, 200))};
  return parse_report_list(reply->body);
}

Result<bool> Collector::fetched_before(const std::string& upstream, const std::string& id) {
  auto st = db_->prepare("SELECT 1 FROM fetched WHERE upstream = ? AND id = ?");
  if (!st) return st.error();
  st->bind(1, upstream).bind(2, id);
  auto has = st->step();
  if (!has) return has.error();
  return *has;
}

Status Collector::record(const std::string& upstream, const CollectedReport& r) {
  auto st = db_->prepare(
      "INSERT INTO fetched VALUES(?,?,?,?,?,?,?,strftime('%s','now')) ON CONFLICT DO NOTHING");
  if (!st) return st.error();
  st->bind(1, upstream)
      .bind(2, r.listed.id)
      .bind(3, r.listed.file)
      .bind(4, r.listed.type)
      .bind(5, r.listed.report)
      .bind(6, r.listed.timestamp)
      .bind(7, r.bytes);
  return st->run();
}

Result<CollectSummary> Collector::run(
    const CollectOptions& o, const std::function<Status(const CollectedReport&)>& deliver) {
  auto listed = list(o);
  if (!listed) return listed.error();
  std::error_code ec;
  fs::create_directories(o.work_dir, ec);
  if (ec) return Error::io("cannot create " + o.work_dir + ": " + ec.message());
  const std::string upstream = with_slash(o.api_url);
  const std::string root =
      o.download_root.empty() ? default_download_root(o.api_url) : with_slash(o.download_root);
  CollectSummary summary;
  summary.listed = static_cast<int64_t>(listed->size());
  HttpClient client;
  for (const auto& r : *listed) {
    auto before = fetched_before(upstream, r.id);
    if (!before) return before.error();
    if (*before) {
      ++summary.already_fetched;
      continue;
    }
    CollectedReport got;
    got.listed = r;
    got.path = (fs::path(o.work_dir) / local_name(r)).string();
    std::string part = got.path + ".part";
    auto fail = [&](const std::string& why) {
      ++summary.failed;
      summary.errors.push_back(r.file + ": " + why);
      fs::remove(part, ec);
    };
    {
      std::ofstream out(part, std::ios::binary | std::ios::trunc);
      if (!out) {
        fail("cannot write " + part);
        continue;
      }
      HttpRequest req;
      req.method = "GET";
      req.url = root + r.id;  // the id as it is: Shadowserver's ids hold a '?'
      req.timeout = o.download_timeout;
      req.ca_file = o.ca_file;
      bool too_big = false;
      req.on_body = [&](std::string_view piece) {
        got.bytes += static_cast<int64_t>(piece.size());
        if (got.bytes > o.max_report_bytes) {
          too_big = true;
          return false;
        }
        out.write(piece.data(), static_cast<std::streamsize>(piece.size()));
        return static_cast<bool>(out);
      };
      auto reply = client.send(req);
      out.close();
      if (too_big) {
        fail("larger than " + std::to_string(o.max_report_bytes) + " bytes");
        continue;
      }
      if (!reply || reply->status != 200) {
        fail(reply ? "download answered HTTP " + std::to_string(reply->status)
                   : reply.error().message);
        continue;
      }
      if (!out || got.bytes == 0) {
        fail(got.bytes == 0 ? "empty download" : "cannot write " + part);
        continue;
      }
    }
    fs::rename(part, got.path, ec);
    if (ec) {
      fail("cannot rename " + part + ": " + ec.message());
      continue;
    }
    if (auto st = deliver(got); !st) {
      fail(st.message());
      continue;
    }
    if (auto st = record(upstream, got); !st) return st.error();
    ++summary.fetched;
  }
  return summary;
}

}  // namespace vantage::integrations
