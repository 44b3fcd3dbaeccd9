#include "core/catalogue.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/strings.h"
#include "core/catalogue_import.h"

namespace vantage::core {
namespace {

namespace fs = std::filesystem;

// Shadowserver's report_schema copy: $VANTAGE_SHARED_DIR, else <source>/../shared.
fs::path schema_dir() {
  const char* env = std::getenv("VANTAGE_SHARED_DIR");
  fs::path shared = env && *env ? fs::path(env) : fs::path(VANTAGE_SOURCE_DIR) / ".." / "shared";
  return shared / "report_schema";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

#define REQUIRE_SCHEMA_DIR()                                                \
  if (!fs::exists(schema_dir() / "reports.json")) {                         \
    GTEST_SKIP() << "no report_schema folder at " << schema_dir().string(); \
  }

// "| type | subject | level |" rows of a markdown table -> type -> last cell.
std::map<std::string, std::string> md_levels(const std::string& text) {
  std::map<std::string, std::string> out;
  for (auto line : split(text, '\n')) {
    auto cells = split(trim(line), '|');
    if (cells.size() < 5) continue;  // "", type, subject, level, ""
    std::string type(trim(cells[1]));
    std::string level(trim(cells[cells.size() - 2]));
    if (parse_severity(level) && is_identifier(type)) out[type] = level;
  }
  return out;
}

TEST(CatalogueTest, BuiltinMatchesReportsJson) {
  REQUIRE_SCHEMA_DIR();
  auto reports = nlohmann::json::parse(slurp(schema_dir() / "reports.json"));
  const Catalogue& cat = Catalogue::builtin();
  ASSERT_EQ(reports.size(), 170u);
  ASSERT_EQ(cat.size(), reports.size());
  for (const auto& [name, entry] : reports.items()) {
    const ReportType* t = cat.find(name);
    ASSERT_NE(t, nullptr) << name;
    std::vector<std::string> want = entry["fields"].get<std::vector<std::string>>();
    std::vector<std::string> got;
    for (const auto& c : t->columns) got.push_back(c.name);
    EXPECT_EQ(got, want) << name;
    EXPECT_EQ(t->columns.front().kind, ColumnKind::kTimestamp) << name;
    if (entry.contains("classification.taxonomy")) {
      EXPECT_EQ(t->taxonomy, entry["classification.taxonomy"].get<std::string>()) << name;
    }
    if (entry.contains("url")) {
      EXPECT_EQ(t->url, entry["url"].get<std::string>()) << name;
    }
    EXPECT_FALSE(t->subject.empty()) << name;
  }
}

TEST(CatalogueTest, SeveritiesComeFromSeverityMdThenTypesMd) {
  REQUIRE_SCHEMA_DIR();
  auto severity = md_levels(slurp(schema_dir() / "severity.md"));
  auto types = md_levels(slurp(schema_dir() / "types.md"));
  ASSERT_GT(severity.size(), 100u);
  int from_default = 0;
  for (const ReportType* t : Catalogue::builtin().types()) {
    std::string got = severity_name(t->default_severity);
    if (severity.count(t->name)) {
      EXPECT_EQ(got, severity[t->name]) << t->name;
      EXPECT_EQ(t->severity_source, "severity.md") << t->name;
    } else if (types.count(t->name)) {
      EXPECT_EQ(got, types[t->name]) << t->name;
      EXPECT_EQ(t->severity_source, "types.md") << t->name;
    } else {
      EXPECT_EQ(got, "info") << t->name;
      EXPECT_EQ(t->severity_source, "default") << t->name;
      ++from_default;
    }
  }
  EXPECT_EQ(from_default, 2);  // sandbox_dns and special are in neither table
}

// schemas/catalogue.json must be exactly what `vantage schema import` makes of the shared
// files, so a hand edit or a stale catalogue shows up here.
TEST(CatalogueTest, CommittedCatalogueIsTheImportOfTheSharedSchema) {
  REQUIRE_SCHEMA_DIR();
  const std::string reports = slurp(schema_dir() / "reports.json");
  const std::string types = slurp(schema_dir() / "types.md");
  const std::string severity = slurp(schema_dir() / "severity.md");
  const std::string intelmq = slurp(schema_dir() / "intelmq.json");
  auto fresh = import_catalogue({reports, types, severity, intelmq}, &Catalogue::builtin());
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_TRUE(fresh->changes.empty()) << fresh->changes.front();
  EXPECT_EQ(fresh->catalogue.to_json(), std::string(builtin_catalogue_json()));
  // A first import (no existing catalogue) numbers types in reports.json order.
  auto first = import_catalogue({reports, types, severity, intelmq}, nullptr);
  ASSERT_TRUE(first.ok());
  EXPECT_EQ(first->added_types, 170);
  EXPECT_EQ(first->catalogue.to_json(), fresh->catalogue.to_json());
}

TEST(CatalogueTest, KindsAndConstituents) {
  const Catalogue& cat = Catalogue::builtin();
  const ReportType* http = cat.find("scan_http");
  ASSERT_NE(http, nullptr);
  auto kind = [&](const ReportType* t, const char* col) {
    int i = t->column_index(col);
    EXPECT_GE(i, 0) << t->name << " " << col;
    return i < 0 ? ColumnKind::kString : t->columns[static_cast<size_t>(i)].kind;
  };
  EXPECT_EQ(kind(http, "timestamp"), ColumnKind::kTimestamp);
  EXPECT_EQ(kind(http, "ip"), ColumnKind::kIp);
  EXPECT_EQ(kind(http, "port"), ColumnKind::kInteger);
  EXPECT_EQ(kind(http, "asn"), ColumnKind::kInteger);
  EXPECT_EQ(kind(http, "http_code"), ColumnKind::kInteger);
  EXPECT_EQ(kind(http, "http_date"), ColumnKind::kString);
  EXPECT_EQ(kind(http, "geo"), ColumnKind::kString);
  EXPECT_EQ(http->column_index("no_such_column"), -1);
  EXPECT_EQ(http->constituent_column, "ip");
  EXPECT_EQ(http->constituent_kind, ConstituentKind::kIp);
  EXPECT_EQ(kind(cat.find("scan_ssl_freak"), "freak_vulnerable"), ColumnKind::kBoolean);
  EXPECT_EQ(kind(cat.find("scan_ntp"), "rootdelay"), ColumnKind::kFloat);

  const ReportType* sink = cat.find("event4_sinkhole");
  ASSERT_NE(sink, nullptr);
  EXPECT_EQ(sink->constituent_column, "src_ip");
  EXPECT_EQ(kind(sink, "dst_port"), ColumnKind::kInteger);
  EXPECT_EQ(sink->common.side[0].asn, sink->column_index("src_asn"));
  EXPECT_EQ(sink->common.side[2].ip, sink->column_index("dst_ip"));
  EXPECT_EQ(cat.find("event4_honeypot_ddos_target")->constituent_column, "dst_ip");
  EXPECT_EQ(cat.find("event4_sinkhole_http_referer")->constituent_column, "http_referer_ip");
  EXPECT_EQ(cat.find("compromised_account")->constituent_kind, ConstituentKind::kEmail);
  EXPECT_EQ(cat.find("ransomware_victim")->constituent_kind, ConstituentKind::kDomain);
  EXPECT_EQ(cat.find("sandbox_dns")->constituent_kind, ConstituentKind::kNone);
  EXPECT_EQ(cat.find("blocklist")->default_severity, Severity::kLow);
}

TEST(CatalogueTest, FindByIdAndSortedTypes) {
  const Catalogue& cat = Catalogue::builtin();
  for (const ReportType* t : cat.types()) EXPECT_EQ(cat.find_by_id(t->id), t);
  EXPECT_EQ(cat.find_by_id(0), nullptr);
  EXPECT_EQ(cat.find_by_id(60000), nullptr);
  EXPECT_EQ(cat.find("nope"), nullptr);
  for (size_t i = 1; i < cat.types().size(); ++i) {
    EXPECT_LT(cat.types()[i - 1]->name, cat.types()[i]->name);
  }
}

TEST(CatalogueTest, ToJsonRoundTrips) {
  auto again = Catalogue::parse(Catalogue::builtin().to_json());
  ASSERT_TRUE(again.ok()) << again.error().message;
  ASSERT_EQ(again->size(), Catalogue::builtin().size());
  for (const ReportType* t : Catalogue::builtin().types()) EXPECT_EQ(*again->find(t->name), *t);
}

TEST(CatalogueTest, ParseRejectsBadCatalogues) {
  const std::string head = R"({"format": "vantage-catalogue/1", "types": [)";
  auto type = [](const std::string& name, int id, const std::string& cols,
                 const std::string& constituent = R"({"column": "", "kind": "none"})") {
    return R"({"name": ")" + name + R"(", "id": )" + std::to_string(id) +
           R"(, "default_severity": "high", "constituent": )" + constituent + R"(, "columns": )" +
           cols + "}";
  };
  const std::string ok_cols = R"([["timestamp", "timestamp"], ["ip", "ip"]])";
  ASSERT_TRUE(Catalogue::parse(head + type("a", 1, ok_cols) + "]}").ok());
  EXPECT_FALSE(Catalogue::parse("{").ok());
  EXPECT_FALSE(Catalogue::parse(R"({"format": "other", "types": []})").ok());
  EXPECT_FALSE(Catalogue::parse(head + type("a", 1, ok_cols) + "," + type("a", 2, ok_cols) + "]}")
                   .ok());  // duplicate name
  EXPECT_FALSE(Catalogue::parse(head + type("a", 1, ok_cols) + "," + type("b", 1, ok_cols) + "]}")
                   .ok());  // duplicate id
  EXPECT_FALSE(Catalogue::parse(head + type("a", 0, ok_cols) + "]}").ok());
  EXPECT_FALSE(Catalogue::parse(head + type("Bad-Name", 1, ok_cols) + "]}").ok());
  EXPECT_FALSE(Catalogue::parse(head + type("a", 1, R"([["x", "weird"]])") + "]}").ok());
  EXPECT_FALSE(Catalogue::parse(head + type("a", 1, R"([["x", "string"], ["x", "ip"]])") + "]}")
                   .ok());  // duplicate column
  EXPECT_FALSE(
      Catalogue::parse(head + type("a", 1, ok_cols, R"({"column": "zz", "kind": "ip"})") + "]}")
          .ok());  // constituent is not a column
  EXPECT_FALSE(Catalogue::parse(
                   head + type("a", 1, ok_cols, R"({"column": "timestamp", "kind": "ip"})") + "]}")
                   .ok());  // constituent kind does not match the column kind
  auto bad_sev = Catalogue::parse(head +
                                  R"({"name": "a", "id": 1, "default_severity": "urgent",
                                      "columns": [["timestamp", "timestamp"]]})" +
                                  "]}");
  ASSERT_FALSE(bad_sev.ok());
  EXPECT_NE(bad_sev.error().message.find("urgent"), std::string::npos);
}

TEST(CatalogueTest, LoadReportsMissingFile) {
  auto r = Catalogue::load("/nonexistent/catalogue.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().code, ErrorCode::kIo);
  auto open = Catalogue::open("");
  ASSERT_TRUE(open.ok());
  EXPECT_EQ(open->get(), &Catalogue::builtin());
}

TEST(CatalogueTest, SeverityAndKindNames) {
  for (int i = 0; i < kSeverityCount; ++i) {
    auto s = static_cast<Severity>(i);
    EXPECT_EQ(parse_severity(severity_name(s)), s);
  }
  EXPECT_EQ(parse_severity("CRITICAL"), Severity::kCritical);
  EXPECT_FALSE(parse_severity("severe"));
  EXPECT_LT(Severity::kMedium, Severity::kHigh);
  for (int i = 0; i < kColumnKindCount; ++i) {
    auto k = static_cast<ColumnKind>(i);
    EXPECT_EQ(parse_column_kind(column_kind_name(k)), k);
  }
}

// Import merges with the catalogue in use: ids stay, changes are listed.
TEST(CatalogueImportTest, ReportsAddedRemovedAndChangedTypes) {
  const std::string v1 = R"({
    "scan_a": {"name": "A", "fields": ["timestamp", "ip", "port", "extra"]},
    "scan_b": {"name": "B", "fields": ["timestamp", "ip"]}})";
  const std::string sev = "| scan_a | Accessible A | high |\n";
  auto first = import_catalogue({v1, "", sev, ""}, nullptr);
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(first->added_types, 2);
  const ReportType* a = first->catalogue.find("scan_a");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->default_severity, Severity::kHigh);
  EXPECT_EQ(a->subject, "Accessible A");  // severity.md's subject when types.md lacks one
  EXPECT_EQ(a->columns[2].kind, ColumnKind::kInteger);       // name fallback: port
  EXPECT_EQ(first->catalogue.find("scan_b")->subject, "B");  // reports.json name last
  EXPECT_EQ(first->catalogue.find("scan_b")->severity_source, "default");

  const std::string v2 = R"({
    "scan_a": {"name": "A", "fields": ["timestamp", "port", "ip", "newcol"]},
    "scan_c": {"name": "C", "fields": ["timestamp", "src_ip"]}})";
  const std::string intelmq = R"({"x": {"file_name": "scan_a", "optional_fields": [
      ["extra.", "newcol", "convert_float"]]}})";
  auto second = import_catalogue({v2, "", "", intelmq}, &first->catalogue);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(second->added_types, 1);
  EXPECT_EQ(second->removed_types, 1);
  EXPECT_EQ(second->changed_types, 1);
  const std::string all = join(second->changes, "\n");
  EXPECT_NE(all.find("- type scan_b"), std::string::npos) << all;
  EXPECT_NE(all.find("+ type scan_c (2 columns)"), std::string::npos) << all;
  EXPECT_NE(all.find("~ scan_a: + column newcol (float)"), std::string::npos) << all;
  EXPECT_NE(all.find("~ scan_a: - column extra"), std::string::npos) << all;
  EXPECT_NE(all.find("~ scan_a: column order changed"), std::string::npos) << all;
  const ReportType* a2 = second->catalogue.find("scan_a");
  EXPECT_EQ(a2->subject, "Accessible A");            // kept: neither types.md nor severity.md given
  EXPECT_EQ(a2->id, a->id);                          // ids are stable
  EXPECT_EQ(a2->default_severity, Severity::kHigh);  // kept: no severity.md given
  EXPECT_EQ(second->catalogue.find("scan_c")->id, 3);  // next free id
  EXPECT_EQ(second->catalogue.find("scan_c")->constituent_column, "src_ip");
}

// Refreshing from reports.json alone keeps everything the other files contributed.
TEST(CatalogueImportTest, ReportsJsonAloneChangesNothing) {
  REQUIRE_SCHEMA_DIR();
  const std::string reports = slurp(schema_dir() / "reports.json");
  auto fresh = import_catalogue({reports, "", "", ""}, &Catalogue::builtin());
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  EXPECT_TRUE(fresh->changes.empty()) << fresh->changes.front();
  EXPECT_EQ(fresh->catalogue.to_json(), std::string(builtin_catalogue_json()));
}

TEST(CatalogueImportTest, RejectsBadInput) {
  EXPECT_FALSE(import_catalogue({"not json", "", "", ""}, nullptr).ok());
  EXPECT_FALSE(import_catalogue({"{}", "", "", ""}, nullptr).ok());
  EXPECT_FALSE(import_catalogue({R"({"a": {"fields": []}})", "", "", ""}, nullptr).ok());
  EXPECT_FALSE(import_catalogue({R"({"a": {"fields": ["ts"]}})", "", "", "[broken"}, nullptr).ok());
}

}  // namespace
}  // namespace vantage::core
