#include "sensors/scanner/schedule.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "common/ip.h"
#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner {

Result<std::vector<ScheduleEntry>> parse_schedule(const std::vector<std::string>& items) {
  std::vector<ScheduleEntry> out;
  for (const auto& item : items) {
    const size_t c1 = item.find(':');
    const size_t c2 = c1 == std::string::npos ? std::string::npos : item.find(':', c1 + 1);
    ScheduleEntry e;
    e.module = item.substr(0, c1);
    if (!find_module(e.module))
      return Error::invalid("scan.schedule '" + item + "': unknown probe module '" + e.module +
                            "'");
    if (c1 == std::string::npos)
      return Error::invalid("scan.schedule '" + item + "': want module:minutes[:cidr,...]");
    const std::string minutes = item.substr(c1 + 1, c2 == std::string::npos ? c2 : c2 - c1 - 1);
    int64_t m = 0;
    try {
      size_t used = 0;
      m = std::stoll(minutes, &used);
      if (used != minutes.size()) m = 0;
    } catch (...) {
      m = 0;
    }
    if (m < 1 || m > 525600)
      return Error::invalid("scan.schedule '" + item + "': interval must be 1..525600 minutes");
    e.interval = std::chrono::minutes(m);
    if (c2 != std::string::npos) {
      std::stringstream list(item.substr(c2 + 1));
      for (std::string cidr; std::getline(list, cidr, ',');) {
        if (cidr.empty()) continue;
        if (!IpPrefix::parse(cidr))
          return Error::invalid("scan.schedule '" + item + "': bad CIDR '" + cidr + "'");
        e.targets.push_back(cidr);
      }
    }
    out.push_back(std::move(e));
  }
  return out;
}

std::string scan_state_path(const std::string& data_dir) {
  return data_dir + "/scan_state.json";
}

namespace {

nlohmann::json to_json(const ScanRecord& r) {
  return {{"module", r.module},   {"report_types", r.report_types},
          {"started", r.started}, {"finished", r.finished},
          {"targets", r.targets}, {"addresses", r.addresses},
          {"events", r.events},   {"status", r.status}};
}

ScanRecord from_json(const nlohmann::json& j) {
  ScanRecord r;
  r.module = j.value("module", "");
  r.report_types = j.value("report_types", std::vector<std::string>{});
  r.started = j.value("started", int64_t{0});
  r.finished = j.value("finished", int64_t{0});
  r.targets = j.value("targets", std::vector<std::string>{});
  r.addresses = j.value("addresses", uint64_t{0});
  r.events = j.value("events", uint64_t{0});
  r.status = j.value("status", "");
  return r;
}

Result<std::vector<ScanRecord>> read_state(const std::string& path) {
  std::ifstream in(path);
  if (!in) return std::vector<ScanRecord>{};
  const auto j = nlohmann::json::parse(in, nullptr, false);
  if (!j.is_object() || !j.contains("modules") || !j["modules"].is_array())
    return Error::invalid(path + ": not a scan state file");
  std::vector<ScanRecord> out;
  for (const auto& m : j["modules"])
    if (m.is_object()) out.push_back(from_json(m));
  return out;
}

// flock(2) on a side file, released when the descriptor closes.
struct FileLock {
  int fd = -1;
  explicit FileLock(const std::string& path) {
    fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd >= 0) ::flock(fd, LOCK_EX);
  }
  ~FileLock() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

Result<std::vector<ScanRecord>> load_scan_state(const std::string& data_dir) {
  return read_state(scan_state_path(data_dir));
}

Status record_scan(const std::string& data_dir, const ScanRecord& record) {
  const std::string path = scan_state_path(data_dir);
  FileLock lock(path + ".lock");
  if (lock.fd < 0) return Error::io("cannot lock " + path + ".lock");
  auto state = read_state(path);
  if (!state) return state.error();
  bool replaced = false;
  for (auto& r : *state) {
    if (r.module == record.module) {
      r = record;
      replaced = true;
    }
  }
  if (!replaced) state->push_back(record);
  nlohmann::json j = {{"format", "vantage-scan-state/1"}, {"modules", nlohmann::json::array()}};
  for (const auto& r : *state) j["modules"].push_back(to_json(r));
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << j.dump(1) << "\n";
    if (!out.flush()) return Error::io("cannot write " + tmp);
  }
  std::error_code ec;
  std::filesystem::rename(tmp, path, ec);
  if (ec) return Error::io("cannot replace " + path + ": " + ec.message());
  return {};
}

Result<std::optional<ScanRecord>> last_scan_of_type(const std::string& data_dir,
                                                    const std::string& report_type) {
  auto state = load_scan_state(data_dir);
  if (!state) return state.error();
  std::optional<ScanRecord> best;
  for (const auto& r : *state)
    for (const auto& t : r.report_types)
      if (t == report_type && (!best || r.finished > best->finished)) best = r;
  return best;
}

}  // namespace vantage::scanner
