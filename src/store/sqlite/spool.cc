#include "store/sqlite/spool.h"

#include <algorithm>
#include <charconv>
#include <string>

#include "common/equal_runs.h"
#include "common/radix_sort.h"

namespace vantage::store {

const char* const kSpoolSchema = R"sql(
CREATE TABLE IF NOT EXISTS store_meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS spool_runs(
  id INTEGER PRIMARY KEY, org_id INTEGER NOT NULL, day INTEGER NOT NULL, run INTEGER NOT NULL,
  summary BLOB NOT NULL, ids BLOB NOT NULL);
CREATE UNIQUE INDEX IF NOT EXISTS spool_runs_org ON spool_runs(org_id, day, run);
CREATE INDEX IF NOT EXISTS spool_runs_day ON spool_runs(day);
)sql";

const char* const kWatermarkSql =
    "(SELECT coalesce(max(value), 0) FROM store_meta WHERE key = 'spool_watermark')";

namespace {

constexpr const char* kWatermark = "spool_watermark";
constexpr const char* kNextRun = "spool_next_run";

void put_varint(uint64_t v, std::string& out) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

// Reads one varint at `pos`; false when the input ends inside it or it runs over 64 bits.
bool get_varint(std::string_view in, size_t& pos, uint64_t& v) {
  v = 0;
  for (int shift = 0; shift < 64; shift += 7) {
    if (pos >= in.size()) return false;
    auto byte = static_cast<uint8_t>(in[pos++]);
    v |= static_cast<uint64_t>(byte & 0x7f) << shift;
    if (!(byte & 0x80)) return true;
  }
  return false;
}

bool valid_filter(uint64_t f) {
  return f <= static_cast<uint64_t>(MatchFilter::kDomain);
}

// Calls `group` for each group of one run row; stops at damage in the summary or ids.
void decode_run(uint32_t org_id, DayNumber day, std::string_view summary, std::string_view ids,
                const std::function<void(const SpoolGroup&)>& group) {
  size_t pos = 0, id_pos = 0;
  while (pos < summary.size()) {
    uint64_t type_id, filter, count, bytes;
    if (!get_varint(summary, pos, type_id) || !get_varint(summary, pos, filter) ||
        !get_varint(summary, pos, count) || !get_varint(summary, pos, bytes) ||
        !valid_filter(filter) || bytes > ids.size() - id_pos) {
      return;
    }
    SpoolGroup g;
    g.org_id = org_id;
    g.day = day;
    g.type_id = static_cast<int64_t>(type_id);
    g.filter = static_cast<MatchFilter>(filter);
    g.count = static_cast<int64_t>(count);
    g.packed_ids = ids.substr(id_pos, bytes);
    id_pos += bytes;
    group(g);
  }
}

// Reads the next number of a routes array ("[49,180]") at `pos`; false at its end or at
// anything else than digits, commas and brackets.
bool next_route_code(std::string_view text, size_t& pos, uint64_t& code) {
  while (pos < text.size() && (text[pos] == '[' || text[pos] == ',' || text[pos] == ' ')) ++pos;
  if (pos >= text.size() || text[pos] < '0' || text[pos] > '9') return false;
  code = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    if (code > (UINT64_MAX - 9) / 10) return false;
    code = code * 10 + static_cast<uint64_t>(text[pos++] - '0');
  }
  return true;
}

void has_org_function(sqlite3_context* ctx, int argc, sqlite3_value** argv) {
  if (argc != 2) return sqlite3_result_int(ctx, 0);
  const auto* p = reinterpret_cast<const char*>(sqlite3_value_text(argv[0]));
  int n = sqlite3_value_bytes(argv[0]);
  auto org = static_cast<uint64_t>(sqlite3_value_int64(argv[1]));
  std::string_view text(p ? p : "", p ? static_cast<size_t>(n) : 0);
  size_t pos = 0;
  uint64_t code;
  while (next_route_code(text, pos, code)) {
    if ((code >> 2) == org) return sqlite3_result_int(ctx, 1);
    if ((code >> 2) > org) break;  // sorted by organisation
  }
  sqlite3_result_int(ctx, 0);
}

}  // namespace

