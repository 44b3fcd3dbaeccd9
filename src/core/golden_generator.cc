#include "core/golden_generator.h"

#include <iterator>
#include <string_view>

#include "core/csv_writer.h"

namespace vantage::core::testing {

namespace {

// splitmix64: tiny, well-distributed, and identical everywhere.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return next() % n; }
  template <typename T, size_t N>
  const T& pick(const T (&pool)[N]) {
    return pool[below(N)];
  }
};

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (char c : s) h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
  return h;
}

bool has(std::string_view name, std::string_view part) {
  return name.find(part) != name.npos;
}
bool ends(std::string_view name, std::string_view suffix) {
  return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
}

constexpr std::string_view kGeo[] = {"NL", "DE", "JP", "BR", "US", "ZA", "NO"};
constexpr std::string_view kRegion[] = {"NOORD-HOLLAND", "TOKYO", "S\xC3\x83O PAULO",
                                        "BADEN-W\xC3\x9CRTTEMBERG", "TROMS OG FINNMARK"};
constexpr std::string_view kCity[] = {"AMSTERDAM", "\xE6\x9D\xB1\xE4\xBA\xAC", "M\xC3\x9CNCHEN",
                                      "S\xC3\x83O PAULO", "TROMVIK"};
constexpr std::string_view kHost[] = {"host-1.example.net", "mail.example.org",
                                      "xn--bcher-kva.example", "vpn.corp.example.com"};
constexpr std::string_view kTag[] = {"ssl,vpn", "cve-2023-1234", "rdp", "ics;modbus",
                                     "openssh,cve-2024-6387"};
constexpr std::string_view kSector[] = {"Communications, Service Provider, and Hosting Service",
                                        "Education", "Government and Public Administration"};
constexpr std::string_view kUrl[] = {"http://example.com/a?b=1&c=\"2\"",
                                     "https://example.org/path,with,commas",
                                     "http://192.0.2.10:8080/login.php"};
constexpr std::string_view kText[] = {
    "Apache/2.4.41 (Ubuntu)",
    "say \"hello\", then leave",
    "a,b,c",
    "Z\xC3\xBCrich \xE2\x80\x93 Gr\xC3\xB6\xC3\x9F"
    "e",
    "plain",
    "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E\xE3\x83\x86\xE3\x82\xAD\xE3\x82\xB9\xE3\x83\x88",
    "' OR 1=1 --",
    "\"\"",
    "trailing space ",
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA"};
constexpr int64_t kPort[] = {22, 80, 443, 502, 8080, 65535};
constexpr int64_t kNaics[] = {517311, 611310, 921190, 518210};
constexpr double kFloat[] = {0.5, 12.25, 0.001, 1e-07, 123456.789, -3.5, 4.0};
constexpr const char* kSeverity[] = {"critical", "high", "medium", "low", "info"};

std::string_view string_value(std::string_view name, Rng& rng) {
  if (name == "severity") return rng.pick(kSeverity);
  if (ends(name, "geo")) return rng.pick(kGeo);
  if (ends(name, "region")) return rng.pick(kRegion);
  if (ends(name, "city")) return rng.pick(kCity);
  if (ends(name, "hostname") || name == "http_host" || name == "domain" || name == "website") {
    return rng.pick(kHost);
  }
  if (name == "tag") return rng.pick(kTag);
  if (ends(name, "sector")) return rng.pick(kSector);
  if (name == "protocol") return rng.next() & 1 ? "tcp" : "udp";
  if (has(name, "url")) return rng.pick(kUrl);
  if (name == "email") return "abuse+reports@example.org";
  return rng.pick(kText);
}

void set_value(Event& e, int col, Rng& rng, bool is_v6_type) {
  const Column& c = e.type()->columns[static_cast<size_t>(col)];
  switch (c.kind) {
    case ColumnKind::kTimestamp:
      // 2026-03-01 .. 2026-03-30, whole seconds.
      e.set_time(col, 1772323200 + static_cast<int64_t>(rng.below(30 * 86400)));
      break;
    case ColumnKind::kIp: {
      // One draw per statement: the order in which function arguments or operands are
      // evaluated is unspecified, and the files must not depend on the compiler.
      const bool v6 = is_v6_type ? rng.below(4) != 0 : rng.below(4) == 0;
      if (v6) {
        const uint64_t hi = 0x20010db800000000ULL | rng.below(0x10000);
        const bool sparse = rng.below(3) != 0;
        const uint64_t lo = sparse ? rng.below(0x10000) : rng.next();
        e.set_ip(col, IpAddress::from_v6(hi, lo));
      } else {
        static constexpr uint32_t kNets[] = {0xC0000200, 0xC6336400, 0xCB007100};  // TEST-NETs
        const uint32_t net = rng.pick(kNets);
        const uint32_t host = static_cast<uint32_t>(rng.below(256));
        e.set_ip(col, IpAddress::from_v4(net | host));
      }
      break;
    }
    case ColumnKind::kInteger:
      if (has(c.name, "port")) {
        e.set_int(col, rng.pick(kPort));
      } else if (ends(c.name, "asn")) {
        e.set_int(col, 64496 + static_cast<int64_t>(rng.below(16)));
      } else if (ends(c.name, "naics")) {
        e.set_int(col, rng.pick(kNaics));
      } else {
        e.set_int(col, static_cast<int64_t>(rng.below(200000)) - 5);
      }
      break;
    case ColumnKind::kFloat: e.set_float(col, rng.pick(kFloat)); break;
    case ColumnKind::kBoolean: e.set_bool(col, rng.next() & 1); break;
    case ColumnKind::kString: e.set_string(col, string_value(c.name, rng)); break;
  }
}

}  // namespace

std::vector<Event> golden_events(const ReportType& type) {
  Rng rng{fnv1a(type.name)};
  const bool v6 = has(type.name, "6");
  std::vector<Event> rows;
  for (int r = 0; r < 4; ++r) {
    Event e(&type);
    for (int col = 0; col < e.size(); ++col) {
      const bool is_ts = type.columns[static_cast<size_t>(col)].name == "timestamp";
      if (r == 3 && !is_ts) continue;  // only the timestamp
      if ((r == 1 || r == 2) && !is_ts) {
        uint64_t roll = rng.below(100);
        if (roll < 20) continue;  // null
        if (roll < 27 && e.kind(col) == ColumnKind::kString) {
          e.set_string(col, "");  // explicitly empty
          continue;
        }
      }
      set_value(e, col, rng, v6);
    }
    rows.push_back(std::move(e));
  }
  return rows;
}

std::string golden_csv(const ReportType& type) {
  std::string out;
  append_csv_header(type, out);
  for (const Event& e : golden_events(type)) append_csv_record(e, out);
  return out;
}

}  // namespace vantage::core::testing
