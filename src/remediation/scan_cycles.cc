#include "remediation/scan_cycles.h"

#include <algorithm>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>

#include "common/status_macros.h"
#include "common/strings.h"

namespace vantage::remediation {

bool CycleDay::covers(const std::optional<IpAddress>& ip) const {
  if (everything) return true;
  if (!ip) return false;
  for (const auto& p : scope)
    if (p.contains(*ip)) return true;
  return false;
}

const char* ScanCycleLog::schema() {
  return R"sql(
CREATE TABLE IF NOT EXISTS scan_cycles(
  type TEXT NOT NULL,
  at INTEGER NOT NULL,
  day INTEGER NOT NULL,
  source TEXT NOT NULL,
  scope TEXT NOT NULL DEFAULT '',
  PRIMARY KEY(type, at, source));
CREATE INDEX IF NOT EXISTS scan_cycles_by_day ON scan_cycles(type, day);
CREATE TRIGGER IF NOT EXISTS scan_cycles_append_only_u BEFORE UPDATE ON scan_cycles
  BEGIN SELECT RAISE(ABORT, 'scan_cycles is append-only'); END;
CREATE TRIGGER IF NOT EXISTS scan_cycles_append_only_d BEFORE DELETE ON scan_cycles
  BEGIN SELECT RAISE(ABORT, 'scan_cycles is append-only'); END;
)sql";
}

namespace {

std::string scope_text(const std::vector<IpPrefix>& scope) {
  std::string out;
  for (const auto& p : scope) out += (out.empty() ? "" : ",") + p.to_string();
  return out;
}

std::vector<IpPrefix> parse_scope(std::string_view text) {
  std::vector<IpPrefix> out;
  for (auto part : split(text, ',')) {
    part = trim(part);
    if (part.empty()) continue;
    if (auto p = IpPrefix::parse(part)) out.push_back(p->prefix);
  }
  return out;
}

// Merges one scan into the day list (days ascending; appended in order by the callers).
void add_to_days(std::vector<CycleDay>& days, DayNumber day, std::vector<IpPrefix> scope) {
  if (days.empty() || days.back().day != day) days.push_back(CycleDay{day, false, {}});
  CycleDay& d = days.back();
  if (scope.empty()) {
    d.everything = true;
    d.scope.clear();
  } else if (!d.everything) {
    for (auto& p : scope) d.scope.push_back(p);
  }
}

}  // namespace

Result<bool> ScanCycleLog::append(const ScanCycle& c) {
  if (c.type.empty() || c.source.empty())
    return Error::invalid("a scan cycle needs a type and a source");
  if (c.at <= 0) return Error::invalid("a scan cycle needs a time");
  VANTAGE_ASSIGN_OR_RETURN(auto st, db_.prepare("INSERT OR IGNORE INTO scan_cycles(type, at, day, "
                                                "source, scope) VALUES(?,?,?,?,?)"));
  st.bind(1, c.type).bind(2, c.at).bind(3, static_cast<int64_t>(day_of(c.at)));
  st.bind(4, c.source).bind(5, scope_text(c.scope));
  VANTAGE_RETURN_IF_ERROR(st.run());
  return db_.changes() > 0;
}

Result<std::vector<ScanCycle>> ScanCycleLog::list(const std::string& type, int64_t limit) {
  VANTAGE_ASSIGN_OR_RETURN(auto st,
                           db_.prepare("SELECT type, at, source, scope FROM scan_cycles WHERE "
                                       "(?1 = '' OR type = ?1) ORDER BY at DESC, type LIMIT ?2"));
  st.bind(1, type).bind(2, limit);
  std::vector<ScanCycle> out;
  while (true) {
    VANTAGE_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    out.push_back(
        {std::string(st.text(0)), st.int64(1), std::string(st.text(2)), parse_scope(st.text(3))});
  }
  return out;
}

Result<std::vector<CycleDay>> ScanCycleLog::cycles(const std::string& type, DayNumber first,
                                                   DayNumber last) {
  VANTAGE_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT day, scope FROM scan_cycles WHERE type=? "
                                                "AND day BETWEEN ? AND ? ORDER BY day"));
  st.bind(1, type).bind(2, static_cast<int64_t>(first)).bind(3, static_cast<int64_t>(last));
  std::vector<CycleDay> out;
  while (true) {
    VANTAGE_ASSIGN_OR_RETURN(bool row, st.step());
    if (!row) break;
    add_to_days(out, static_cast<DayNumber>(st.int64(0)), parse_scope(st.text(1)));
  }
  return out;
}

Result<std::string> ScanCycleLog::mark(const std::string& type) {
  VANTAGE_ASSIGN_OR_RETURN(auto st, db_.prepare("SELECT count(*), coalesce(max(at), 0), "
                                                "coalesce(sum(at), 0) FROM scan_cycles WHERE "
                                                "type=?"));
  st.bind(1, type);
  VANTAGE_RETURN_IF_ERROR(st.step().status());
  // Rows are only ever added, so count and sum of times change with every addition.
  return "log:" + std::to_string(st.int64(0)) + ":" + std::to_string(st.int64(1)) + ":" +
         std::to_string(st.int64(2));
}