Status register_spool_functions(Db& db) {
  int rc = sqlite3_create_function(db.raw(), "spool_has_org", 2,
                                   SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS, nullptr,
                                   has_org_function, nullptr, nullptr);
  if (rc != SQLITE_OK) return Error::internal("cannot register spool_has_org: " + db.last_error());
  return {};
}

std::string org_stats_source(uint32_t org_id) {
  std::string org = std::to_string(org_id);
  // `+day`: a day filter the caller puts on the result must not turn the tail (a rowid range)
  // into a scan of those days' events through the day index.
  return "(SELECT day, type_id, severity, events FROM org_stats WHERE org_id = " + org +
         " UNION ALL SELECT +day AS day, type_id, severity, 1 FROM events WHERE id > " +
         kWatermarkSql + " AND spool_has_org(routes, " + org + "))";
}

void sort_routes(std::vector<OrgRoute>& routes) {
  // The router hands most events' routes over in order already: a check is cheaper than a sort.
  if (!std::is_sorted(routes.begin(), routes.end())) std::sort(routes.begin(), routes.end());
  routes.erase(std::unique(routes.begin(), routes.end()), routes.end());
}

void encode_routes(const std::vector<OrgRoute>& sorted, std::string& out) {
  out.assign("[");
  char digits[24];
  for (const auto& r : sorted) {
    uint64_t code = (static_cast<uint64_t>(r.org_id) << 2) | static_cast<uint64_t>(r.filter);
    auto [end, ec] = std::to_chars(digits, digits + sizeof digits, code);
    if (out.size() > 1) out.push_back(',');
    out.append(digits, end);
  }
  out.push_back(']');
}

void decode_routes(std::string_view text, std::vector<OrgRoute>& out) {
  out.clear();
  size_t pos = 0;
  uint64_t code;
  while (next_route_code(text, pos, code)) {
    if ((code >> 2) > UINT32_MAX) break;
    out.push_back({static_cast<uint32_t>(code >> 2), static_cast<MatchFilter>(code & 3)});
  }
}

void SpoolGroup::for_each_id(const std::function<void(int64_t)>& id) const {
  if (packed_ids.empty()) {
    if (event_id) id(event_id);
    return;
  }
  size_t pos = 0;
  uint64_t v, last = 0;
  while (pos < packed_ids.size() && get_varint(packed_ids, pos, v)) {
    last += v;
    id(static_cast<int64_t>(last));
  }
}

Status SpoolWriter::prepare(Db& db) {
  db_ = &db;
  auto p = [&](Statement& out, const char* sql) -> Status {
    auto st = db.prepare(sql);
    if (!st) return st.error();
    out = std::move(*st);
    return {};
  };
  if (auto s = p(get_meta_, "SELECT value FROM store_meta WHERE key = ?"); !s) return s;
  if (auto s = p(set_meta_,
                 "INSERT INTO store_meta VALUES(?, ?) ON CONFLICT DO UPDATE SET value = "
                 "excluded.value");
      !s)
    return s;
  if (auto s = insert_run_.prepare(db, "spool_runs(org_id, day, run, summary, ids)", 5, ""); !s)
    return s;
  return upsert_org_stats_.prepare(db, "org_stats", 5,
                                   "ON CONFLICT DO UPDATE SET events = events + excluded.events");
}

Result<int64_t> SpoolWriter::meta(const char* key) {
  get_meta_.bind(1, std::string_view(key));
  auto has = get_meta_.step();
  if (!has) {
    get_meta_.reset();
    return has.error();
  }
  int64_t v = *has ? get_meta_.int64(0) : 0;
  get_meta_.reset();
  return v;
}

Status SpoolWriter::set_meta(const char* key, int64_t value) {
  set_meta_.bind(1, std::string_view(key)).bind(2, value);
  return set_meta_.run();
}

