#include "remediation/tracker.h"

#include <algorithm>
#include <map>
#include <unordered_map>

#include "common/status_macros.h"
#include "core/event.h"

namespace vantage::remediation {

namespace {

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS issues(
  id INTEGER PRIMARY KEY,
  org_id INTEGER NOT NULL,
  type TEXT NOT NULL,
  subject TEXT NOT NULL,
  ip TEXT NOT NULL DEFAULT '',
  port INTEGER NOT NULL DEFAULT 0,
  domain TEXT NOT NULL DEFAULT '',
  geo TEXT NOT NULL DEFAULT '',
  sector TEXT NOT NULL DEFAULT '',
  UNIQUE(org_id, type, subject));
CREATE INDEX IF NOT EXISTS issues_by_type ON issues(type);
CREATE TABLE IF NOT EXISTS sightings(
  issue_id INTEGER NOT NULL,
  day INTEGER NOT NULL,
  PRIMARY KEY(issue_id, day)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS episodes(
  issue_id INTEGER NOT NULL,
  first_day INTEGER NOT NULL,
  last_day INTEGER NOT NULL,
  fixed_day INTEGER,
  confirmed_day INTEGER,
  PRIMARY KEY(issue_id, first_day)) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS episodes_by_fixed ON episodes(fixed_day);
CREATE TABLE IF NOT EXISTS day_counts(day INTEGER PRIMARY KEY, events INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS cycle_marks(type TEXT PRIMARY KEY, mark TEXT NOT NULL);
)sql";

// "ip:port", "[v6]:port", "ip" or the domain; empty when the event names no subject.
std::string subject_of(const std::string& ip, int port, const std::string& domain) {
  if (!ip.empty()) {
    if (port <= 0) return ip;
    return (ip.find(':') != std::string::npos ? "[" + ip + "]" : ip) + ":" + std::to_string(port);
  }
  return domain;
}

std::string placeholders(size_t n) {
  std::string out;
  for (size_t i = 0; i < n; ++i) out += i ? ",?" : "?";
  return out;
}

}  // namespace

std::optional<Dimension> parse_dimension(std::string_view s) {
  if (s.empty() || s == "none") return Dimension::kNone;
  if (s == "org") return Dimension::kOrg;
  if (s == "type") return Dimension::kType;
  if (s == "geo") return Dimension::kGeo;
  if (s == "sector") return Dimension::kSector;
  return std::nullopt;
}

const char* dimension_name(Dimension d) {
  switch (d) {
    case Dimension::kNone: return "none";
    case Dimension::kOrg: return "org";
    case Dimension::kType: return "type";
    case Dimension::kGeo: return "geo";
    case Dimension::kSector: return "sector";
  }
  return "none";
}

Tracker::Tracker(std::unique_ptr<store::Db> db, TrackerOptions options)
    : db_(std::move(db)), log_(std::make_unique<ScanCycleLog>(*db_)), options_(std::move(options)) {
  if (options_.fixed_after < 1) options_.fixed_after = 1;
}

Tracker::~Tracker() = default;

Result<std::unique_ptr<Tracker>> Tracker::open(const std::string& path, TrackerOptions options) {
  VANTAGE_ASSIGN_OR_RETURN(auto db, store::Db::open(path));
  std::unique_ptr<Tracker> t(new Tracker(std::move(db), std::move(options)));
  VANTAGE_RETURN_IF_ERROR(t->migrate());
  return t;
}

Status Tracker::migrate() {
  VANTAGE_RETURN_IF_ERROR(db_->exec("PRAGMA journal_mode=WAL"));
  return db_->transaction([&]() -> Status {
    VANTAGE_RETURN_IF_ERROR(db_->exec(kSchema));
    return db_->exec(ScanCycleLog::schema());
  });
}

Result<std::optional<DayNumber>> Tracker::as_of() {
  VANTAGE_ASSIGN_OR_RETURN(auto st, db_->prepare("SELECT value FROM meta WHERE name='as_of'"));
  VANTAGE_ASSIGN_OR_RETURN(bool row, st.step());
  if (!row) return std::optional<DayNumber>();
  return std::optional<DayNumber>(static_cast<DayNumber>(st.int64(0)));
}

Result<int64_t> Tracker::read_day(store::EventStore& store, const core::Catalogue& catalogue,
                                  DayNumber day, std::set<int64_t>& touched) {
  VANTAGE_ASSIGN_OR_RETURN(auto keys, store.report_keys(day, std::nullopt));
  VANTAGE_ASSIGN_OR_RETURN(
      auto upsert,
      db_->prepare("INSERT INTO issues(org_id, type, subject, ip, port, domain, geo, sector) "
                   "VALUES(?,?,?,?,?,?,?,?) ON CONFLICT(org_id, type, subject) DO UPDATE SET "
                   "geo=excluded.geo, sector=excluded.sector RETURNING id"));
  VANTAGE_ASSIGN_OR_RETURN(auto sight,
                           db_->prepare("INSERT OR IGNORE INTO sightings(issue_id, day) "
                                        "VALUES(?,?)"));
  int64_t added = 0;
  std::unordered_map<std::string, int64_t> ids;  // org/type/subject -> issue id, this day
  core::Event event;
  // The keys to read, with their types, in one bulk read (report_keys' order is scan_reports').
  std::vector<store::ReportKey> wanted;
  std::vector<const core::ReportType*> types;
  for (const auto& key : keys) {
    if (!options_.types.empty() &&
        std::find(options_.types.begin(), options_.types.end(), key.type) == options_.types.end())
      continue;
    const core::ReportType* type = catalogue.find(key.type);
    if (!type) continue;  // a type this build does not know: nothing to decode it with
    wanted.push_back(key);
    types.push_back(type);
  }
  Status failed;
  auto st =
      store.scan_reports(wanted, [&](const store::ReportKey& key, const store::StoredEvent& e) {
        const core::ReportType* type = types[static_cast<size_t>(&key - wanted.data())];
        int port = 0;
        std::string domain, sector;
        if (event.decode_into(type, e.row).ok()) {
          if (auto p = event.port()) port = *p;
          domain = std::string(event.hostname());
          sector = std::string(event.sector());
        }
        std::string subject = subject_of(e.ip, port, domain);
        if (subject.empty()) return true;  // nothing to track: no address, no domain
        std::string k = std::to_string(key.org_id) + "\x1f" + key.type + "\x1f" + subject;
        auto it = ids.find(k);
        if (it == ids.end()) {
          upsert.reset();
          upsert.bind(1, static_cast<int64_t>(key.org_id)).bind(2, key.type).bind(3, subject);
          upsert.bind(4, e.ip).bind(5, static_cast<int64_t>(port));
          upsert.bind(6, e.ip.empty() ? domain : std::string()).bind(7, e.geo).bind(8, sector);
          auto row = upsert.step();
          if (!row || !*row) {
            failed = row ? Status(Error::internal("issue upsert returned no id")) : row.status();
            return false;
          }
          it = ids.emplace(k, upsert.int64(0)).first;
          upsert.reset();
        }
        sight.reset();
        sight.bind(1, it->second).bind(2, static_cast<int64_t>(day));
        if (auto r = sight.run(); !r) {
          failed = r;
          return false;
        }
        if (db_->changes() > 0) {
          ++added;
          touched.insert(it->second);
        }
        return true;
      });
  if (!failed.ok()) return failed.error();
  VANTAGE_RETURN_IF_ERROR(st);
  return added;
}

Status Tracker::rederive(ScanCycles& cycles, const std::string& type,
                         const std::vector<int64_t>& ids, DayNumber as_of) {
  VANTAGE_ASSIGN_OR_RETURN(auto days, cycles.cycles(type, 0, as_of));
  bool scoped = std::any_of(days.begin(), days.end(), [](const auto& d) { return !d.everything; });
  std::vector<DayNumber> all_days;  // valid when no cycle is scoped: the same for every issue
  for (const auto& d : days) all_days.push_back(d.day);
  VANTAGE_ASSIGN_OR_RETURN(auto ip_of, db_->prepare("SELECT ip FROM issues WHERE id=?"));
  VANTAGE_ASSIGN_OR_RETURN(auto seen,
                           db_->prepare("SELECT day FROM sightings WHERE issue_id=? ORDER BY day"));
  VANTAGE_ASSIGN_OR_RETURN(auto drop, db_->prepare("DELETE FROM episodes WHERE issue_id=?"));
  VANTAGE_ASSIGN_OR_RETURN(auto put, db_->prepare("INSERT INTO episodes(issue_id, first_day, "
                                                  "last_day, fixed_day, confirmed_day) "
                                                  "VALUES(?,?,?,?,?)"));
  std::vector<DayNumber> sightings, covering;
  for (int64_t id : ids) {
    sightings.clear();
    seen.reset();
    seen.bind(1, id);
    while (true) {
      VANTAGE_ASSIGN_OR_RETURN(bool row, seen.step());
      if (!row) break;
      sightings.push_back(static_cast<DayNumber>(seen.int64(0)));
    }
    seen.reset();
    const std::vector<DayNumber>* cyc = &all_days;
    if (scoped) {
      ip_of.reset();
      ip_of.bind(1, id);
      VANTAGE_ASSIGN_OR_RETURN(bool row, ip_of.step());
      std::optional<IpAddress> ip;
      if (row) {
        if (auto a = IpAddress::parse(ip_of.text(0))) ip = *a;
      }
      ip_of.reset();
      covering.clear();
      for (const auto& d : days)
        if (d.covers(ip)) covering.push_back(d.day);
      cyc = &covering;
    }
    auto episodes = derive_episodes(sightings, *cyc, options_.fixed_after, as_of);
    drop.reset();
    drop.bind(1, id);
    VANTAGE_RETURN_IF_ERROR(drop.run());
    for (const auto& e : episodes) {
      put.reset();
      put.bind(1, id).bind(2, static_cast<int64_t>(e.first_day));
      put.bind(3, static_cast<int64_t>(e.last_day));
      if (e.fixed_day) {
        put.bind(4, static_cast<int64_t>(*e.fixed_day));
        put.bind(5, static_cast<int64_t>(*e.confirmed_day));
      } else {
        put.bind_null(4).bind_null(5);
      }
      VANTAGE_RETURN_IF_ERROR(put.run());
    }
  }
  return {};
}

Result<UpdateSummary> Tracker::update(store::EventStore& store, const core::Catalogue& catalogue,
                                      DayNumber as_of) {
  UpdateSummary summary;
  summary.as_of = as_of;
  // 1. Which days changed: the store's per-day event counts against the ones last read.
  store::StatsQuery q;
  q.first_day = 0;
  q.last_day = as_of;
  q.group_by = {"day"};
  VANTAGE_ASSIGN_OR_RETURN(auto rows, store.stats(q));
  std::map<DayNumber, int64_t> counts;
  for (const auto& r : rows)
    if (auto d = parse_date(r.keys[0])) counts[*d] = r.events;
  std::map<DayNumber, int64_t> known;
  {
    VANTAGE_ASSIGN_OR_RETURN(auto st, db_->prepare("SELECT day, events FROM day_counts"));
    while (true) {
      VANTAGE_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      known[static_cast<DayNumber>(st.int64(0))] = st.int64(1);
    }
  }
  // 2. Read those days, one transaction each (a crash loses at most the day in hand, which
  // the next update reads again: sightings are idempotent).
  std::set<int64_t> touched;
  for (const auto& entry : counts) {
    // Named copies, not a structured binding: the lambda below captures them (C++20 allows
    // capturing bindings, clang 14 of the fuzz build does not).
    const auto day = entry.first;
    const auto events = entry.second;
    auto k = known.find(day);
    if (k != known.end() && k->second == events) continue;
    VANTAGE_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
      VANTAGE_ASSIGN_OR_RETURN(int64_t added, read_day(store, catalogue, day, touched));
      summary.sightings_added += added;
      VANTAGE_ASSIGN_OR_RETURN(auto put, db_->prepare("INSERT OR REPLACE INTO day_counts(day, "
                                                      "events) VALUES(?,?)"));
      put.bind(1, static_cast<int64_t>(day)).bind(2, events);
      return put.run();
    }));
    ++summary.days_read;
  }
  // 3. Re-derive episodes, type by type, in one transaction.
  EventDayCycles event_days(store);
  CycleSources cycles(options_.cycle_source, *log_, event_days);
  VANTAGE_RETURN_IF_ERROR(db_->transaction([&]() -> Status {
    std::map<std::string, std::set<int64_t>> by_type;  // issues to re-derive, by type
    {
      VANTAGE_ASSIGN_OR_RETURN(auto st, db_->prepare("SELECT DISTINCT type FROM issues"));
      while (true) {
        VANTAGE_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        by_type[std::string(st.text(0))];
      }
    }
    {
      // The open episodes: a new day may fix them.
      VANTAGE_ASSIGN_OR_RETURN(auto st, db_->prepare("SELECT i.type, i.id FROM episodes e JOIN "
                                                     "issues i ON i.id = e.issue_id WHERE "
                                                     "e.fixed_day IS NULL"));
      while (true) {
        VANTAGE_ASSIGN_OR_RETURN(bool row, st.step());
        if (!row) break;
        by_type[std::string(st.text(0))].insert(st.int64(1));
      }
    }
    if (!touched.empty()) {
      VANTAGE_ASSIGN_OR_RETURN(auto st, db_->prepare("SELECT type FROM issues WHERE id=?"));
      for (int64_t id : touched) {
        st.reset();
        st.bind(1, id);
        VANTAGE_ASSIGN_OR_RETURN(bool row, st.step());
        if (row) by_type[std::string(st.text(0))].insert(id);
      }
      st.reset();
    }
    VANTAGE_ASSIGN_OR_RETURN(auto get_mark,
                             db_->prepare("SELECT mark FROM cycle_marks WHERE type=?"));
    VANTAGE_ASSIGN_OR_RETURN(auto set_mark, db_->prepare("INSERT OR REPLACE INTO "
                                                         "cycle_marks(type, mark) VALUES(?,?)"));
    VANTAGE_ASSIGN_OR_RETURN(auto all_of_type, db_->prepare("SELECT id FROM issues WHERE type=?"));
    for (auto& [type, ids] : by_type) {
      // A changed set of cycles can move any episode of the type (a late-recorded scan falls
      // between old sightings): then every issue of the type is re-derived.
      VANTAGE_ASSIGN_OR_RETURN(std::string mark, cycles.mark(type));
      mark += "|" + std::to_string(options_.fixed_after) + "|" +
              cycle_source_name(options_.cycle_source);
      get_mark.reset();
      get_mark.bind(1, type);
      VANTAGE_ASSIGN_OR_RETURN(bool has, get_mark.step());
      bool changed = !has || get_mark.text(0) != mark;
      get_mark.reset();
      if (changed) {
        all_of_type.reset();
        all_of_type.bind(1, type);
        while (true) {
          VANTAGE_ASSIGN_OR_RETURN(bool row, all_of_type.step());
          if (!row) break;
          ids.insert(all_of_type.int64(0));
        }
        all_of_type.reset();
      }
      if (!ids.empty()) {
        std::vector<int64_t> list(ids.begin(), ids.end());
        VANTAGE_RETURN_IF_ERROR(rederive(cycles, type, list, as_of));
        summary.issues_rederived += static_cast<int64_t>(list.size());
      }
      set_mark.reset();
      set_mark.bind(1, type).bind(2, mark);
      VANTAGE_RETURN_IF_ERROR(set_mark.run());
    }
    VANTAGE_ASSIGN_OR_RETURN(
        auto put, db_->prepare("INSERT OR REPLACE INTO meta(name, value) VALUES('as_of', "
                               "?)"));
    put.bind(1, static_cast<int64_t>(as_of));
    return put.run();
  }));
  return summary;
}

