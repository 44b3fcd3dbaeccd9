#include "pipeline/generator.h"

#include <algorithm>
#include <unordered_set>

#include "enrich/asn_table.h"

namespace vantage::pipeline {

namespace {

// Relative daily volumes, roughly as Shadowserver's public statistics show them: device and
// accessible-service scans dominate, then sinkholes, honeypots and blocklists.
struct Weight {
  const char* type;
  double weight;
};
constexpr Weight kMix[] = {
    {"device_id", 15},
    {"scan_http", 12},
    {"scan_ssl", 8},
    {"blocklist", 8},
    {"scan_ssh", 6},
    {"event4_sinkhole", 6},
    {"event4_sinkhole_http", 4},
    {"event4_honeypot_brute_force", 5},
    {"scan_dns", 4},
    {"scan_ntp", 3},
    {"scan_telnet", 3},
    {"scan_rdp", 3},
    {"scan_smb", 2},
    {"scan_snmp", 2},
    {"scan_ftp", 2},
    {"scan_redis", 1},
    {"scan_memcached", 1},
    {"scan_elasticsearch", 1},
    {"scan_mqtt", 1},
    {"event4_honeypot_darknet", 4},
    {"scan6_http", 2},
    {"scan6_ssh", 1},
};

constexpr const char* kTags[] = {"synthetic",     "synthetic,ssl", "synthetic,vpn",
                                 "synthetic,iot", "synthetic,ics", "synthetic,cve-2024-6387"};
constexpr const char* kFamilies[] = {"mirai", "andromeda", "qsnatch", "emotet", "avalanche"};

uint16_t default_port(std::string_view type) {
  struct P {
    const char* needle;
    uint16_t port;
  };
  static const P ports[] = {{"http", 80},
                            {"ssl", 443},
                            {"ssh", 22},
                            {"telnet", 23},
                            {"dns", 53},
                            {"ntp", 123},
                            {"rdp", 3389},
                            {"smb", 445},
                            {"snmp", 161},
                            {"ftp", 21},
                            {"redis", 6379},
                            {"memcached", 11211},
                            {"elasticsearch", 9200},
                            {"mqtt", 1883}};
  for (const auto& p : ports) {
    if (type.find(p.needle) != std::string_view::npos) return p.port;
  }
  return 0;
}

bool is_udp(std::string_view type) {
  for (const char* u : {"dns", "ntp", "snmp", "memcached", "ssdp"}) {
    if (type.find(u) != std::string_view::npos) return true;
  }
  return false;
}

}  // namespace

std::vector<RoutedSegment> routed_segments(const enrich::AsnTable* table) {
  std::vector<RoutedSegment> out;
  if (table) {
    for (const char* cover : {"0.0.0.0/0", "2000::/3"}) {
      for (const auto& r : table->overlapping(IpPrefix::parse(cover)->prefix)) {
        if (r.asn != 0) out.push_back({r.first, r.last, r.asn});
      }
    }
  }
  if (out.empty()) {
    // Documentation and benchmarking ranges (RFC 5737, RFC 3849) with documentation ASNs.
    const char* ranges[] = {"192.0.2.0/24", "198.51.100.0/24", "203.0.113.0/24", "198.18.0.0/15",
                            "2001:db8::/32"};
    uint32_t asn = 64496;
    for (const char* r : ranges) {
      auto p = IpPrefix::parse(r)->prefix;
      out.push_back({p.first(), p.last(), asn++});
    }
  }
  return out;
}

SyntheticFeed::SyntheticFeed(const core::Catalogue& catalogue,
                             const std::vector<RoutedSegment>& segments, FeedOptions options)
    : catalogue_(catalogue), segments_(segments), options_(options), rng_(options.seed) {
  for (size_t i = 0; i < segments_.size(); ++i) {
    (segments_[i].first.is_v4() ? v4_ : v6_).push_back(i);
  }
  std::vector<double> weights;
  if (options_.only_type) {
    types_.push_back(options_.only_type);
    weights.push_back(1);
  } else {
    for (const auto& w : kMix) {
      if (const auto* t = catalogue_.find(w.type)) {
        types_.push_back(t);
        weights.push_back(w.weight);
      }
    }
  }
  type_dist_ = std::discrete_distribution<size_t>(weights.begin(), weights.end());
}

const core::ReportType* SyntheticFeed::pick_type() {
  return types_[type_dist_(rng_)];
}

IpAddress SyntheticFeed::pick_address(bool v6) {
  const auto& pool = (v6 && !v6_.empty()) || v4_.empty() ? v6_ : v4_;
  const RoutedSegment& s = segments_[pool[rng_() % pool.size()]];
  uint128 span = s.last.u128() - s.first.u128();
  uint128 r = (uint128{rng_()} << 64) | rng_();
  uint128 offset = span == ~uint128{0} ? r : r % (span + 1);
  return IpAddress::from_u128(s.first.u128() + offset);
}

void SyntheticFeed::next(core::Event& event) {
  std::uniform_real_distribution<double> unit(0, 1);
  Recent pick;
  if (!recent_.empty() && unit(rng_) < options_.repeat_fraction) {
    pick = recent_[rng_() % recent_.size()];
  } else {
    pick.type = pick_type();
    bool v6 = pick.type->name.find('6') != std::string::npos || unit(rng_) < options_.ipv6_fraction;
    pick.ip = pick_address(v6);
    uint16_t port = default_port(pick.type->name);
    pick.port = port ? port : static_cast<uint16_t>(1024 + rng_() % 60000);
    pick.tag = static_cast<int>(rng_() % std::size(kTags));
    if (recent_.size() < 4096) {
      recent_.push_back(pick);
    } else {
      recent_[rng_() % recent_.size()] = pick;
    }
  }
  const core::ReportType* type = pick.type;
  event.reset(type);
  UnixSeconds day_start = static_cast<UnixSeconds>(options_.first_day +
                                                   static_cast<DayNumber>(rng_() % options_.days)) *
                          86400;
  event.set_timestamp(day_start + static_cast<UnixSeconds>(rng_() % 86400));
  // For event reports the constituent is the source (the infected or attacking host); the
  // destination is a sinkhole or honeypot in documentation space.
  event.set_ip(pick.ip);
  if (type->common.side[static_cast<int>(core::Side::kDestination)].ip >= 0 &&
      type->constituent_column != "dst_ip") {
    event.set_ip(*IpAddress::parse("192.0.2.10"), core::Side::kDestination);
    event.set_port(pick.port, core::Side::kDestination);
    event.set_port(static_cast<uint16_t>(1024 + rng_() % 60000), core::Side::kSource);
  } else {
    event.set_port(pick.port);
  }
  event.set_protocol(is_udp(type->name) ? "udp" : "tcp");
  event.set_tag(kTags[pick.tag]);
  int family = type->column_index("infection");
  if (family >= 0) event.set_string(family, kFamilies[pick.ip.lo() % std::size(kFamilies)]);
}

registry::RegistrySnapshot synthetic_registry(const std::vector<RoutedSegment>& segments,
                                              size_t count, uint64_t seed,
                                              bool one_holder_per_asn) {
  std::mt19937_64 rng(seed);
  std::unordered_set<uint32_t> claimed_asns;
  registry::RegistrySnapshot snap;
  static const char* kCountries[] = {"NL", "DE", "JP", "US", "BR", "FR", "GB", "IN", "ZA", "AU"};
  for (size_t i = 0; i < count; ++i) {
    registry::OrgRecord rec;
    rec.org.name = "Synthetic organisation " + std::to_string(i + 1);
    rec.org.short_name = "synthetic_" + std::to_string(i + 1);
    int claims = 1 + static_cast<int>(rng() % 2);
    for (int c = 0; c < claims && !segments.empty(); ++c) {
      const RoutedSegment& s = segments[rng() % segments.size()];
      // The prefix of the segment's first address at a typical allocation size.
      int len =
          s.first.is_v4() ? 20 + static_cast<int>(rng() % 5) : 32 + static_cast<int>(rng() % 17);
      registry::Resource r;
      r.kind = registry::ResourceKind::kCidr;
      r.value = IpPrefix::make(s.first, len).to_string();
      rec.resources.push_back(r);
      if (i % 10 == 0 && (!one_holder_per_asn || claimed_asns.insert(s.asn).second)) {
        registry::Resource a;
        a.kind = registry::ResourceKind::kAsn;
        a.value = std::to_string(s.asn);
        rec.resources.push_back(a);
      }
    }
    // One national CSIRT per country (a country has one), however many organisations.
    if (i % 50 == 49 && i / 50 < std::size(kCountries)) {
      rec.org.kind = registry::OrgKind::kNationalCsirt;
      registry::Resource cc;
      cc.kind = registry::ResourceKind::kCountry;
      cc.value = kCountries[i / 50];
      rec.resources.push_back(cc);
    }
    // Deduplicate claims drawn twice.
    std::sort(rec.resources.begin(), rec.resources.end(), [](const auto& a, const auto& b) {
      return std::tie(a.kind, a.value) < std::tie(b.kind, b.value);
    });
    rec.resources.erase(std::unique(rec.resources.begin(), rec.resources.end(),
                                    [](const auto& a, const auto& b) {
                                      return a.kind == b.kind && a.value == b.value;
                                    }),
                        rec.resources.end());
    rec.recipients.push_back(rec.org.short_name + "@synthetic.invalid");
    snap.orgs.push_back(std::move(rec));
  }
  return snap;
}

}  // namespace vantage::pipeline