Result<int64_t> SpoolWriter::watermark() {
  return meta(kWatermark);
}

namespace {

// (organisation, day, type, filter) in one sortable word, when the values fit (they do for
// any real store: day numbers until 2149, up to 16,384 report types); else nullopt.
std::optional<uint64_t> pack_group(const SpoolEntry& e) {
  if (e.day < 0 || e.day > 0xffff || e.type_id < 0 || e.type_id > 0x3fff) return std::nullopt;
  return (static_cast<uint64_t>(e.org_id) << 32) | (static_cast<uint64_t>(e.day) << 16) |
         (static_cast<uint64_t>(e.type_id) << 2) | static_cast<uint64_t>(e.filter);
}

SpoolEntry unpack_group(const KeyValue& kv) {
  uint64_t k = kv.key;
  return {static_cast<uint32_t>(k >> 32), static_cast<DayNumber>((k >> 16) & 0xffff),
          static_cast<int64_t>((k >> 2) & 0x3fff), static_cast<MatchFilter>(k & 3),
          static_cast<int64_t>(kv.value)};
}

// (organisation, day, type, severity) in one word, when the values fit.
std::optional<uint64_t> pack_org_stat(const SpoolWriter::OrgStat& s) {
  if (s.day < 0 || s.day > 0xffff || s.type_id < 0 || s.type_id > 0x1fff || s.severity < 0 ||
      s.severity > 7) {
    return std::nullopt;
  }
  return (static_cast<uint64_t>(s.org_id) << 32) | (static_cast<uint64_t>(s.day) << 16) |
         (static_cast<uint64_t>(s.type_id) << 3) | static_cast<uint64_t>(s.severity);
}

SpoolWriter::OrgStat unpack_org_stat(uint64_t k) {
  return {static_cast<uint32_t>(k >> 32), static_cast<DayNumber>((k >> 16) & 0xffff),
          static_cast<int64_t>((k >> 3) & 0x1fff), static_cast<int64_t>(k & 7)};
}

}  // namespace

template <class EntryAt>
Status SpoolWriter::write_sorted(size_t n, EntryAt entry_at) {
  if (n == 0) return {};
  auto run = meta(kNextRun);
  if (!run) return run.error();
  insert_run_.start();
  for (size_t i = 0; i < n;) {
    // One row per (organisation, day); inside it one summary group per (type, filter).
    const SpoolEntry first = entry_at(i);
    summary_.clear();
    ids_.clear();
    size_t g = i;
    while (g < n) {
      SpoolEntry head = entry_at(g);
      if (head.org_id != first.org_id || head.day != first.day) break;
      size_t before = ids_.size();
      int64_t last = 0, count = 0;
      for (; g < n; ++g) {
        SpoolEntry e = entry_at(g);
        if (e.org_id != head.org_id || e.day != head.day || e.type_id != head.type_id ||
            e.filter != head.filter) {
          break;
        }
        if (count == 0 || e.event_id != last) {  // one entry per event id
          put_varint(static_cast<uint64_t>(e.event_id - last), ids_);
          last = e.event_id;
          ++count;
        }
      }
      put_varint(static_cast<uint64_t>(head.type_id), summary_);
      put_varint(static_cast<uint64_t>(head.filter), summary_);
      put_varint(static_cast<uint64_t>(count), summary_);
      put_varint(ids_.size() - before, summary_);
    }
    insert_run_.bind(1, static_cast<int64_t>(first.org_id))
        .bind(2, first.day)
        .bind(3, *run)
        .bind_blob(4, summary_)
        .bind_blob(5, ids_);
    if (auto st = insert_run_.end_row(); !st) return st;
    i = g;
  }
  if (auto st = insert_run_.finish(); !st) return st;
  return set_meta(kNextRun, *run + 1);
}

Status SpoolWriter::write_entries(std::vector<SpoolEntry>& entries) {
  std::sort(entries.begin(), entries.end(),
            [](const SpoolEntry& a, const SpoolEntry& b) { return a.key() < b.key(); });
  return write_sorted(entries.size(), [&](size_t i) { return entries[i]; });
}