Result<std::vector<IssueRow>> Tracker::issues(const IssueQuery& q) {
  VANTAGE_ASSIGN_OR_RETURN(auto asof, as_of());
  DayNumber ref = asof ? *asof : today();
  std::string sql =
      "SELECT i.id, i.org_id, i.type, i.subject, i.ip, i.port, i.domain, i.geo, i.sector, "
      "e.first_day, e.last_day, e.fixed_day, e.confirmed_day FROM episodes e JOIN issues i ON "
      "i.id = e.issue_id WHERE 1";
  if (q.org_id) sql += " AND i.org_id = ?";
  if (q.status == IssueStatus::kOpen) sql += " AND e.fixed_day IS NULL";
  if (q.status == IssueStatus::kFixed) sql += " AND e.fixed_day IS NOT NULL";
  if (!q.types.empty()) sql += " AND i.type IN (" + placeholders(q.types.size()) + ")";
  if (!q.geo.empty()) sql += " AND i.geo = ?";
  sql +=
      " ORDER BY e.fixed_day IS NOT NULL, e.first_day, i.type, i.subject, i.org_id LIMIT ? "
      "OFFSET ?";
  VANTAGE_ASSIGN_OR_RETURN(auto st, db_->prepare(sql));
  int n = 0;
  if (q.org_id) st.bind(++n, static_cast<int64_t>(*q.org_id));
  for (const auto& t : q.types) st.bind(++n, t);
  if (!q.geo.empty()) st.bind(++n, q.geo);
  st.bind(n + 1, q.limit).bind(n + 2, q.offset);
  std::vector<IssueRow> out;
  while (true) {
    VANTAGE_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    IssueRow r;
    r.issue_id = st.int64(0);
    r.org_id = static_cast<uint32_t>(st.int64(1));
    r.type = st.text(2);
    r.subject = st.text(3);
    r.ip = st.text(4);
    r.port = static_cast<int>(st.int64(5));
    r.domain = st.text(6);
    r.geo = st.text(7);
    r.sector = st.text(8);
    r.episode.first_day = static_cast<DayNumber>(st.int64(9));
    r.episode.last_day = static_cast<DayNumber>(st.int64(10));
    if (!st.is_null(11)) {
      r.episode.fixed_day = static_cast<DayNumber>(st.int64(11));
      r.episode.confirmed_day = static_cast<DayNumber>(st.int64(12));
    }
    r.days_open = r.episode.days_open(ref);
    out.push_back(std::move(r));
  }
  return out;
}

