#include "store/sqlite/rollups.h"

#include <algorithm>
#include <functional>
#include <set>

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
CREATE INDEX IF NOT EXISTS r_geo_by_geo ON r_geo(geo, grain, day);
CREATE TABLE IF NOT EXISTS r_region(
  grain INTEGER NOT NULL, day INTEGER NOT NULL, type_id INTEGER NOT NULL, geo TEXT NOT NULL,
  region TEXT NOT NULL, severity INTEGER NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY(geo, grain, day, type_id, region, severity)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS r_tag(
  grain INTEGER NOT NULL, day INTEGER NOT NULL, type_id INTEGER NOT NULL, tag TEXT NOT NULL,
  events INTEGER NOT NULL,
  PRIMARY KEY(grain, day, type_id, tag)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS r_tag_by_tag ON r_tag(tag, grain, day);
CREATE TABLE IF NOT EXISTS r_tag_geo(
  grain INTEGER NOT NULL, day INTEGER NOT NULL, type_id INTEGER NOT NULL, geo TEXT NOT NULL,
  tag TEXT NOT NULL, events INTEGER NOT NULL,
  PRIMARY KEY(grain, day, type_id, geo, tag)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS r_tag_geo_by_geo ON r_tag_geo(geo, grain, day);
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

// The month grain of a day-grain row: the same key with day = its month's first day.
constexpr int kDay = 0;
constexpr int kMonth = 1;

Status upsert_both_grains(Statement& st, DayNumber day, const std::function<void(Statement&)>& bind,
                          int64_t events, int events_index) {
  for (int grain : {kDay, kMonth}) {
    st.bind(1, grain).bind(2, grain == kDay ? day : month_start(day));
    bind(st);
    st.bind(events_index, events);
    if (auto s = st.run(); !s) return s;
  }
  return {};
}

}  // namespace

Status backfill_rollups(Db& db) {
  auto empty = db.prepare("SELECT NOT EXISTS(SELECT 1 FROM r_type)");
  if (!empty) return empty.error();
  auto has = empty->step();
  if (!has) return has.error();
  if (!*has || empty->int64(0) == 0) return {};
  // Month starts are computed in SQL: date(day * 86400, 'unixepoch', 'start of month').
  const char* month =
      "CAST(strftime('%s', date(day * 86400, 'unixepoch', 'start of month')) AS "
      "INTEGER) / 86400";
  std::string sql;
  for (int grain : {kDay, kMonth}) {
    std::string d = grain == kDay ? "day" : month;
    std::string g = std::to_string(grain);
    sql += "INSERT INTO r_type SELECT " + g + ", " + d +
           ", type_id, severity, sum(events) FROM stats GROUP BY 2, 3, 4;";
    sql += "INSERT INTO r_geo SELECT " + g + ", " + d +
           ", type_id, geo, severity, sum(events) FROM stats GROUP BY 2, 3, 4, 5;";
    sql += "INSERT INTO r_region SELECT " + g + ", " + d +
           ", type_id, geo, region, severity, sum(events) FROM stats GROUP BY 2, 3, 4, 5, 6;";
    sql += "INSERT INTO r_tag SELECT " + g + ", " + d +
           ", type_id, tag, sum(events) FROM stats_tags GROUP BY 2, 3, 4;";
    sql += "INSERT INTO r_tag_geo SELECT " + g + ", " + d +
           ", type_id, geo, tag, sum(events) FROM stats_tags GROUP BY 2, 3, 4, 5;";
  }
  return db.exec(sql.c_str());
}

Status RollupWriter::prepare(Db& db) {
  auto p = [&](Statement& out, const char* sql) -> Status {
    auto st = db.prepare(sql);
    if (!st) return st.error();
    out = std::move(*st);
    return {};
  };
  const char* tail = " ON CONFLICT DO UPDATE SET events = events + excluded.events";
  Status s;
  if (!(s = p(type_up_, (std::string("INSERT INTO r_type VALUES(?,?,?,?,?)") + tail).c_str())))
    return s;
  if (!(s = p(geo_up_, (std::string("INSERT INTO r_geo VALUES(?,?,?,?,?,?)") + tail).c_str())))
    return s;
  if (!(s = p(region_up_,
              (std::string("INSERT INTO r_region VALUES(?,?,?,?,?,?,?)") + tail).c_str())))
    return s;
  if (!(s = p(tag_up_, (std::string("INSERT INTO r_tag VALUES(?,?,?,?,?)") + tail).c_str())))
    return s;
  return p(tag_geo_up_, (std::string("INSERT INTO r_tag_geo VALUES(?,?,?,?,?,?)") + tail).c_str());
}

void RollupWriter::add(DayNumber day, int64_t type_id, const std::string& geo,
                       const std::string& region, uint8_t severity,
                       const std::vector<std::string>& tags) {
  type_[{day, type_id, severity}] += 1;
  geo_[{day, type_id, geo, severity}] += 1;
  region_[{day, type_id, geo, region, severity}] += 1;
  if (tags.empty()) {
    tag_[{day, type_id, std::string()}] += 1;
    tag_geo_[{day, type_id, geo, std::string()}] += 1;
  }
  for (const auto& t : tags) {
    tag_[{day, type_id, t}] += 1;
    tag_geo_[{day, type_id, geo, t}] += 1;
  }
}

Status RollupWriter::flush() {
  Status s;
  for (const auto& [k, n] : type_) {
    auto& [day, tid, sev] = k;
    if (!(s = upsert_both_grains(
              type_up_, day, [&](Statement& st) { st.bind(3, tid).bind(4, int64_t{sev}); }, n, 5)))
      return s;
  }
  for (const auto& [k, n] : geo_) {
    auto& [day, tid, geo, sev] = k;
    if (!(s = upsert_both_grains(
              geo_up_, day,
              [&](Statement& st) { st.bind(3, tid).bind(4, geo).bind(5, int64_t{sev}); }, n, 6)))
      return s;
  }
  for (const auto& [k, n] : region_) {
    auto& [day, tid, geo, region, sev] = k;
    if (!(s = upsert_both_grains(
              region_up_, day,
              [&](Statement& st) {
                st.bind(3, tid).bind(4, geo).bind(5, region).bind(6, int64_t{sev});
              },
              n, 7)))
      return s;
  }
  for (const auto& [k, n] : tag_) {
    auto& [day, tid, tag] = k;
    if (!(s = upsert_both_grains(
              tag_up_, day, [&](Statement& st) { st.bind(3, tid).bind(4, tag); }, n, 5)))
      return s;
  }
  for (const auto& [k, n] : tag_geo_) {
    auto& [day, tid, geo, tag] = k;
    if (!(s = upsert_both_grains(
              tag_geo_up_, day, [&](Statement& st) { st.bind(3, tid).bind(4, geo).bind(5, tag); },
              n, 6)))
      return s;
  }
  type_.clear();
  geo_.clear();
  region_.clear();
  tag_.clear();
  tag_geo_.clear();
  return {};
}

Result<RollupPlan> plan_rollup_query(const StatsQuery& q) {
  std::set<std::string> dims(q.group_by.begin(), q.group_by.end());
  if (!q.geo.empty()) dims.insert("geo");
  if (!q.region.empty()) dims.insert("region");
  if (!q.tag.empty()) dims.insert("tag");
  if (q.min_severity || !q.severities.empty()) dims.insert("severity");
  RollupPlan plan;
  if (q.org_id || dims.count("asn")) return plan;  // not a rollup query
  std::string table;
  if (dims.count("tag")) {
    for (const char* other : {"region", "severity"}) {
      if (dims.count(other)) {
        return Error::invalid(std::string("tag statistics cannot be combined with ") + other +
                              " (as a filter or a grouping)");
      }
    }
    table = dims.count("geo") ? "r_tag_geo" : "r_tag";
  } else if (dims.count("region")) {
    table = "r_region";
  } else if (dims.count("geo")) {
    table = "r_geo";
  } else {
    table = "r_type";
  }
  // Parameters are numbered from 101 so the caller's own ?1.. stay valid.
  int next = 101;
  std::string parts;
  auto part = [&](int grain, DayNumber first, DayNumber last) {
    if (first > last) return;
    if (!parts.empty()) parts += " UNION ALL ";
    parts += "SELECT * FROM " + table + " WHERE grain = " + std::to_string(grain) +
             " AND day BETWEEN ?" + std::to_string(next) + " AND ?" + std::to_string(next + 1);
    next += 2;
    plan.day_binds.push_back(first);
    plan.day_binds.push_back(last);
  };
  bool by_day = dims.count("day") > 0;
  DayNumber first_full = q.first_day == month_start(q.first_day)
                             ? q.first_day
                             : next_month_start(q.first_day);  // first whole month's start
  DayNumber end_full = month_start(q.last_day + 1);            // day after the last whole month
  if (by_day || first_full >= end_full) {
    part(kDay, q.first_day, q.last_day);
  } else {
    part(kDay, q.first_day, first_full - 1);
    part(kMonth, first_full, end_full - 1);
    part(kDay, end_full, q.last_day);
  }
  if (parts.empty()) parts = "SELECT * FROM " + table + " WHERE 0";  // an empty range
  plan.from = "(" + parts + ") r";
  return plan;
}

}  // namespace vantage::store