template <class StatAt>
Status SpoolWriter::upsert_org_stats(size_t n, StatAt stat_at) {
  upsert_org_stats_.start();
  auto written = for_each_equal_run(n, stat_at, [&](const OrgStat& k, int64_t count) {
    upsert_org_stats_.bind(1, k.day)
        .bind(2, static_cast<int64_t>(k.org_id))
        .bind(3, k.type_id)
        .bind(4, k.severity)
        .bind(5, count);
    return upsert_org_stats_.end_row();
  });
  return written ? upsert_org_stats_.finish() : written;
}

Status SpoolWriter::add_org_stats(std::vector<OrgStat>& counts) {
  std::sort(counts.begin(), counts.end());
  return upsert_org_stats(counts.size(), [&](size_t i) { return counts[i]; });
}

void SpoolWriter::begin_fold() {
  end_fold();
}

void SpoolWriter::end_fold() {
  // Memory for a fold is large and needed rarely: give it back.
  packed_ = stats_packed_ = true;
  keyed_ = {};
  scratch_ = {};
  entries_ = {};
  org_keys_ = {};
  org_scratch_ = {};
  org_stats_ = {};
}

void SpoolWriter::add_tail_event(int64_t event_id, DayNumber day, int64_t type_id, int64_t severity,
                                 std::string_view routes) {
  decode_routes(routes, routes_);
  add_tail_event(event_id, day, type_id, severity, std::span<const OrgRoute>(routes_));
}

void SpoolWriter::add_tail_event(int64_t event_id, DayNumber day, int64_t type_id, int64_t severity,
                                 std::span<const OrgRoute> routes) {
  // Entries and counters are kept packed into words (16 and 8 bytes each) when their values
  // fit -- always, in practice -- and as structs otherwise.
  auto add_entry = [&](const SpoolEntry& e) {
    if (packed_) {
      if (auto k = pack_group(e)) {
        keyed_.push_back({*k, static_cast<uint64_t>(e.event_id)});
        return;
      }
      packed_ = false;
      for (const auto& kv : keyed_) entries_.push_back(unpack_group(kv));
      keyed_ = {};
    }
    entries_.push_back(e);
  };
  auto add_stat = [&](const OrgStat& s) {
    if (stats_packed_) {
      if (auto k = pack_org_stat(s)) {
        org_keys_.push_back(*k);
        return;
      }
      stats_packed_ = false;
      for (uint64_t k : org_keys_) org_stats_.push_back(unpack_org_stat(k));
      org_keys_ = {};
    }
    org_stats_.push_back(s);
  };
  for (size_t i = 0; i < routes.size(); ++i) {
    const OrgRoute& r = routes[i];
    add_entry({r.org_id, day, type_id, r.filter, event_id});
    // An organisation counts once per event, however many filters matched it.
    if (i == 0 || r.org_id != routes[i - 1].org_id) add_stat({r.org_id, day, type_id, severity});
  }
}

Status SpoolWriter::finish_fold(int64_t last_event_id) {
  Status written;
  if (packed_) {
    // The tail is read in id order and the sort is stable: ids stay ascending in each group.
    radix_sort_by_key(keyed_, scratch_);
    scratch_ = {};
    written = write_sorted(keyed_.size(), [&](size_t i) { return unpack_group(keyed_[i]); });
  } else {
    written = write_entries(entries_);
  }
  keyed_ = {};
  entries_ = {};
  if (written.ok()) {
    if (stats_packed_) {
      radix_sort(org_keys_, org_scratch_);
      written = upsert_org_stats(org_keys_.size(),
                                 [&](size_t i) { return unpack_org_stat(org_keys_[i]); });
    } else {
      written = add_org_stats(org_stats_);
    }
  }
  if (written.ok()) written = set_meta(kWatermark, last_event_id);
  end_fold();
  return written;
}