Result<std::vector<GroupDistribution>> Tracker::distributions(const DistributionQuery& q) {
  VANTAGE_ASSIGN_OR_RETURN(auto asof, as_of());
  const int64_t ref = asof ? *asof : today();
  std::string key = "''";
  switch (q.group) {
    case Dimension::kNone: key = "''"; break;
    case Dimension::kOrg: key = "CAST(i.org_id AS TEXT)"; break;
    case Dimension::kType: key = "i.type"; break;
    case Dimension::kGeo: key = "i.geo"; break;
    case Dimension::kSector: key = "i.sector"; break;
  }
  std::string filters;
  if (q.org_id) filters += " AND i.org_id = ?";
  if (!q.types.empty()) filters += " AND i.type IN (" + placeholders(q.types.size()) + ")";
  if (!q.geo.empty()) filters += " AND i.geo = ?";
  auto bind_filters = [&](store::Statement& st, int& n) {
    if (q.org_id) st.bind(++n, static_cast<int64_t>(*q.org_id));
    for (const auto& t : q.types) st.bind(++n, t);
    if (!q.geo.empty()) st.bind(++n, q.geo);
  };
  std::map<std::string, std::pair<std::map<int64_t, int64_t>, std::map<int64_t, int64_t>>> groups;
  {
    VANTAGE_ASSIGN_OR_RETURN(
        auto st, db_->prepare("SELECT " + key +
                              ", e.fixed_day - e.first_day, count(*) FROM episodes e JOIN issues "
                              "i ON i.id = e.issue_id WHERE e.fixed_day BETWEEN ? AND ?" +
                              filters + " GROUP BY 1, 2"));
    int n = 0;
    st.bind(1, static_cast<int64_t>(q.first_day)).bind(2, static_cast<int64_t>(q.last_day));
    n = 2;
    bind_filters(st, n);
    while (true) {
      VANTAGE_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      groups[std::string(st.text(0))].first[st.int64(1)] += st.int64(2);
    }
  }
  {
    VANTAGE_ASSIGN_OR_RETURN(
        auto st, db_->prepare("SELECT " + key +
                              ", ? - e.first_day, count(*) FROM episodes e JOIN issues i ON i.id "
                              "= e.issue_id WHERE e.fixed_day IS NULL" +
                              filters + " GROUP BY 1, 2"));
    int n = 0;
    st.bind(++n, ref);
    bind_filters(st, n);
    while (true) {
      VANTAGE_ASSIGN_OR_RETURN(bool row, st.step());
      if (!row) break;
      groups[std::string(st.text(0))].second[st.int64(1)] += st.int64(2);
    }
  }
  std::vector<GroupDistribution> out;
  for (const auto& [k, maps] : groups) out.push_back({k, summarise(maps.first, maps.second)});
  return out;
}

}  // namespace vantage::remediation
