#include "portal/asn_routing.h"

namespace vantage::portal {

std::vector<registry::RouteRange> AsnTableRouting::ranges_overlapping(
    const IpPrefix& prefix) const {
  std::vector<registry::RouteRange> out;
  for (const auto& r : table_->overlapping(prefix))
    out.push_back({r.first, r.last, r.asn, std::string(r.name)});
  return out;
}

std::vector<registry::RouteRange> AsnTableRouting::ranges_of_asn(uint32_t asn) const {
  // The table is indexed by address; an ASN index is built once, on first use.
  std::call_once(once_, [this] {
    const size_t n = table_->v4_size() + table_->v6_size();
    for (size_t i = 0; i < n; ++i)
      by_asn_[table_->asn_at(static_cast<uint32_t>(i))].push_back(static_cast<uint32_t>(i));
  });
  std::vector<registry::RouteRange> out;
  auto it = by_asn_.find(asn);
  if (it == by_asn_.end()) return out;
  for (uint32_t i : it->second) {
    auto r = table_->record_at(i);
    out.push_back({r.first, r.last, r.asn, std::string(r.name)});
  }
  return out;
}

}  // namespace vantage::portal
