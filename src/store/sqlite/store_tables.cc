#include "store/sqlite/store_tables.h"

#include <algorithm>

#include "common/equal_runs.h"
#include "common/strings.h"

namespace vantage::store {

const char* const kStoreTablesSchema = R"sql(
CREATE TABLE IF NOT EXISTS types(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS stats(
  day INTEGER NOT NULL, type_id INTEGER NOT NULL, geo TEXT NOT NULL, region TEXT NOT NULL,
  asn INTEGER NOT NULL, severity INTEGER NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY(day, type_id, geo, region, asn, severity)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS stats_tags(
  day INTEGER NOT NULL, type_id INTEGER NOT NULL, geo TEXT NOT NULL, tag TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY(day, type_id, geo, tag)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS org_stats(
  day INTEGER NOT NULL, org_id INTEGER NOT NULL, type_id INTEGER NOT NULL,
  severity INTEGER NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY(org_id, day, type_id, severity)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS quarantine(
  id INTEGER PRIMARY KEY, at INTEGER NOT NULL, source TEXT NOT NULL, line INTEGER NOT NULL,
  field TEXT NOT NULL, reason TEXT NOT NULL, raw BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS sources(
  source_key TEXT PRIMARY KEY, source_name TEXT NOT NULL, offset INTEGER NOT NULL,
  line INTEGER NOT NULL, done INTEGER NOT NULL, accepted INTEGER NOT NULL,
  rejected INTEGER NOT NULL, allowlisted INTEGER NOT NULL, deduplicated INTEGER NOT NULL,
  routed INTEGER NOT NULL, updated INTEGER NOT NULL);
)sql";

namespace {

constexpr size_t kMaxQuarantineRaw = 4096;

constexpr const char* kCheckpointColumns =
    "SELECT source_key, source_name, offset, line, done, accepted, rejected, allowlisted, "
    "deduplicated, routed FROM sources ";

SourceCheckpoint read_checkpoint(const Statement& s) {
  SourceCheckpoint c;
  c.source_key = std::string(s.text(0));
  c.source_name = std::string(s.text(1));
  c.offset = s.int64(2);
  c.line = s.int64(3);
  c.done = s.int64(4) != 0;
  c.accepted = s.int64(5);
  c.rejected = s.int64(6);
  c.allowlisted = s.int64(7);
  c.deduplicated = s.int64(8);
  c.routed = s.int64(9);
  return c;
}

}  // namespace

int64_t occurrence_rank(uint64_t occurrence_id) {
  return static_cast<int64_t>((occurrence_id ? occurrence_id : UINT64_MAX) ^ (uint64_t{1} << 63));
}

Status BatchTablesWriter::prepare(Db& db) {
  auto q = db.prepare(
      "INSERT INTO quarantine(at, source, line, field, reason, raw) "
      "VALUES(strftime('%s','now'),?,?,?,?,?)");
  if (!q) return q.error();
  insert_quarantine_ = std::move(*q);
  auto s = db.prepare(
      "INSERT INTO sources VALUES(?,?,?,?,?,?,?,?,?,?,strftime('%s','now')) ON "
      "CONFLICT(source_key) DO UPDATE SET source_name = excluded.source_name, offset = "
      "excluded.offset, line = excluded.line, done = excluded.done, accepted = "
      "excluded.accepted, rejected = excluded.rejected, allowlisted = "
      "excluded.allowlisted, deduplicated = "
      "excluded.deduplicated, routed = excluded.routed, updated = excluded.updated");
  if (!s) return s.error();
  upsert_source_ = std::move(*s);
  return {};
}

Status BatchTablesWriter::write_quarantine(const std::vector<QuarantineRecord>& records) {
  for (const auto& q : records) {
    std::string_view raw = q.raw;
    if (raw.size() > kMaxQuarantineRaw) raw = raw.substr(0, kMaxQuarantineRaw);
    insert_quarantine_.bind(1, q.source)
        .bind(2, q.line)
        .bind(3, q.field)
        .bind(4, q.reason)
        .bind_blob(5, raw);
    if (auto st = insert_quarantine_.run(); !st) return st;
  }
  return {};
}

Status BatchTablesWriter::write_checkpoint(const SourceCheckpoint& c, const BatchOutcome& batch) {
  upsert_source_.bind(1, c.source_key)
      .bind(2, c.source_name)
      .bind(3, c.offset)
      .bind(4, c.line)
      .bind(5, c.done ? 1 : 0)
      .bind(6, c.accepted)
      .bind(7, c.rejected)
      .bind(8, c.allowlisted)
      .bind(9, c.deduplicated + batch.deduplicated)
      .bind(10, c.routed + batch.routed);
  return upsert_source_.run();
}

Result<std::optional<SourceCheckpoint>> select_checkpoint(Db& db, std::string_view source_key) {
  auto st = db.prepare(std::string(kCheckpointColumns) + "WHERE source_key = ?");
  if (!st) return st.error();
  st->bind(1, source_key);
  auto has = st->step();
  if (!has) return has.error();
  if (!*has) return std::optional<SourceCheckpoint>();
  return std::optional<SourceCheckpoint>(read_checkpoint(*st));
}

Result<std::vector<SourceCheckpoint>> select_checkpoints(Db& db) {
  auto st = db.prepare(std::string(kCheckpointColumns) + "ORDER BY updated, source_key");
  if (!st) return st.error();
  std::vector<SourceCheckpoint> out;
  while (true) {
    auto has = st->step();
    if (!has) return has.error();
    if (!*has) break;
    out.push_back(read_checkpoint(*st));
  }
  return out;
}

Result<std::vector<QuarantineRecord>> select_quarantine(Db& db, int64_t limit) {
  auto st = db.prepare(
      "SELECT source, line, field, reason, raw FROM quarantine ORDER BY id DESC LIMIT ?");
  if (!st) return st.error();
  st->bind(1, limit);
  std::vector<QuarantineRecord> out;
  while (true) {
    auto has = st->step();
    if (!has) return has.error();
    if (!*has) break;
    out.push_back({std::string(st->text(0)), st->int64(1), std::string(st->text(2)),
                   std::string(st->text(3)), std::string(st->text(4))});
  }
  return out;
}

Result<int64_t> select_count(Db& db, const char* sql) {
  auto st = db.prepare(sql);
  if (!st) return st.error();
  auto has = st->step();
  if (!has) return has.error();
  return *has ? st->int64(0) : 0;
}

Status FoldCounters::prepare(Db& db) {
  constexpr std::string_view kAddEvents =
      "ON CONFLICT DO UPDATE SET events = events + excluded.events";
  if (auto s = upsert_stats_.prepare(db, "stats", 7, kAddEvents); !s) return s;
  if (auto s = upsert_stats_tags_.prepare(db, "stats_tags", 5, kAddEvents); !s) return s;
  return rollups_.prepare(db);
}

void FoldCounters::add(DayNumber day, int64_t type_id, uint8_t severity, std::string_view geo,
                       std::string_view region, uint32_t asn, std::string_view tag_list) {
  uint32_t geo_id = rollups_.intern(geo), region_id = rollups_.intern(region);
  stats_.push_back({day, type_id, geo_id, region_id, asn, severity});
  tags_.clear();
  for (auto tag : split(tag_list, ',')) {
    tag = trim(tag);
    if (!tag.empty()) tags_.push_back(to_lower(tag));
  }
  std::sort(tags_.begin(), tags_.end());
  tags_.erase(std::unique(tags_.begin(), tags_.end()), tags_.end());
  // An untagged event counts under the empty tag.
  if (tags_.empty()) tag_stats_.push_back({day, type_id, geo_id, rollups_.intern({})});
  for (const auto& tag : tags_) tag_stats_.push_back({day, type_id, geo_id, rollups_.intern(tag)});
}

void FoldCounters::discard() {
  rollups_.discard();
  stats_.clear();
  tag_stats_.clear();
}

Status FoldCounters::import_dropped_day(Db& db, TypeIds& types, const DayStatistics& day) {
  auto st = db.transaction([&] { return write_dropped_day(db, types, day); });
  if (!st) {
    discard();
    types.forget_created();  // a type created in the rolled-back transaction is gone
  }
  return st;
}

Status FoldCounters::write_dropped_day(Db& db, TypeIds& types, const DayStatistics& day) {
  auto stats = db.prepare("INSERT INTO stats VALUES(?,?,?,?,?,?,?)");
  auto tags = db.prepare("INSERT INTO stats_tags VALUES(?,?,?,?,?)");
  auto orgs =
      db.prepare("INSERT INTO org_stats(day, org_id, type_id, severity, events) VALUES(?,?,?,?,?)");
  if (!stats) return stats.error();
  if (!tags) return tags.error();
  if (!orgs) return orgs.error();
  for (const auto& g : day.groups) {
    auto tid = types.get_or_create(db, g.type);
    if (!tid) return tid.error();
    stats->bind(1, day.day)
        .bind(2, *tid)
        .bind(3, std::string_view(g.geo))
        .bind(4, std::string_view(g.region))
        .bind(5, static_cast<int64_t>(g.asn))
        .bind(6, static_cast<int64_t>(g.severity))
        .bind(7, g.events);
    if (auto s = stats->run(); !s) return s;
    rollups_.add_events(day.day, *tid, rollups_.intern(g.geo), rollups_.intern(g.region),
                        g.severity, g.events);
  }
  for (const auto& g : day.tags) {
    auto tid = types.get_or_create(db, g.type);
    if (!tid) return tid.error();
    tags->bind(1, day.day)
        .bind(2, *tid)
        .bind(3, std::string_view(g.geo))
        .bind(4, std::string_view(g.tag))
        .bind(5, g.events);
    if (auto s = tags->run(); !s) return s;
    rollups_.add_tagged(day.day, *tid, rollups_.intern(g.geo), rollups_.intern(g.tag), g.events);
  }
  for (const auto& g : day.orgs) {
    auto tid = types.get_or_create(db, g.type);
    if (!tid) return tid.error();
    orgs->bind(1, day.day)
        .bind(2, static_cast<int64_t>(g.org_id))
        .bind(3, *tid)
        .bind(4, static_cast<int64_t>(g.severity))
        .bind(5, g.events);
    if (auto s = orgs->run(); !s) return s;
  }
  return rollups_.flush();
}

Status FoldCounters::flush() {
  // The dictionary ids in stats_/tag_stats_ stay valid until rollups_.flush(): last.
  std::sort(stats_.begin(), stats_.end());
  upsert_stats_.start();
  auto written = for_each_equal_run(
      stats_.size(), [&](size_t i) { return stats_[i]; },
      [&](const StatKey& k, int64_t n) {
        upsert_stats_.bind(1, k.day)
            .bind(2, k.type_id)
            .bind(3, std::string_view(rollups_.text(k.geo)))
            .bind(4, std::string_view(rollups_.text(k.region)))
            .bind(5, static_cast<int64_t>(k.asn))
            .bind(6, static_cast<int64_t>(k.severity))
            .bind(7, n);
        rollups_.add_events(k.day, k.type_id, k.geo, k.region, k.severity, n);
        return upsert_stats_.end_row();
      });
  if (!written || !(written = upsert_stats_.finish())) return written;
  std::sort(tag_stats_.begin(), tag_stats_.end());
  upsert_stats_tags_.start();
  written = for_each_equal_run(
      tag_stats_.size(), [&](size_t i) { return tag_stats_[i]; },
      [&](const TagStatKey& k, int64_t n) {
        upsert_stats_tags_.bind(1, k.day)
            .bind(2, k.type_id)
            .bind(3, std::string_view(rollups_.text(k.geo)))
            .bind(4, std::string_view(rollups_.text(k.tag)))
            .bind(5, n);
        rollups_.add_tagged(k.day, k.type_id, k.geo, k.tag, n);
        return upsert_stats_tags_.end_row();
      });
  if (!written || !(written = upsert_stats_tags_.finish())) return written;
  stats_.clear();
  tag_stats_.clear();
  return rollups_.flush();
}

Result<std::optional<int64_t>> TypeIds::find(Db& db, const std::string& name) {
  if (auto it = ids_.find(name); it != ids_.end()) return std::optional(it->second);
  auto st = db.prepare("SELECT id FROM types WHERE name = ?");
  if (!st) return st.error();
  st->bind(1, name);
  auto has = st->step();
  if (!has) return has.error();
  std::optional<int64_t> id;
  if (*has) id = ids_.emplace(name, st->int64(0)).first->second;
  return id;
}

Result<int64_t> TypeIds::get_or_create(Db& db, const std::string& name) {
  auto known = find(db, name);
  if (!known) return known.error();
  if (*known) return **known;
  auto st = db.prepare("INSERT INTO types(name) VALUES(?)");
  if (!st) return st.error();
  st->bind(1, name);
  if (auto s = st->run(); !s) return s.error();
  int64_t id = db.last_insert_rowid();
  // Cached only after COMMIT would be stricter; a rolled-back insert is re-resolved because
  // the store calls forget_created() when its batch fails.
  ids_.emplace(name, id);
  return id;
}

Result<std::string> TypeIds::name(Db& db, int64_t id) {
  if (auto it = names_.find(id); it != names_.end()) return it->second;
  auto st = db.prepare("SELECT name FROM types WHERE id = ?");
  if (!st) return st.error();
  st->bind(1, id);
  auto has = st->step();
  if (!has) return has.error();
  if (!*has) return Error::internal("unknown type id " + std::to_string(id));
  return names_.emplace(id, std::string(st->text(0))).first->second;
}

Result<std::vector<ReportKey>> report_keys_from(Db& db, TypeIds& types, DayNumber day,
                                                const ReportGroupRows& rows) {
  std::vector<ReportKey> out;
  out.reserve(rows.size());
  for (const auto& [k, n] : rows) {
    auto name = types.name(db, std::get<1>(k));
    if (!name) return name.error();
    out.push_back({day, std::get<0>(k), *name, std::get<2>(k), n});
  }
  std::sort(out.begin(), out.end(), report_order_less);
  return out;
}

Status check_stats_dimensions(const StatsQuery& q) {
  for (const auto& g : q.group_by) {
    if (g != "day" && g != "type" && g != "geo" && g != "region" && g != "asn" && g != "severity" &&
        g != "tag") {
      return Error::invalid("unknown statistics dimension '" + g + "'");
    }
  }
  return {};
}

bool within_org_counters(const StatsQuery& q) {
  if (!q.tag.empty() || !q.geo.empty() || !q.region.empty()) return false;
  return std::none_of(q.group_by.begin(), q.group_by.end(), [](const std::string& g) {
    return g == "tag" || g == "geo" || g == "region" || g == "asn";
  });
}

Result<std::vector<StatsRow>> global_stats(Db& db, const StatsQuery& q) {
  bool uses_tag =
      !q.tag.empty() || std::find(q.group_by.begin(), q.group_by.end(), "tag") != q.group_by.end();
  if (!uses_tag) return stats_from(db, q, "stats r");
  for (const auto& g : q.group_by) {
    if (g == "region" || g == "asn" || g == "severity") {
      return Error::invalid("tag statistics group by day, type, geo and tag only");
    }
  }
  if (q.min_severity) return Error::invalid("tag statistics cannot filter on severity");
  return stats_from(db, q, "stats_tags r");
}

Result<std::vector<StatsRow>> stats_from(Db& db, const StatsQuery& q, const std::string& from) {
  auto col = [&](const std::string& g) -> std::string {
    if (g == "type") return "t.name";
    return "r." + g;
  };
  std::string sql = "SELECT ";
  for (const auto& g : q.group_by) sql += col(g) + ", ";
  sql += "sum(r.events) FROM " + from +
         " JOIN types t ON t.id = r.type_id WHERE r.day >= ?1 AND r.day <= ?2";
  int param = 3;
  std::vector<std::pair<int, std::string>> text_params;
  if (!q.types.empty()) {
    sql += " AND t.name IN (";
    for (size_t i = 0; i < q.types.size(); ++i) {
      sql += (i ? ",?" : "?") + std::to_string(param);
      text_params.emplace_back(param++, q.types[i]);
    }
    sql += ")";
  }
  if (!q.geo.empty()) {
    sql += " AND r.geo = ?" + std::to_string(param);
    text_params.emplace_back(param++, q.geo);
  }
  if (!q.tag.empty()) {
    if (q.org_id) {
      sql += " AND (',' || r.tag || ',') LIKE ('%,' || ?" + std::to_string(param) + " || ',%')";
    } else {
      sql += " AND r.tag = ?" + std::to_string(param);
    }
    text_params.emplace_back(param++, q.tag);
  }
  if (!q.region.empty()) {
    sql += " AND r.region = ?" + std::to_string(param);
    text_params.emplace_back(param++, q.region);
  }
  if (q.min_severity) sql += " AND r.severity >= " + std::to_string(*q.min_severity);
  if (!q.severities.empty()) {
    sql += " AND r.severity IN (";
    for (size_t i = 0; i < q.severities.size(); ++i)
      sql += (i ? "," : "") + std::to_string(q.severities[i]);
    sql += ")";
  }
  if (!q.group_by.empty()) {
    sql += " GROUP BY ";
    for (size_t i = 0; i < q.group_by.size(); ++i) sql += (i ? ", " : "") + col(q.group_by[i]);
    sql += " ORDER BY ";
    for (size_t i = 0; i < q.group_by.size(); ++i) sql += (i ? ", " : "") + col(q.group_by[i]);
  }
  auto st = db.prepare(sql);
  if (!st) return st.error();
  st->bind(1, q.first_day).bind(2, q.last_day);
  for (auto& [i, v] : text_params) st->bind(i, v);
  return read_stats_rows(*st, q.group_by);
}

}  // namespace vantage::store