Result<std::vector<CycleDay>> EventDayCycles::cycles(const std::string& type, DayNumber first,
                                                     DayNumber last) {
  store::StatsQuery q;
  q.first_day = first;
  q.last_day = last;
  q.types = {type};
  q.group_by = {"day"};
  VANTAGE_ASSIGN_OR_RETURN(auto rows, store_.stats(q));
  std::vector<CycleDay> out;
  for (const auto& r : rows) {
    if (r.events <= 0 || r.keys.empty()) continue;
    auto d = parse_date(r.keys[0]);
    if (!d) continue;
    out.push_back(CycleDay{*d, true, {}});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.day < b.day; });
  return out;
}

Result<std::string> EventDayCycles::mark(const std::string& type) {
  store::StatsQuery q;
  q.first_day = 0;
  q.last_day = today() + 1;
  q.types = {type};
  q.group_by = {"day"};
  VANTAGE_ASSIGN_OR_RETURN(auto rows, store_.stats(q));
  // The set of days with events: new days change it; more events on a known day do not
  // (they change no cycle).
  std::string mark = "events:";
  for (const auto& r : rows)
    if (r.events > 0 && !r.keys.empty()) mark += r.keys[0] + ",";
  return mark;
}

const char* cycle_source_name(CycleSource s) {
  switch (s) {
    case CycleSource::kAuto: return "auto";
    case CycleSource::kRecorded: return "recorded";
    case CycleSource::kEvents: return "events";
  }
  return "auto";
}

std::optional<CycleSource> parse_cycle_source(std::string_view s) {
  if (s == "auto") return CycleSource::kAuto;
  if (s == "recorded") return CycleSource::kRecorded;
  if (s == "events") return CycleSource::kEvents;
  return std::nullopt;
}

Result<std::vector<CycleDay>> CycleSources::cycles(const std::string& type, DayNumber first,
                                                   DayNumber last) {
  if (policy_ == CycleSource::kRecorded) return log_.cycles(type, first, last);
  if (policy_ == CycleSource::kEvents) return events_.cycles(type, first, last);
  // auto: a day counts when Vantage recorded a scan of the type (over its scope) or when the
  // store got events of the type (someone scanned: over everything).
  VANTAGE_ASSIGN_OR_RETURN(auto recorded, log_.cycles(type, first, last));
  VANTAGE_ASSIGN_OR_RETURN(auto seen, events_.cycles(type, first, last));
  std::vector<CycleDay> out;
  size_t i = 0, j = 0;
  while (i < recorded.size() || j < seen.size()) {
    if (j == seen.size() || (i < recorded.size() && recorded[i].day < seen[j].day)) {
      out.push_back(std::move(recorded[i++]));
    } else if (i == recorded.size() || seen[j].day < recorded[i].day) {
      out.push_back(std::move(seen[j++]));
    } else {
      CycleDay d = std::move(recorded[i++]);
      if (seen[j].everything) {
        d.everything = true;
        d.scope.clear();
      }
      ++j;
      out.push_back(std::move(d));
    }
  }
  return out;
}

Result<std::string> CycleSources::mark(const std::string& type) {
  if (policy_ == CycleSource::kRecorded) return log_.mark(type);
  if (policy_ == CycleSource::kEvents) return events_.mark(type);
  VANTAGE_ASSIGN_OR_RETURN(std::string a, log_.mark(type));
  VANTAGE_ASSIGN_OR_RETURN(std::string b, events_.mark(type));
  return a + "|" + b;
}

Result<int> import_scan_state(const std::string& path, ScanCycleLog& log) {
  std::ifstream in(path);
  if (!in) return 0;
  auto j = nlohmann::json::parse(in, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error::invalid(path + ": not a JSON object");
  auto mods = j.find("modules");
  if (mods == j.end() || !mods->is_array()) return Error::invalid(path + ": no \"modules\" list");
  int added = 0;
  for (const auto& m : *mods) {
    if (!m.is_object()) continue;
    std::string module = m.value("module", std::string());
    std::string status = m.value("status", std::string());
    auto finished = m.find("finished");
    if (module.empty() || status != "ok" || finished == m.end() || !finished->is_number_integer())
      continue;  // a scan that failed or has not finished covered nothing for sure
    ScanCycle c;
    c.at = finished->get<int64_t>();
    c.source = "scan_state:" + module;
    if (auto t = m.find("targets"); t != m.end() && t->is_array()) {
      for (const auto& target : *t)
        if (target.is_string())
          if (auto p = IpPrefix::parse(target.get<std::string>())) c.scope.push_back(p->prefix);
    }
    auto types = m.find("report_types");
    if (types == m.end() || !types->is_array()) continue;
    for (const auto& type : *types) {
      if (!type.is_string()) continue;
      c.type = type.get<std::string>();
      VANTAGE_ASSIGN_OR_RETURN(bool fresh, log.append(c));
      added += fresh ? 1 : 0;
    }
  }
  return added;
}

}  // namespace vantage::remediation
