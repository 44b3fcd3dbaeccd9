#include "store/copy.h"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/strings.h"
#include "common/time.h"

namespace vantage::store {

namespace {

constexpr size_t kBatchOccurrences = 20000;
constexpr int64_t kPageEvents = 5000;

// Every day a store may hold statistics for (1970-01-01 .. 2999-12-31).
constexpr DayNumber kFirstDay = 0;
const DayNumber kLastDay = days_from_civil(2999, 12, 31);

// The statistics groupings that together are everything a store counts: stats(), the
// dashboard and the api2 aggregates answer from these (or coarser) groups.
const std::vector<std::string> kGroups = {"day", "type", "geo", "region", "asn", "severity"};
const std::vector<std::string> kTagGroups = {"day", "type", "geo", "tag"};
const std::vector<std::string> kOrgGroups = {"day", "type", "severity"};

EventRecord occurrence(const StoredEvent& e, UnixSeconds ts) {
  EventRecord r;
  r.day = e.day;
  r.type = e.type;
  r.event_key = e.event_key;
  r.timestamp = ts;
  r.ip = e.ip;
  r.asn = e.asn;
  r.geo = e.geo;
  r.region = e.region;
  r.severity = e.severity;
  r.tag = e.tag;
  r.row = e.row;
  return r;
}

// Every event up to the store's newest (as it is when called) in id order with its routes, a
// page at a time. Each page reads an id window (after, after + window]: a cluster store
// aggregates the events of the window only, where an open-ended page would aggregate every
// event after the cursor (quadratic over a whole store). The window doubles while pages come
// back short -- ids of bus-fed rows leave wide gaps -- and halves when one fills up.
Status for_each_event(
    EventStore& store,
    const std::function<bool(const StoredEvent&, const std::vector<OrgRoute>&)>& event) {
  auto head = store.last_event_id();
  if (!head) return head.error();
  TailQuery q;
  q.limit = kPageEvents;
  int64_t window = kPageEvents * 4;
  while (q.after_id < *head) {
    q.through_id = *head - q.after_id > window ? q.after_id + window : *head;
    bool stopped = false;
    auto page = store.read_after(q, [&](const StoredEvent& e, const std::vector<OrgRoute>& r) {
      if (!event(e, r)) stopped = true;
      return !stopped;
    });
    if (!page) return page.error();
    if (stopped) return {};
    if (page->examined_to <= q.after_id) {
      // No event ends inside the window (the segment store's ids are byte offsets, and a
      // window may fall inside one record): widen it, unless it already reaches the head.
      if (q.through_id >= *head || window >= (int64_t{1} << 61)) {
        return Error::internal("the store's read_after did not move past id " +
                               std::to_string(q.after_id));
      }
      window *= 2;
      continue;
    }
    q.after_id = page->examined_to;
    if (page->events >= q.limit) {
      window = std::max<int64_t>(window / 2, kPageEvents);
    } else if (window < (int64_t{1} << 61)) {
      window *= 2;
    }
  }
  return {};
}

Result<std::vector<StatsRow>> stats_of(EventStore& store, const std::vector<std::string>& groups,
                                       DayNumber first_day, DayNumber last_day,
                                       std::optional<uint32_t> org_id = std::nullopt) {
  StatsQuery q;
  q.first_day = first_day;
  q.last_day = last_day;
  q.group_by = groups;
  q.org_id = org_id;
  return store.stats(q);
}

Result<std::vector<StatsRow>> all_stats(EventStore& store, const std::vector<std::string>& groups,
                                        std::optional<uint32_t> org_id = std::nullopt) {
  return stats_of(store, groups, kFirstDay, kLastDay, org_id);
}

Result<DayNumber> row_day(const StatsRow& r) {
  if (r.keys.empty()) return Error::internal("a statistics row without its day");
  return parse_date(r.keys[0]);
}

template <typename T>
Result<T> number(std::string_view text, const char* what) {
  auto v = parse_uint(text);
  if (!v || *v > std::numeric_limits<T>::max()) {
    return Error::internal(std::string("a statistics row with a bad ") + what + " '" +
                           std::string(text) + "'");
  }
  return static_cast<T>(*v);
}

// The days with statistics but no events: retention dropped their events, their counters stay.
// Refused when an event is older than such a day (late events written after retention ran):
// the target, told of dropped days, would not count events below them (a cluster store's
// retention cutoff).
Result<std::set<DayNumber>> dropped_days(EventStore& from) {
  auto days = all_stats(from, {"day"});
  if (!days) return days.error();
  std::set<DayNumber> dropped;
  std::optional<DayNumber> oldest_event_day;
  for (const auto& r : *days) {
    auto d = row_day(r);
    if (!d) return d.error();
    EventQuery q;
    q.first_day = q.last_day = *d;
    q.limit = 1;
    auto any = from.query(q);
    if (!any) return any.error();
    if (any->empty()) {
      dropped.insert(*d);
    } else if (!oldest_event_day || *d < *oldest_event_day) {
      oldest_event_day = *d;
    }
  }
  if (!dropped.empty() && oldest_event_day && *oldest_event_day < *dropped.rbegin()) {
    return Error{ErrorCode::kFailedPrecondition,
                 "the source holds events of " + format_date(*oldest_event_day) + ", older than " +
                     format_date(*dropped.rbegin()) +
                     ", a day whose events retention dropped (late events stored after "
                     "retention ran); let retention drop them, then migrate"};
  }
  return dropped;
}

// Imports the source's statistics of the dropped days into the target: each day's groups and
// tag groups (one query each: memory bounded by a day), then the organisations' counters, each
// organisation's over all those days in one query, handed over in parts of about
// kOrgRowsPerImport rows (a day's statistics may come in several parts).
constexpr size_t kOrgRowsPerImport = 100000;

Status import_dropped_days(EventStore& from, EventStore& to, const std::set<DayNumber>& days,
                           const std::set<uint32_t>& orgs, CopyCounts& counts,
                           const CopyOptions& options) {
  for (DayNumber d : days) {
    DayStatistics day;
    day.day = d;
    auto groups = stats_of(from, kGroups, d, d);
    if (!groups) return groups.error();
    for (const auto& r : *groups) {
      auto asn = number<uint32_t>(r.keys[4], "asn");
      auto sev = number<uint8_t>(r.keys[5], "severity");
      if (!asn) return asn.error();
      if (!sev) return sev.error();
      day.groups.push_back({r.keys[1], r.keys[2], r.keys[3], *asn, *sev, r.events});
    }
    auto tags = stats_of(from, kTagGroups, d, d);
    if (!tags) return tags.error();
    for (const auto& r : *tags) day.tags.push_back({r.keys[1], r.keys[2], r.keys[3], r.events});
    if (auto st = to.import_dropped_day_statistics(day); !st) return st;
    ++counts.dropped_days;
    if (options.progress) options.progress(counts);
  }
  std::map<DayNumber, DayStatistics> parts;
  size_t rows = 0;
  auto hand_over = [&]() -> Status {
    for (const auto& [d, part] : parts) {
      if (auto st = to.import_dropped_day_statistics(part); !st) return st;
    }
    parts.clear();
    rows = 0;
    return {};
  };
  for (uint32_t org : orgs) {
    auto org_rows = stats_of(from, kOrgGroups, *days.begin(), *days.rbegin(), org);
    if (!org_rows) return org_rows.error();
    for (const auto& r : *org_rows) {
      auto d = row_day(r);
      if (!d) return d.error();
      if (!days.count(*d)) continue;
      auto sev = number<uint8_t>(r.keys[2], "severity");
      if (!sev) return sev.error();
      DayStatistics& part = parts[*d];
      part.day = *d;
      part.orgs.push_back({org, r.keys[1], *sev, r.events});
      ++rows;
    }
    if (rows >= kOrgRowsPerImport) {
      if (auto st = hand_over(); !st) return st;
    }
  }
  return hand_over();
}

// What a writer moves: the newest event id and every checkpoint.
Result<std::string> writer_fingerprint(EventStore& store) {
  auto head = store.last_event_id();
  if (!head) return head.error();
  auto sources = store.checkpoints();
  if (!sources) return sources.error();
  std::vector<std::string> lines;
  for (const auto& c : *sources) {
    lines.push_back(c.source_key + " " + std::to_string(c.offset) + " " + std::to_string(c.line) +
                    " " + std::to_string(c.done) + " " + std::to_string(c.accepted));
  }
  std::sort(lines.begin(), lines.end());
  std::string out = std::to_string(*head);
  for (const auto& l : lines) out += "\n" + l;
  return out;
}

std::string stats_text(const std::vector<StatsRow>& rows) {
  std::vector<std::string> lines;
  for (const auto& r : rows) {
    std::string l;
    for (const auto& k : r.keys) l += k + " ";
    lines.push_back(l + "= " + std::to_string(r.events));
  }
  std::sort(lines.begin(), lines.end());
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

// Fails naming the first group where the two stores' statistics of days first..last differ.
Status same_statistics(EventStore& from, EventStore& to, const std::vector<std::string>& groups,
                       DayNumber first_day, DayNumber last_day) {
  auto a = stats_of(from, groups, first_day, last_day);
  if (!a) return a.error();
  auto b = stats_of(to, groups, first_day, last_day);
  if (!b) return b.error();
  std::string x = stats_text(*a), y = stats_text(*b);
  if (x == y) return {};
  size_t at = std::mismatch(x.begin(), x.end(), y.begin(), y.end()).first - x.begin();
  size_t line = x.rfind('\n', at == 0 ? 0 : at - 1);
  line = line == std::string::npos ? 0 : line + 1;
  return Error::internal("the target's statistics by (" + join(groups, ", ") +
                         ") differ from the source's, first at: source '" +
                         x.substr(line, x.find('\n', line) - line) + "', target '" +
                         y.substr(line, y.find('\n', line) - line) + "'");
}

// The target's statistics against the source's: the days, then day by day (so memory is
// bounded by one day's groups, not by the store) every dimension -- by (type, geo, region,
// severity), (type, asn) and (type, geo, tag). The exact (type, geo, region, asn, severity)
// groups would be nearly one per event.
Status check_statistics(EventStore& from, EventStore& to) {
  if (auto st = same_statistics(from, to, {"day"}, kFirstDay, kLastDay); !st) return st;
  auto days = all_stats(from, {"day"});
  if (!days) return days.error();
  for (const auto& r : *days) {
    auto d = row_day(r);
    if (!d) return d.error();
    for (const auto& groups : {std::vector<std::string>{"type", "geo", "region", "severity"},
                               std::vector<std::string>{"type", "asn"},
                               std::vector<std::string>{"type", "geo", "tag"}}) {
      if (auto st = same_statistics(from, to, groups, *d, *d); !st) {
        return Error::internal(format_date(*d) + ": " + st.error().message);
      }
    }
  }
  return {};
}

// The target's id of the n-th event in id order (1-based; 0 for n = 0), for each n.
Status translate(EventStore& to, const std::vector<int64_t>& ordinals, std::vector<int64_t>& ids) {
  ids.assign(ordinals.size(), 0);
  std::vector<std::pair<int64_t, size_t>> wanted;
  for (size_t i = 0; i < ordinals.size(); ++i) {
    if (ordinals[i] > 0) wanted.emplace_back(ordinals[i], i);
  }
  if (wanted.empty()) return {};
  std::sort(wanted.begin(), wanted.end());
  size_t next = 0;
  int64_t n = 0;
  return for_each_event(to, [&](const StoredEvent& e, const std::vector<OrgRoute>&) {
    ++n;
    for (; next < wanted.size() && wanted[next].first == n; ++next) ids[wanted[next].second] = e.id;
    return next < wanted.size();
  });
}

}  // namespace

Result<CopyCounts> copy_store(EventStore& from, EventStore& to, const CopyOptions& options) {
  {
    auto head = to.last_event_id();
    if (!head) return head.error();
    auto sources = to.checkpoints();
    if (!sources) return sources.error();
    auto quarantined = to.quarantine_count();
    if (!quarantined) return quarantined.error();
    auto stats = all_stats(to, {"day"});
    if (!stats) return stats.error();
    if (*head != 0 || !sources->empty() || *quarantined != 0 || !stats->empty()) {
      return Error{ErrorCode::kFailedPrecondition,
                   "the target store is not empty (" + std::to_string(*head) +
                       " as newest event id, " + std::to_string(sources->size()) +
                       " checkpoints, " + std::to_string(*quarantined) + " quarantined records, " +
                       std::to_string(stats->size()) + " days of statistics)"};
    }
  }
  // Statistics are read from the source's counters: bring its newest events into them.
  if (auto st = from.settle(); !st) return st.error();
  auto before = writer_fingerprint(from);
  if (!before) return before.error();
  auto dropped = dropped_days(from);
  if (!dropped) return dropped.error();

  CopyCounts counts;
  // translate_ids by value, with its position: the number of source events at or below it.
  std::vector<std::pair<int64_t, size_t>> cursors;
  for (size_t i = 0; i < options.translate_ids.size(); ++i) {
    cursors.emplace_back(options.translate_ids[i], i);
  }
  std::sort(cursors.begin(), cursors.end());
  std::vector<int64_t> ordinal(cursors.size(), 0);
  size_t next_cursor = 0;
  std::set<uint32_t> orgs(options.org_ids.begin(), options.org_ids.end());
  IngestBatch batch;
  auto flush = [&]() -> Status {
    if (batch.events.empty()) return {};
    auto written = to.write(batch);
    batch.events.clear();
    if (!written) return written.error();
    if (options.progress) options.progress(counts);
    return {};
  };
  Status failed;
  auto read = for_each_event(from, [&](const StoredEvent& e, const std::vector<OrgRoute>& routes) {
    for (; next_cursor < cursors.size() && cursors[next_cursor].first < e.id; ++next_cursor) {
      ordinal[cursors[next_cursor].second] = counts.events;
    }
    ++counts.events;
    for (const auto& r : routes) orgs.insert(r.org_id);
    EventRecord first = occurrence(e, e.first_seen);
    first.routes = routes;
    batch.events.push_back(std::move(first));
    for (uint32_t i = 1; i < e.count; ++i) {
      batch.events.push_back(occurrence(e, i == 1 ? e.last_seen : e.first_seen));
      if (batch.events.size() >= kBatchOccurrences && !(failed = flush())) return false;
    }
    counts.occurrences += std::max<uint32_t>(e.count, 1);
    if (batch.events.size() >= kBatchOccurrences && !(failed = flush())) return false;
    return true;
  });
  if (!failed) return failed.error();
  if (!read) return read.error();
  if (auto st = flush(); !st) return st.error();
  for (; next_cursor < cursors.size(); ++next_cursor) {
    ordinal[cursors[next_cursor].second] = counts.events;
  }

  if (!dropped->empty()) {
    if (auto st = import_dropped_days(from, to, *dropped, orgs, counts, options); !st) {
      return st.error();
    }
  }

  auto n = from.quarantine_count();
  if (!n) return n.error();
  auto quarantined = from.quarantine(*n);
  if (!quarantined) return quarantined.error();
  std::reverse(quarantined->begin(), quarantined->end());  // oldest first, as they came
  for (size_t i = 0; i < quarantined->size(); i += kBatchOccurrences) {
    IngestBatch qb;
    qb.quarantined.assign(quarantined->begin() + static_cast<ptrdiff_t>(i),
                          quarantined->begin() + static_cast<ptrdiff_t>(std::min(
                                                     quarantined->size(), i + kBatchOccurrences)));
    if (auto st = to.write(qb); !st) return st.error();
  }
  counts.quarantined = static_cast<int64_t>(quarantined->size());
  auto sources = from.checkpoints();
  if (!sources) return sources.error();
  for (const auto& c : *sources) {
    IngestBatch cb;
    // Written as they are: a batch without events adds nothing to a checkpoint's counters.
    cb.checkpoint = c;
    if (auto st = to.write(cb); !st) return st.error();
    ++counts.checkpoints;
  }
  if (options.progress) options.progress(counts);

  if (auto st = to.settle(); !st) return st.error();
  if (auto st = check_statistics(from, to); !st) return st.error();
  if (auto st = translate(to, ordinal, counts.translated_ids); !st) return st.error();
  auto after = writer_fingerprint(from);
  if (!after) return after.error();
  if (*after != *before) {
    return Error{ErrorCode::kFailedPrecondition,
                 "the source store changed during the copy (a writer is running on it): stop "
                 "every writer, empty the target and migrate again"};
  }
  return counts;
}

Status dump_store(EventStore& store, std::ostream& out, std::span<const uint32_t> org_ids) {
  std::vector<std::string> events;
  std::set<uint32_t> orgs(org_ids.begin(), org_ids.end());
  std::set<DayNumber> days;
  auto read = for_each_event(store, [&](const StoredEvent& e, const std::vector<OrgRoute>& routes) {
    std::string line = "E " + std::to_string(e.day) + " " + e.type + " " +
                       std::to_string(e.event_key) + " " + std::to_string(e.first_seen) + " " +
                       std::to_string(e.last_seen) + " " + std::to_string(e.count) + " " + e.ip +
                       " " + std::to_string(e.asn) + " " + e.geo + " " + e.region + " " +
                       std::to_string(e.severity) + " " + e.tag + " " + hex_encode(e.row) + " ->";
    for (const auto& r : routes) {
      line += " " + std::to_string(r.org_id) + "/" + match_filter_name(r.filter);
      orgs.insert(r.org_id);
    }
    events.push_back(std::move(line));
    days.insert(e.day);
    return true;
  });
  if (!read) return read;
  std::sort(events.begin(), events.end());
  for (const auto& e : events) out << e << "\n";
  auto stats = [&](const char* tag, const std::vector<std::string>& groups,
                   std::optional<uint32_t> org) -> Status {
    auto rows = all_stats(store, groups, org);
    if (!rows) return rows.error();
    for (const auto& r : *rows) {
      out << tag;
      if (org) out << " " << *org;
      for (const auto& k : r.keys) out << " " << k;
      out << " = " << r.events << "\n";
    }
    return {};
  };
  if (auto st = stats("R", kGroups, std::nullopt); !st) return st;
  if (auto st = stats("T", kTagGroups, std::nullopt); !st) return st;
  for (uint32_t org : orgs) {
    if (auto st = stats("O", kOrgGroups, org); !st) return st;
  }
  for (DayNumber day : days) {
    auto keys = store.report_keys(day, std::nullopt);
    if (!keys) return keys.error();
    for (const auto& k : *keys) {
      out << "P " << day << " " << k.org_id << " " << k.type << " " << match_filter_name(k.filter)
          << " " << k.rows << ":";
      auto st = store.scan_report(k, [&](const StoredEvent& e) {
        out << " " << e.event_key << (e.new_since_previous_day ? "" : "*");
        return true;
      });
      if (!st) return st;
      out << "\n";
    }
  }
  auto n = store.quarantine_count();
  if (!n) return n.error();
  auto quarantined = store.quarantine(*n);
  if (!quarantined) return quarantined.error();
  std::vector<std::string> qs;
  for (const auto& r : *quarantined) {
    qs.push_back("Q " + r.source + " " + std::to_string(r.line) + " " + r.field + " " + r.reason +
                 " " + hex_encode(r.raw));
  }
  std::sort(qs.begin(), qs.end());
  for (const auto& l : qs) out << l << "\n";
  auto sources = store.checkpoints();
  if (!sources) return sources.error();
  std::sort(sources->begin(), sources->end(),
            [](const auto& a, const auto& b) { return a.source_key < b.source_key; });
  for (const auto& c : *sources) {
    out << "C " << c.source_key << " " << c.source_name << " " << c.offset << " " << c.line << " "
        << c.done << " " << c.accepted << " " << c.rejected << " " << c.allowlisted << " "
        << c.deduplicated << " " << c.routed << "\n";
  }
  return {};
}

}  // namespace vantage::store
