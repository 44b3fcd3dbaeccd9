#include "store/sqlite/rollups.h"

#include <algorithm>
#include <set>

#include "common/equal_runs.h"

namespace vantage::store {

const char* const kRollupSchema = R"sql(
CREATE TABLE IF NOT EXISTS r_type(
  grain INTEGER NOT NULL, day INTEGER NOT NULL, type_id INTEGER NOT NULL,
  severity INTEGER NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY(grain, day, type_id, severity)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS r_geo(
  grain INTEGER NOT NULL, day INTEGER NOT NULL, type_id INTEGER NOT NULL, geo TEXT NOT NULL,
  severity INTEGER NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY(grain, day, type_id, geo, severity)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS r_geo_by_geo ON r_geo(geo, grain, day, type_id, severity, events);
CREATE TABLE IF NOT EXISTS r_geo_all(
  grain INTEGER NOT NULL, day INTEGER NOT NULL, geo TEXT NOT NULL, severity INTEGER NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY(grain, day, geo, severity)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS r_geo_all_by_geo ON r_geo_all(geo, grain, day, severity, events);
CREATE TABLE IF NOT EXISTS r_region(
  grain INTEGER NOT NULL, day INTEGER NOT NULL, type_id INTEGER NOT NULL, geo TEXT NOT NULL,
  region TEXT NOT NULL, severity INTEGER NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY(geo, grain, day, type_id, region, severity)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS r_tag(
  grain INTEGER NOT NULL, day INTEGER NOT NULL, type_id INTEGER NOT NULL, tag TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY(grain, day, type_id, tag)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS r_tag_by_tag ON r_tag(tag, grain, day, type_id, events);
CREATE TABLE IF NOT EXISTS r_tag_all(
  grain INTEGER NOT NULL, day INTEGER NOT NULL, tag TEXT NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY(grain, day, tag)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS r_tag_all_by_tag ON r_tag_all(tag, grain, day, events);
CREATE TABLE IF NOT EXISTS r_tag_geo(
  grain INTEGER NOT NULL, day INTEGER NOT NULL, type_id INTEGER NOT NULL, geo TEXT NOT NULL,
  tag TEXT NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY(grain, day, type_id, geo, tag)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS r_tag_geo_by_tag ON r_tag_geo(tag, grain, day, type_id, geo, events);
CREATE INDEX IF NOT EXISTS r_tag_geo_by_geo ON r_tag_geo(geo, grain, day, type_id, tag, events);
CREATE TABLE IF NOT EXISTS r_tag_geo_all(
  grain INTEGER NOT NULL, day INTEGER NOT NULL, geo TEXT NOT NULL, tag TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY(grain, day, geo, tag)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS r_tag_geo_all_by_tag ON r_tag_geo_all(tag, grain, day, geo, events);
CREATE INDEX IF NOT EXISTS r_tag_geo_all_by_geo ON r_tag_geo_all(geo, grain, day, tag, events);
)sql";

DayNumber month_start(DayNumber d) {
  int y = 0;
  unsigned m = 0, day = 0;
  civil_from_days(d, y, m, day);
  return days_from_civil(y, m, 1);
}

DayNumber next_month_start(DayNumber d) {
  int y = 0;
  unsigned m = 0, day = 0;
  civil_from_days(d, y, m, day);
  return m == 12 ? days_from_civil(y + 1, 1, 1) : days_from_civil(y, m + 1, 1);
}

namespace {

constexpr int kDay = 0;
constexpr int kMonth = 1;

}  // namespace

// The columns a table holds besides grain, day and events, in table order.
enum class RollupDim { kType, kGeo, kRegion, kTag, kSeverity };
using Dim = RollupDim;

namespace {

const char* column_of(Dim d) {
  switch (d) {
    case Dim::kType: return "type_id";
    case Dim::kGeo: return "geo";
    case Dim::kRegion: return "region";
    case Dim::kTag: return "tag";
    case Dim::kSeverity: return "severity";
  }
  return "";
}

}  // namespace

struct RollupTableSpec {
  const char* name;
  std::vector<Dim> dims;
  bool has(Dim d) const { return std::find(dims.begin(), dims.end(), d) != dims.end(); }
};

namespace {

const std::vector<RollupTableSpec>& table_specs() {
  static const std::vector<RollupTableSpec> specs = {
      {"r_type", {Dim::kType, Dim::kSeverity}},
      {"r_geo", {Dim::kType, Dim::kGeo, Dim::kSeverity}},
      {"r_geo_all", {Dim::kGeo, Dim::kSeverity}},
      {"r_region", {Dim::kType, Dim::kGeo, Dim::kRegion, Dim::kSeverity}},
      {"r_tag", {Dim::kType, Dim::kTag}},
      {"r_tag_all", {Dim::kTag}},
      {"r_tag_geo", {Dim::kType, Dim::kGeo, Dim::kTag}},
      {"r_tag_geo_all", {Dim::kGeo, Dim::kTag}},
  };
  return specs;
}

// A piece of a date range read at one grain, added (+1) or subtracted (-1).
struct Part {
  int grain;
  DayNumber first, last;
  int sign;
};

// Splits [a, b] so that whole months come from month rows; an edge that covers most of its
// month is read as "the month minus the days outside the range".
std::vector<Part> split_range(DayNumber a, DayNumber b, bool by_day) {
  std::vector<Part> parts;
  if (a > b) return parts;
  if (by_day) return {{kDay, a, b, +1}};
  DayNumber cursor = a;
  if (a != month_start(a)) {
    DayNumber m0 = month_start(a), m_end = next_month_start(a) - 1;
    if (m_end > b) return {{kDay, a, b, +1}};  // inside one month
    if (a - m0 < m_end - a + 1) {
      parts.push_back({kMonth, m0, m0, +1});
      parts.push_back({kDay, m0, a - 1, -1});
    } else {
      parts.push_back({kDay, a, m_end, +1});
    }
    cursor = m_end + 1;
  }
  DayNumber full_end = cursor;
  while (next_month_start(full_end) - 1 <= b) full_end = next_month_start(full_end);
  if (full_end > cursor) parts.push_back({kMonth, cursor, full_end - 1, +1});
  cursor = full_end;
  if (cursor <= b) {
    DayNumber m_end = next_month_start(cursor) - 1;
    if (m_end - b < b - cursor + 1) {
      parts.push_back({kMonth, cursor, cursor, +1});
      parts.push_back({kDay, b + 1, m_end, -1});
    } else {
      parts.push_back({kDay, cursor, b, +1});
    }
  }
  return parts;
}

}  // namespace

RollupWriter::RollupWriter() {
  for (const auto& s : table_specs()) tables_.push_back({&s, {}, {}});
}

Status RollupWriter::prepare(Db& db) {
  for (auto& t : tables_) {
    std::string cols = "grain, day";
    for (Dim d : t.spec->dims) cols += std::string(", ") + column_of(d);
    if (auto st = t.upsert.prepare(db, std::string(t.spec->name) + "(" + cols + ", events)",
                                   static_cast<int>(t.spec->dims.size()) + 3,
                                   "ON CONFLICT DO UPDATE SET events = events + excluded.events");
        !st)
      return st;
  }
  return {};
}

uint32_t RollupWriter::intern(std::string_view text) {
  if (auto it = ids_.find(text); it != ids_.end()) return it->second;
  auto id = static_cast<uint32_t>(texts_.size());
  texts_.emplace_back(text);
  ids_.emplace(texts_.back(), id);
  return id;
}

void RollupWriter::add_events(DayNumber day, int64_t type_id, uint32_t geo, uint32_t region,
                              uint8_t severity, int64_t n) {
  add({day, type_id, geo, region, 0, severity}, false, n);
}

void RollupWriter::add_tagged(DayNumber day, int64_t type_id, uint32_t geo, uint32_t tag,
                              int64_t n) {
  add({day, type_id, geo, 0, tag, 0}, true, n);
}

void RollupWriter::add(const RollupKey& group, bool tagged, int64_t n) {
  for (auto& t : tables_) {
    if (t.spec->has(Dim::kTag) != tagged) continue;
    RollupKey k;
    k.day = group.day;
    if (t.spec->has(Dim::kType)) k.type_id = group.type_id;
    if (t.spec->has(Dim::kGeo)) k.geo = group.geo;
    if (t.spec->has(Dim::kRegion)) k.region = group.region;
    if (t.spec->has(Dim::kSeverity)) k.severity = group.severity;
    if (t.spec->has(Dim::kTag)) k.tag = group.tag;
    // The groups come in the store's sort order, so a coarse table often gets the same key
    // twice in a row: sum it here rather than sort it twice.
    if (!t.deltas.empty() && t.deltas.back().first == k) {
      t.deltas.back().second += n;
    } else {
      t.deltas.emplace_back(k, n);
    }
  }
}

void RollupWriter::discard() {
  for (auto& t : tables_) t.deltas.clear();
}

Status RollupWriter::flush() {
  for (auto& t : tables_) {
    t.upsert.start();
    std::sort(t.deltas.begin(), t.deltas.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    auto written = for_each_equal_run_sum(
        t.deltas.size(), [&](size_t i) { return t.deltas[i].first; },
        [&](size_t i) { return t.deltas[i].second; },
        [&](const RollupKey& k, int64_t n) -> Status {
          for (int grain : {kDay, kMonth}) {
            t.upsert.bind(1, grain).bind(2, grain == kDay ? k.day : month_start(k.day));
            int col = 3;
            for (Dim d : t.spec->dims) {
              switch (d) {
                case Dim::kType: t.upsert.bind(col++, k.type_id); break;
                case Dim::kGeo: t.upsert.bind(col++, std::string_view(texts_[k.geo])); break;
                case Dim::kRegion: t.upsert.bind(col++, std::string_view(texts_[k.region])); break;
                case Dim::kTag: t.upsert.bind(col++, std::string_view(texts_[k.tag])); break;
                case Dim::kSeverity: t.upsert.bind(col++, int64_t{k.severity}); break;
              }
            }
            t.upsert.bind(col, n);
            if (auto s = t.upsert.end_row(); !s) return s;
          }
          return {};
        });
    if (!written) return written;
    if (auto s = t.upsert.finish(); !s) return s;
    t.deltas.clear();
  }
  constexpr size_t kMaxTexts = 1 << 20;
  if (texts_.size() > kMaxTexts) {
    ids_.clear();
    texts_.clear();
  }
  return {};
}

Status backfill_rollups(Db& db) {
  auto empty = db.prepare("SELECT NOT EXISTS(SELECT 1 FROM r_type)");
  if (!empty) return empty.error();
  auto has = empty->step();
  if (!has) return has.error();
  if (!*has || empty->int64(0) == 0) return {};
  const char* month =
      "CAST(strftime('%s', date(day * 86400, 'unixepoch', 'start of month')) AS "
      "INTEGER) / 86400";
  std::string sql;
  for (const auto& t : table_specs()) {
    // Tag tables come from stats_tags (day, type, geo, tag), the others from stats.
    const char* source = t.has(Dim::kTag) ? "stats_tags" : "stats";
    std::string cols;
    for (Dim d : t.dims) cols += std::string(", ") + column_of(d);
    for (int grain : {kDay, kMonth}) {
      std::string d = grain == kDay ? "day" : month;
      sql += std::string("INSERT INTO ") + t.name + "(grain, day" + cols + ", events) SELECT " +
             std::to_string(grain) + ", " + d + cols + ", sum(events) FROM " + source +
             " GROUP BY 2" + cols + ";";
    }
  }
  return db.exec(sql.c_str());
}

Result<std::vector<StatsRow>> read_stats_rows(Statement& st,
                                              const std::vector<std::string>& group_by) {
  std::vector<StatsRow> out;
  while (true) {
    auto has = st.step();
    if (!has) return has.error();
    if (!*has) break;
    StatsRow r;
    for (size_t i = 0; i < group_by.size(); ++i) {
      const auto& g = group_by[i];
      int c = static_cast<int>(i);
      if (g == "day") {
        r.keys.push_back(format_date(static_cast<DayNumber>(st.int64(c))));
      } else if (g == "asn" || g == "severity") {
        r.keys.push_back(std::to_string(st.int64(c)));
      } else {
        r.keys.emplace_back(st.text(c));
      }
    }
    r.events = st.int64(static_cast<int>(group_by.size()));
    if (r.events > 0) out.push_back(std::move(r));  // a subtracted edge can net to zero
  }
  return out;
}

Result<std::optional<std::vector<StatsRow>>> rollup_stats(Db& db, const StatsQuery& q) {
  std::set<std::string> dims(q.group_by.begin(), q.group_by.end());
  if (!q.geo.empty()) dims.insert("geo");
  if (!q.region.empty()) dims.insert("region");
  if (!q.tag.empty()) dims.insert("tag");
  if (q.min_severity || !q.severities.empty()) dims.insert("severity");
  if (q.org_id || dims.count("asn")) return std::optional<std::vector<StatsRow>>();
  bool typed = dims.count("type") || !q.types.empty();
  std::string table;
  if (dims.count("tag")) {
    for (const char* other : {"region", "severity"}) {
      if (dims.count(other)) {
        return Error::invalid(std::string("tag statistics cannot be combined with ") + other +
                              " (as a filter or a grouping)");
      }
    }
    table = dims.count("geo") ? (typed ? "r_tag_geo" : "r_tag_geo_all")
                              : (typed ? "r_tag" : "r_tag_all");
  } else if (dims.count("region")) {
    table = "r_region";
  } else if (dims.count("geo")) {
    table = typed ? "r_geo" : "r_geo_all";
  } else {
    table = "r_type";
  }

  // Parameters are numbered so every part of the UNION reuses the same ones.
  int next = 1;
  std::vector<std::pair<int, std::string>> text_binds;
  std::vector<std::pair<int, int64_t>> int_binds;
  auto text_param = [&](const std::string& v) {
    text_binds.emplace_back(next, v);
    return "?" + std::to_string(next++);
  };
  auto int_param = [&](int64_t v) {
    int_binds.emplace_back(next, v);
    return "?" + std::to_string(next++);
  };
  std::string filters;
  if (!q.types.empty()) {
    filters += " AND type_id IN (SELECT id FROM types WHERE name IN (";
    for (size_t i = 0; i < q.types.size(); ++i) filters += (i ? "," : "") + text_param(q.types[i]);
    filters += "))";
  }
  if (!q.geo.empty()) filters += " AND geo = " + text_param(q.geo);
  if (!q.region.empty()) filters += " AND region = " + text_param(q.region);
  if (!q.tag.empty()) filters += " AND tag = " + text_param(q.tag);
  if (q.min_severity) filters += " AND severity >= " + std::to_string(*q.min_severity);
  if (!q.severities.empty()) {
    filters += " AND severity IN (";
    for (size_t i = 0; i < q.severities.size(); ++i)
      filters += (i ? "," : "") + std::to_string(q.severities[i]);
    filters += ")";
  }
  std::string inner_keys, outer_keys, join;
  for (const auto& g : q.group_by) {
    std::string c = g == "type" ? "type_id" : g;
    inner_keys += (inner_keys.empty() ? "" : ", ") + c;
    if (g == "type") {
      outer_keys += std::string(outer_keys.empty() ? "" : ", ") + "t.name";
      join = " JOIN types t ON t.id = r.type_id";
    } else {
      outer_keys += (outer_keys.empty() ? "" : ", ") + ("r." + c);
    }
  }
  std::string parts_sql;
  for (const auto& p : split_range(q.first_day, q.last_day, dims.count("day") > 0)) {
    if (!parts_sql.empty()) parts_sql += " UNION ALL ";
    parts_sql += "SELECT " + inner_keys + (inner_keys.empty() ? "" : ", ") + "sum(events) * " +
                 std::to_string(p.sign) + " AS e FROM " + table +
                 " WHERE grain = " + std::to_string(p.grain) + " AND day BETWEEN " +
                 int_param(p.first) + " AND " + int_param(p.last) + filters;
    if (!inner_keys.empty()) parts_sql += " GROUP BY " + inner_keys;
  }
  if (parts_sql.empty()) return std::optional<std::vector<StatsRow>>(std::vector<StatsRow>());
  std::string sql = "SELECT " + outer_keys + (outer_keys.empty() ? "" : ", ") + "sum(r.e) FROM (" +
                    parts_sql + ") r" + join;
  if (!outer_keys.empty()) sql += " GROUP BY " + outer_keys + " ORDER BY " + outer_keys;
  auto st = db.prepare(sql);
  if (!st) return st.error();
  for (auto& [i, v] : text_binds) st->bind(i, v);
  for (auto& [i, v] : int_binds) st->bind(i, v);
  auto rows = read_stats_rows(*st, q.group_by);
  if (!rows) return rows.error();
  return std::optional<std::vector<StatsRow>>(std::move(*rows));
}

}  // namespace vantage::store