namespace {

// The tail's entries (events above the watermark) of those days, one group per route to an
// organisation that `wanted` keeps.
Status for_each_in_tail(Db& db, DayNumber first_day, DayNumber last_day,
                        const std::function<bool(uint32_t)>& wanted,
                        const std::function<void(const SpoolGroup&)>& group) {
  // `+day`: the tail is a rowid range; an index on day would read every event of those days.
  auto tail = db.prepare(std::string("SELECT id, day, type_id, routes FROM events WHERE id > ") +
                         kWatermarkSql + " AND +day >= ?1 AND +day <= ?2");
  if (!tail) return tail.error();
  tail->bind(1, first_day).bind(2, last_day);
  std::vector<OrgRoute> routes;
  while (true) {
    auto has = tail->step();
    if (!has) return has.error();
    if (!*has) break;
    decode_routes(tail->text(3), routes);
    SpoolGroup g;
    g.event_id = tail->int64(0);
    g.day = static_cast<DayNumber>(tail->int64(1));
    g.type_id = tail->int64(2);
    g.count = 1;
    for (const auto& r : routes) {
      if (!wanted(r.org_id)) continue;
      g.org_id = r.org_id;
      g.filter = r.filter;
      group(g);
    }
  }
  return {};
}

}  // namespace

Status SpoolReader::for_each(DayNumber first_day, DayNumber last_day,
                             std::optional<uint32_t> org_id,
                             const std::function<void(const SpoolGroup&)>& group) {
  if (auto st = for_each_run(first_day, last_day, org_id, group); !st) return st;
  return for_each_in_tail(
      db_, first_day, last_day, [&](uint32_t org) { return !org_id || org == *org_id; }, group);
}

Status SpoolReader::for_each_run(DayNumber first_day, DayNumber last_day,
                                 std::optional<uint32_t> org_id,
                                 const std::function<void(const SpoolGroup&)>& group) {
  auto runs = db_.prepare(
      org_id ? "SELECT org_id, day, summary, ids FROM spool_runs WHERE org_id = ?3 AND day >= ?1 "
               "AND day <= ?2"
             : "SELECT org_id, day, summary, ids FROM spool_runs WHERE day >= ?1 AND day <= ?2");
  if (!runs) return runs.error();
  runs->bind(1, first_day).bind(2, last_day);
  if (org_id) runs->bind(3, *org_id);
  while (true) {
    auto has = runs->step();
    if (!has) return has.error();
    if (!*has) break;
    decode_run(static_cast<uint32_t>(runs->int64(0)), static_cast<DayNumber>(runs->int64(1)),
               runs->text(2), runs->text(3), group);
  }
  return {};
}

Status SpoolReader::for_each_of_orgs(DayNumber day, std::span<const uint32_t> sorted_org_ids,
                                     const std::function<void(const SpoolGroup&)>& group) {
  if (sorted_org_ids.empty()) return {};
  if (auto st = for_each_run_of_orgs(day, sorted_org_ids, group); !st) return st;
  return for_each_in_tail(
      db_, day, day,
      [&](uint32_t org) {
        return std::binary_search(sorted_org_ids.begin(), sorted_org_ids.end(), org);
      },
      group);
}

Status SpoolReader::for_each_run_of_orgs(DayNumber day, std::span<const uint32_t> sorted_org_ids,
                                         const std::function<void(const SpoolGroup&)>& group) {
  if (sorted_org_ids.empty()) return {};
  auto runs = db_.prepare("SELECT summary, ids FROM spool_runs WHERE org_id = ?1 AND day = ?2");
  if (!runs) return runs.error();
  for (uint32_t org_id : sorted_org_ids) {
    runs->bind(1, org_id).bind(2, day);
    while (true) {
      auto has = runs->step();
      if (!has) return has.error();
      if (!*has) break;
      decode_run(org_id, day, runs->text(0), runs->text(1), group);
    }
    runs->reset();
  }
  return {};
}

}  // namespace vantage::store
