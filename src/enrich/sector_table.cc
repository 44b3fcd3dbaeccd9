#include "enrich/sector_table.h"

#include <algorithm>
#include <map>

#include "common/strings.h"
#include "enrich/csv.h"

namespace vantage::enrich {
namespace {

IpAddress mask128(const IpAddress& a, int len128) {
  uint128 v = a.u128();
  uint128 m = len128 == 0 ? 0 : (~uint128{0} << (128 - len128));
  return IpAddress::from_u128(v & m);
}

}  // namespace

Result<std::shared_ptr<const SectorTable>> SectorTable::load(const std::string& path) {
  std::string text, err;
  if (!csv::read_file(path, text, err)) return Error::io(err);
  return parse(text, path);
}

Result<std::shared_ptr<const SectorTable>> SectorTable::parse(std::string_view text,
                                                              const std::string& source_name) {
  std::shared_ptr<SectorTable> t(new SectorTable());
  struct Pending {
    bool is_asn;
    uint32_t asn;
    IpPrefix prefix;
    uint32_t naics;
    size_t sector_idx;
  };
  std::vector<Pending> rows;
  std::vector<std::string_view> fields;
  std::vector<std::string> scratch;
  std::string err;
  csv::LineReader reader(text);
  std::string_view line;
  size_t line_no = 0;
  auto fail = [&](const std::string& why) {
    return Error::invalid(source_name + ":" + std::to_string(line_no) + ": " + why);
  };
  std::vector<std::string> sectors;
  while (reader.next(line, line_no)) {
    std::string_view l = trim(line);
    if (l.empty() || l.front() == '#') continue;
    if (!csv::split_fields(l, fields, scratch, err)) return fail(err);
    if (fields.size() != 3) {
      return fail("expected 3 fields (asn_or_cidr,naics,sector), got " +
                  std::to_string(fields.size()));
    }
    std::string_view key = trim(fields[0]);
    if (key == "asn_or_cidr") continue;  // header
    Pending p{};
    if (key.find('/') != std::string_view::npos || key.find(':') != std::string_view::npos ||
        std::count(key.begin(), key.end(), '.') == 3) {
      auto parsed = IpPrefix::parse(key);
      if (!parsed) return fail("bad CIDR '" + std::string(key) + "': " + parsed.error().message);
      if (parsed->had_host_bits) {
        return fail("CIDR '" + std::string(key) + "' has host bits set");
      }
      p.is_asn = false;
      p.prefix = parsed->prefix;
    } else {
      std::string_view digits = key;
      if (digits.size() > 2 && (digits[0] == 'A' || digits[0] == 'a') &&
          (digits[1] == 'S' || digits[1] == 's')) {
        digits.remove_prefix(2);
      }
      auto asn = parse_uint(digits);
      if (!asn || *asn == 0 || *asn > UINT32_MAX) {
        return fail("bad ASN or CIDR '" + std::string(key) + "'");
      }
      p.is_asn = true;
      p.asn = static_cast<uint32_t>(*asn);
    }
    std::string_view naics = trim(fields[1]);
    if (!naics.empty()) {
      auto n = parse_uint(naics);
      if (!n || naics.size() < 2 || naics.size() > 6) {
        return fail("bad NAICS code '" + std::string(naics) + "' (2-6 digits)");
      }
      p.naics = static_cast<uint32_t>(*n);
    }
    std::string_view sector = trim(fields[2]);
    if (has_control(sector)) return fail("control character in sector");
    if (p.naics == 0 && sector.empty()) return fail("neither naics nor sector given");
    p.sector_idx = sectors.size();
    sectors.emplace_back(sector);
    rows.push_back(p);
  }
  // Views into sectors_ are taken only after it has its final home and size.
  t->sectors_ = std::move(sectors);
  std::map<int, std::unordered_map<PrefixKey, SectorInfo, PrefixHash>, std::greater<>> by_len;
  for (const Pending& p : rows) {
    SectorInfo info{p.naics, t->sectors_[p.sector_idx]};
    if (p.is_asn) {
      if (!t->by_asn_.emplace(p.asn, info).second) {
        return Error::invalid(source_name + ": AS" + std::to_string(p.asn) + " listed twice");
      }
    } else {
      IpAddress a = p.prefix.address();
      if (!by_len[p.prefix.length128()].emplace(PrefixKey{a.hi(), a.lo()}, info).second) {
        return Error::invalid(source_name + ": " + p.prefix.to_string() + " listed twice");
      }
      ++t->cidr_count_;
    }
  }
  for (auto& [len, m] : by_len) t->by_len_.emplace_back(len, std::move(m));
  return std::shared_ptr<const SectorTable>(std::move(t));
}

const SectorInfo* SectorTable::lookup(const IpAddress& a, uint32_t asn) const {
  for (const auto& [len, m] : by_len_) {
    // IPv4 is held as ::ffff:a.b.c.d and IPv4 prefixes as /96+n, so one 128-bit mask
    // serves both families.
    IpAddress k = mask128(a, len);
    auto it = m.find(PrefixKey{k.hi(), k.lo()});
    if (it != m.end()) return &it->second;
  }
  if (asn != 0) {
    auto it = by_asn_.find(asn);
    if (it != by_asn_.end()) return &it->second;
  }
  return nullptr;
}

}  // namespace vantage::enrich
