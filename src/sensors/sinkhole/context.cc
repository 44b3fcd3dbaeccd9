#include "sensors/sinkhole/context.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>

#include "common/strings.h"

namespace vantage::sinkhole {

Result<std::shared_ptr<const Snapshot>> load_snapshot(const SinkholeSettings& settings,
                                                      DayNumber day) {
  auto snap = std::make_shared<Snapshot>();
  auto families = Families::load_file(settings.families_file);
  if (!families) return families.error();
  snap->families = std::move(*families);
  DomainMapOptions dopt;
  dopt.today = day;
  dopt.slack_days = settings.dga_slack_days;
  auto domains = DomainMap::load_file(settings.domains_file, snap->families, dopt);
  if (!domains) return domains.error();
  snap->domains = std::move(*domains);
  auto rules = Classifier::load_file(settings.rules_file, snap->families);
  if (!rules) return rules.error();
  snap->classifier = std::move(*rules);
  snap->day = day;
  int64_t newest = 0;
  for (const auto* f : {&settings.families_file, &settings.domains_file, &settings.rules_file}) {
    struct stat st {};
    if (::stat(f->c_str(), &st) == 0) newest = std::max<int64_t>(newest, st.st_mtime);
  }
  snap->serial = static_cast<uint32_t>(newest);
  return std::shared_ptr<const Snapshot>(std::move(snap));
}

void SnapshotBox::publish(std::shared_ptr<const Snapshot> s) {
  std::lock_guard lock(mu_);
  current_ = std::move(s);
  generation_.fetch_add(1, std::memory_order_release);
}

std::shared_ptr<const Snapshot> SnapshotBox::get() const {
  std::lock_guard lock(mu_);
  return current_;
}

const char* counter_name(Counter c) {
  static const char* const names[kCounterCount] = {
      "dns_queries",    "dns_tcp_queries", "dns_answered", "dns_nodata",   "dns_nxdomain",
      "dns_refused",    "dns_truncated",   "dns_formerr",  "dns_notimp",   "dns_dropped",
      "http_requests",  "https_requests",  "http_get",     "http_post",    "http_other_method",
      "http_malformed", "http_incomplete", "http_named",   "http_unknown", "tls_hello_unreadable",
      "referer_events", "raw_tcp",         "raw_udp",      "raw_named",    "raw_unknown"};
  return names[c];
}

AsideLog::AsideLog(std::string dir, std::string prefix, int64_t max_bytes, size_t sample_bytes)
    : dir_(std::move(dir)),
      prefix_(std::move(prefix)),
      max_bytes_(max_bytes),
      sample_bytes_(sample_bytes) {
  std::error_code ec;
  std::filesystem::create_directories(dir_, ec);
}

AsideLog::~AsideLog() {
  if (fd_ >= 0) ::close(fd_);
}

void AsideLog::add(std::string_view source, const sensors::Endpoint& peer, std::string_view reason,
                   std::string_view bytes) {
  UnixSeconds now = now_seconds();
  std::lock_guard lock(mu_);
  if (day_of(now) != day_ || fd_ < 0) {
    if (fd_ >= 0) ::close(fd_);
    day_ = day_of(now);
    std::string path = dir_ + "/" + prefix_ + "-" + format_date(day_) + ".jsonl";
    fd_ = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    struct stat st {};
    bytes_ = fd_ >= 0 && ::fstat(fd_, &st) == 0 ? st.st_size : 0;
  }
  if (fd_ < 0 || bytes_ >= max_bytes_) {
    dropped_.fetch_add(1);
    return;
  }
  std::string line = "{\"time\":\"" + format_timestamp(now) + "\",\"source\":\"";
  sensors::append_json_escaped(line, source);
  line += "\",\"peer\":\"" + peer.to_string() + "\",\"reason\":\"";
  sensors::append_json_escaped(line, reason);
  line += "\",\"length\":" + std::to_string(bytes.size()) + ",\"hex\":\"" +
          hex_encode(bytes.substr(0, sample_bytes_)) + "\"}\n";
  if (::write(fd_, line.data(), line.size()) == static_cast<ssize_t>(line.size())) {
    bytes_ += static_cast<int64_t>(line.size());
    kept_.fetch_add(1);
  } else {
    dropped_.fetch_add(1);
  }
}

sensors::JsonLine begin_event(std::string& out, std::string_view type, const Context& ctx,
                              const sensors::Endpoint& src, const sensors::Endpoint& dst,
                              std::string_view protocol, UnixSeconds when, const Family& family,
                              std::string_view tag, std::string_view application) {
  sensors::JsonLine line(out, type);
  line.time("timestamp", when)
      .str("protocol", protocol)
      .ip("src_ip", src.ip)
      .num("src_port", src.port)
      .str("severity", family.severity)
      .ip("dst_ip", dst.ip)
      .num("dst_port", dst.port)
      .str("public_source", ctx.settings->sensor_name)
      .str("infection", family.infection)
      .str("family", family.name)
      .str("tag", tag)
      .str("application", application);
  return line;
}

}  // namespace vantage::sinkhole
