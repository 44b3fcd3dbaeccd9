#include "service/scan_schedule.h"

#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>
#include <set>
#include <thread>

#include "common/time.h"
#include "registry/sqlite/sqlite_registry.h"
#include "sensors/scanner/probes/output.h"
#include "sensors/scanner/schedule.h"
#include "sensors/scanner/targets.h"
#include "service/runtime.h"
#include "store/store.h"

namespace vantage::service {

namespace fs = std::filesystem;
using namespace vantage::scanner;

Result<std::vector<IpAddress>> ipv6_hitlist(const GlobalOptions& global, int days,
                                            const std::vector<IpPrefix>& within) {
  auto store = open_store(global);
  if (!store) return store.error();
  store::EventQuery q;
  q.last_day = today();
  q.first_day = q.last_day - days;
  q.limit = 10000;
  std::set<IpAddress> seen;
  for (int page = 0; page < 1000; ++page) {  // at most 10M events looked at
    q.offset = static_cast<int64_t>(page) * q.limit;
    auto rows = (*store)->query(q);
    if (!rows) return rows.error();
    for (const auto& e : *rows) {
      auto a = IpAddress::parse(e.ip);
      if (!a || a->is_v4()) continue;
      bool inside = within.empty();
      for (const auto& p : within) inside = inside || p.contains(*a);
      if (inside) seen.insert(*a);
    }
    if (static_cast<int64_t>(rows->size()) < q.limit) break;
  }
  return std::vector<IpAddress>(seen.begin(), seen.end());
}

namespace {

// The constituency's own prefixes: every CIDR resource in the registry not rejected.
std::vector<std::string> registry_prefixes(const std::string& data_dir) {
  std::vector<std::string> out;
  auto reg = registry::SqliteRegistry::open_in_data_dir(data_dir);
  if (!reg) return out;
  auto snap = (*reg)->snapshot(false);
  if (!snap) return out;
  for (const auto& rec : snap->orgs)
    for (const auto& r : rec.resources)
      if (r.kind == registry::ResourceKind::kCidr && r.approval != registry::Approval::kRejected)
        out.push_back(r.value);
  return out;
}

// One run of one schedule entry; returns its record (status says what went wrong).
ScanRecord run_entry(const GlobalOptions& global, const ScheduleEntry& entry,
                     const ServiceInfo& info) {
  const auto& cfg = global.config;
  ScanRecord rec;
  rec.module = entry.module;
  rec.started = now_seconds();
  rec.targets = !entry.targets.empty()      ? entry.targets
                : !cfg.scan_targets.empty() ? cfg.scan_targets
                                            : registry_prefixes(global.data_dir);
  const ProbeModule* module = find_module(entry.module);
  auto finish = [&](std::string status) {
    rec.finished = now_seconds();
    rec.status = std::move(status);
    return rec;
  };
  if (rec.targets.empty()) return finish("no targets (scan.targets empty, no prefixes registered)");
  std::string blocklist(builtin_blocklist_text());
  auto blocked = parse_blocklist(blocklist, "builtin blocklist");
  std::string allow;
  for (const auto& a : cfg.scan_allow_reserved) allow += a + "\n";
  auto lifted = parse_blocklist(allow, "scan.allow_reserved");
  if (!blocked || !lifted) return finish("bad scan.allow_reserved");
  const IntervalSet block = blocked->minus(*lifted);
  IntervalSet v4;
  std::vector<IpPrefix> v6;
  for (const auto& t : rec.targets) {
    auto p = IpPrefix::parse(t);
    if (!p) return finish("bad target " + t);
    if (p->prefix.is_v4()) {
      v4.add(p->prefix);
    } else {
      v6.push_back(p->prefix);
    }
  }
  v4.normalise();
  std::vector<ProbeJob> jobs;
  const TargetSpace space = TargetSpace::make(v4, block);
  if (space.size() > static_cast<uint64_t>(cfg.scan_max_addresses))
    return finish("target set of " + std::to_string(space.size()) +
                  " addresses exceeds scan.max_addresses");
  for (uint64_t i = 0; i < space.size(); ++i)
    jobs.push_back({{space.at(i), module->default_port}, module});
  if (!v6.empty()) {
    auto hits = ipv6_hitlist(global, 30, v6);
    if (!hits) return finish("IPv6 hit list: " + hits.error().message);
    for (const auto& a : *hits)
      if (!block.contains(a)) jobs.push_back({{a, module->default_port}, module});
  }
  rec.addresses = jobs.size();
  const std::string name = "scan-" + entry.module + "-" + std::to_string(rec.started) + ".jsonl";
  const std::string part = info.inbox + "/" + name + ".part";
  std::FILE* out = std::fopen(part.c_str(), "w");
  if (!out) return finish("cannot write " + part);
  EngineOptions opt;
  opt.concurrency = 256;
  opt.connect_timeout = std::chrono::milliseconds(2000);
  opt.read_timeout = std::chrono::milliseconds(2000);
  opt.rate = static_cast<double>(cfg.scan_rate);
  const ProbeRunStats st = run_probes_to_jsonl(jobs, opt, out, {});
  std::fclose(out);
  std::error_code ec;
  if (st.events > 0) {
    fs::rename(part, info.inbox + "/" + name, ec);
  } else {
    fs::remove(part, ec);
  }
  rec.events = st.events;
  rec.report_types.assign(st.report_types.begin(), st.report_types.end());
  if (rec.report_types.empty()) rec.report_types.push_back(module->report_type);
  return finish(ec ? "cannot move events into the inbox: " + ec.message() : "ok");
}

}  // namespace

std::function<void(const ServiceInfo&)> scan_schedule_job(const GlobalOptions& global) {
  return [&global](const ServiceInfo& info) {
    if (!global.config.scan_enabled || global.config.scan_schedule.empty()) return;
    auto entries = parse_schedule(global.config.scan_schedule);
    if (!entries) {
      std::cerr << "vantage: scan schedule not run: " << entries.error().message << "\n";
      return;
    }
    // Due times start from the recorded last scans, so a restart does not rescan early.
    std::map<std::string, int64_t> last;
    if (auto state = load_scan_state(global.data_dir)) {
      for (const auto& r : *state) last[r.module] = r.finished;
    }
    while (!info.stop->load()) {
      for (const auto& e : *entries) {
        if (info.stop->load()) break;
        const int64_t interval =
            std::chrono::duration_cast<std::chrono::seconds>(e.interval).count();
        if (last.count(e.module) && now_seconds() < last[e.module] + interval) continue;
        ScanRecord rec = run_entry(global, e, info);
        last[e.module] = rec.finished;
        if (auto st = record_scan(global.data_dir, rec); !st.ok())
          std::cerr << "vantage: scan state: " << st.message() << "\n";
        if (rec.status != "ok")
          std::cerr << "vantage: scheduled " << e.module << " scan: " << rec.status << "\n";
      }
      for (int i = 0; i < 20 && !info.stop->load(); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
  };
}

}  // namespace vantage::service
