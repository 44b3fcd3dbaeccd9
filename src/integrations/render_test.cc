// Renderings (JSON object, CEF, ECS), syslog messages and framing, the CEF/ECS mapping data,
// the kinds' option checks.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/event.h"
#include "integrations/base64.h"
#include "integrations/cef_map.h"
#include "integrations/demo_receivers.h"
#include "integrations/ecs_map.h"
#include "integrations/event_render.h"
#include "integrations/sinks/registry.h"
#include "integrations/syslog_message.h"

namespace vantage::integrations {
namespace {

namespace fs = std::filesystem;
using json = nlohmann::json;

const core::Catalogue& cat() {
  return core::Catalogue::builtin();
}

// A stored scan_http event with a few columns set.
store::StoredEvent scan_http_event(int64_t id, std::string_view tag = "http,vuln=x|y") {
  const core::ReportType* t = cat().find("scan_http");
  core::Event e(t);
  e.set_timestamp(1768471200);  // 2026-01-15 10:00:00
  e.set_ip(*IpAddress::parse("192.0.2.7"));
  e.set_port(8080);
  e.set_asn(64500);
  e.set_geo("NL");
  e.set_hostname("host.example");
  e.set_tag(tag);
  e.set_severity(core::Severity::kCritical);
  store::StoredEvent ev;
  ev.id = id;
  ev.type = "scan_http";
  ev.first_seen = ev.last_seen = 1768471200;
  ev.count = 2;
  ev.severity = 4;
  e.encode(ev.row);
  return ev;
}

// Splits a CEF extension into key -> value, undoing the escapes (the receiving side's view).
std::map<std::string, std::string> cef_extension(std::string_view cef) {
  size_t bars = 0, pos = 0;
  while (bars < 7 && pos < cef.size()) {
    if (cef[pos] == '\\') {
      pos += 2;
      continue;
    }
    if (cef[pos] == '|') ++bars;
    ++pos;
  }
  std::string_view ext = cef.substr(pos);
  std::map<std::string, std::string> out;
  std::string key, value, *cur = &key;
  auto flush = [&] {
    if (!key.empty()) out[key] = value;
    key.clear();
    value.clear();
    cur = &key;
  };
  for (size_t i = 0; i < ext.size(); ++i) {
    char c = ext[i];
    if (cur == &value && c == '\\' && i + 1 < ext.size()) {
      char n = ext[++i];
      value += n == 'n' ? '\n' : n == 'r' ? '\r' : n;
    } else if (cur == &key && c == '=') {
      cur = &value;
    } else if (cur == &value && c == ' ') {
      // A space ends the value when a "key=" follows.
      size_t eq = ext.find('=', i + 1), sp = ext.find(' ', i + 1);
      if (eq != ext.npos && (sp == ext.npos || eq < sp)) {
        flush();
      } else {
        value += c;
      }
    } else {
      *cur += c;
    }
  }
  flush();
  return out;
}

TEST(Render, CefHeaderAndMappedColumns) {
  EventRenderer r(cat());
  std::string cef = r.cef(scan_http_event(42));
  EXPECT_EQ(cef.rfind("CEF:0|Vantage|Vantage|", 0), 0u) << cef;
  EXPECT_NE(cef.find("|scan_http|"), std::string::npos) << cef;
  EXPECT_NE(cef.find("|10|"), std::string::npos) << "critical is CEF severity 10: " << cef;
  auto ext = cef_extension(cef);
  EXPECT_EQ(ext["externalId"], "42");
  EXPECT_EQ(ext["cnt"], "2");
  EXPECT_EQ(ext["rt"], "1768471200000");
  // schemas/cef.json: scan_http ip -> src, port -> spt, asn -> cn1, geo -> cs1, tag -> cs2.
  EXPECT_EQ(ext["src"], "192.0.2.7");
  EXPECT_EQ(ext["spt"], "8080");
  EXPECT_EQ(ext["shost"], "host.example");
  auto fields = CefMap::builtin().fields(*cat().find("scan_http"));
  std::map<std::string, std::string> key_of;
  for (const auto& f : fields) key_of[f.column] = f.key;
  ASSERT_TRUE(key_of.count("tag"));
  EXPECT_EQ(ext[key_of["tag"]], "http,vuln=x|y");  // '=' escaped and restored
  EXPECT_EQ(ext[key_of["tag"] + "Label"], "tag");
  EXPECT_EQ(ext[key_of["geo"]], "NL");
}

TEST(Render, CefEscapes) {
  std::string h, e;
  append_cef_header_value(h, "a|b\\c\nd");
  EXPECT_EQ(h, "a\\|b\\\\c d");
  append_cef_extension_value(e, "x=y\\z\r\n|");
  EXPECT_EQ(e, "x\\=y\\\\z\\r\\n|");
}

TEST(Render, JsonObjectTypesColumns) {
  EventRenderer r(cat());
  json j = r.json_object(scan_http_event(7), {"Example_CERT", "soc", "vantage.test"});
  EXPECT_EQ(j["id"], 7);
  EXPECT_EQ(j["type"], "scan_http");
  EXPECT_EQ(j["severity"], "critical");
  EXPECT_EQ(j["org"], "Example_CERT");
  EXPECT_EQ(j["first_seen"], "2026-01-15T10:00:00Z");
  EXPECT_EQ(j["row"]["ip"], "192.0.2.7");
  EXPECT_EQ(j["row"]["port"], 8080);  // integers stay numbers
  EXPECT_EQ(j["row"]["timestamp"], "2026-01-15 10:00:00");
  EXPECT_FALSE(j["row"].contains("region"));  // null columns are left out
}

TEST(Render, EcsDocument) {
  EventRenderer r(cat());
  json d = r.ecs_document(scan_http_event(9, "http,tls"), {"Example_CERT", "siem", "h"});
  EXPECT_EQ(d["@timestamp"], "2026-01-15T10:00:00Z");
  EXPECT_EQ(d["source"]["ip"], "192.0.2.7");
  EXPECT_EQ(d["source"]["port"], 8080);
  EXPECT_EQ(d["source"]["as"]["number"], 64500);
  EXPECT_EQ(d["source"]["geo"]["country_iso_code"], "NL");
  EXPECT_EQ(d["tags"], json::array({"http", "tls"}));
  EXPECT_EQ(d["event"]["id"], "9");
  EXPECT_EQ(d["event"]["dataset"], "vantage.scan_http");
  EXPECT_EQ(d["organization"]["name"], "Example_CERT");
  EXPECT_EQ(d["ecs"]["version"], EcsMap::builtin().ecs_version());
  // A column without an ECS home keeps its report name under vantage.row.
  EXPECT_EQ(d["vantage"]["row"]["severity"], "critical");
}

TEST(Render, UndecodableRowIsRenderedAndCounted) {
  EventRenderer r(cat());
  store::StoredEvent ev = scan_http_event(5);
  ev.row = "garbage";
  json j = r.json_object(ev, {});
  EXPECT_EQ(j["id"], 5);
  EXPECT_TRUE(j["row"].empty());
  std::string cef = r.cef(ev);
  EXPECT_NE(cef.find("externalId=5"), std::string::npos);
  EXPECT_EQ(r.decode_errors(), 2);
}

TEST(Syslog, MessageAndFraming) {
  SyslogHeader h;
  h.hostname = "vantage host";  // the space is not allowed in HOSTNAME: dropped
  std::string m = syslog_message(h, 4, 1768471200, "scan_http",
                                 {{"event", "42"}, {"sub", "a\"b]c"}}, "CEF:0|x");
  EXPECT_EQ(m,
            "<130>1 2026-01-15T10:00:00Z vantagehost vantage - scan_http "
            "[vantage@32473 event=\"42\" sub=\"a\\\"b\\]c\"] CEF:0|x");
  std::string framed;
  append_octet_counted(framed, m);
  append_octet_counted(framed, "<134>1 - - - - - -");
  std::vector<std::string> got;
  std::string buffer = framed.substr(0, 20);
  ASSERT_TRUE(take_syslog_frames(buffer, 4096, [&](std::string_view s) { got.emplace_back(s); }));
  EXPECT_TRUE(got.empty());  // incomplete
  buffer += framed.substr(20);
  ASSERT_TRUE(take_syslog_frames(buffer, 4096, [&](std::string_view s) { got.emplace_back(s); }));
  ASSERT_EQ(got.size(), 2u);
  EXPECT_EQ(got[0], m);
  EXPECT_TRUE(buffer.empty());
  std::string bad = "99999999999 x";
  EXPECT_FALSE(take_syslog_frames(bad, 4096, [](std::string_view) {}));
  std::string lf = "<13>1 a\n<13>1 b\n<13>";
  got.clear();
  ASSERT_TRUE(take_syslog_frames(lf, 4096, [&](std::string_view s) { got.emplace_back(s); }));
  EXPECT_EQ(got, (std::vector<std::string>{"<13>1 a", "<13>1 b"}));
  EXPECT_EQ(lf, "<13>");
}

TEST(Syslog, SeverityMapping) {
  EXPECT_EQ(syslog_severity(4), 2);
  EXPECT_EQ(syslog_severity(3), 3);
  EXPECT_EQ(syslog_severity(0), 6);
  EXPECT_EQ(cef_severity(4), 10);
  EXPECT_EQ(cef_severity(0), 1);
}

TEST(MappingData, CefMapCoversTheCatalogue) {
  const CefMap& m = CefMap::builtin();
  EXPECT_EQ(m.size(), cat().size());
  for (const auto* t : cat().types()) {
    auto fields = m.fields(*t);
    EXPECT_FALSE(fields.empty()) << t->name;
    for (const auto& f : fields) {
      EXPECT_GE(t->column_index(f.column), 0) << t->name << "." << f.column;
      EXPECT_TRUE(is_cef_key(f.key)) << t->name << "." << f.column << " -> " << f.key;
    }
  }
}

// schemas/cef.json must be exactly what the import makes of the shared report_schema copy.
TEST(MappingData, CefMapIsTheImportOfTheSharedCopy) {
  const char* env = std::getenv("VANTAGE_SHARED_DIR");
  fs::path shared = env && *env ? fs::path(env) : fs::path(VANTAGE_SOURCE_DIR) / ".." / "shared";
  fs::path upstream = shared / "report_schema" / "cef.json";
  if (!fs::exists(upstream)) GTEST_SKIP() << "no " << upstream;
  std::ifstream in(upstream);
  std::stringstream text;
  text << in.rdbuf();
  auto imported = import_cef_map(
      text.str(), cat(),
      "Shadowserver report_schema/cef.json, commit 8e06fb91ef1b3cc621abf848d486369f6ff527ca "
      "(2026-03-24)");
  ASSERT_TRUE(imported.ok()) << imported.error().message;
  EXPECT_EQ(imported->json, builtin_cef_json())
      << "regenerate: vantage schema import-cef " << upstream
      << " --output schemas/cef.json --source '<as recorded in the file>'";
  // The upstream slips are corrected, not carried: dst_hostname -> dhost in the sinkhole types.
  bool swapped = false;
  for (const auto& c : imported->corrections)
    swapped |= c.find("wrong way round") != std::string::npos;
  EXPECT_TRUE(swapped);
}

TEST(MappingData, ImportRejectsTwoColumnsOnOneKey) {
  auto r =
      import_cef_map(R"({"scan_http": {"map": {"ip": "src", "hostname": "src"}}})", cat(), "t");
  EXPECT_FALSE(r.ok());
}

TEST(MappingData, EcsMapTargets) {
  const EcsMap& m = EcsMap::builtin();
  EXPECT_EQ(m.target("scan_http", "ip").field, "source.ip");
  EXPECT_TRUE(m.target("scan_http", "tag").array);
  EXPECT_EQ(m.target("scan_http", "no_such_column").field, "vantage.row.no_such_column");
  EXPECT_FALSE(EcsMap::parse(R"({"columns": {"ip": "source ip"}})").ok());
}

TEST(Kinds, EveryKindHasAnEntryAndChecksItsOptions) {
  for (auto kind : {registry::SubscriptionKind::kWebhook, registry::SubscriptionKind::kSyslog,
                    registry::SubscriptionKind::kElastic, registry::SubscriptionKind::kSplunk,
                    registry::SubscriptionKind::kMisp}) {
    EXPECT_EQ(sink_kind(kind).kind, kind);
  }
  registry::Subscription s;
  s.kind = registry::SubscriptionKind::kSyslog;
  s.address = "127.0.0.1:6514";
  s.options = R"({"tls": true, "facility": 10})";
  EXPECT_TRUE(validate_subscription(s).ok());
  s.options = R"({"tsl": true})";  // misspelt
  EXPECT_FALSE(validate_subscription(s).ok());
  s.options = R"({"facility": 99})";
  EXPECT_FALSE(validate_subscription(s).ok());
  s.options = R"({"cert_file": "/c.pem"})";  // without its key
  EXPECT_FALSE(validate_subscription(s).ok());
  registry::Subscription w;
  w.kind = registry::SubscriptionKind::kWebhook;
  w.address = "https://example.org/hook";
  EXPECT_FALSE(validate_subscription(w).ok());  // a webhook needs its signing secret
  w.secret = "s3cret";
  EXPECT_TRUE(validate_subscription(w).ok());
  registry::Subscription e;
  e.kind = registry::SubscriptionKind::kElastic;
  e.address = "https://es:9200";
  e.options = R"({"index": "Bad Index"})";
  EXPECT_FALSE(validate_subscription(e).ok());
}

TEST(Base64, RoundTrip) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "key:secret", std::string("\0\xff\x10", 3)}) {
    auto back = base64_decode(base64_encode(s));
    ASSERT_TRUE(back.has_value()) << s;
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(base64_encode("key:secret"), "a2V5OnNlY3JldA==");
  EXPECT_FALSE(base64_decode("abc").has_value());
  EXPECT_FALSE(base64_decode("a!c=").has_value());
}

}  // namespace
}  // namespace vantage::integrations
