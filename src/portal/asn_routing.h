#pragma once
// The enrichment stage's routing table (enrich::AsnTable) seen through the registry's
// RoutingView, so claims are checked against the same routing data that enriches events:
// `vantage org verify` and the portal's registration use it.
//
// Thread-safety: const calls may run concurrently (the ASN index is built once, under
// std::call_once).

#include <memory>
#include <mutex>
#include <unordered_map>
#include <vector>

#include "enrich/asn_table.h"
#include "registry/verification.h"

namespace vantage::portal {

class AsnTableRouting final : public registry::RoutingView {
 public:
  // `owner` keeps `table` alive (an enrichment snapshot, or the table itself).
  AsnTableRouting(std::shared_ptr<const void> owner, const enrich::AsnTable* table)
      : owner_(std::move(owner)), table_(table) {}
  explicit AsnTableRouting(std::shared_ptr<const enrich::AsnTable> table)
      : AsnTableRouting(table, table.get()) {}

  std::vector<registry::RouteRange> ranges_overlapping(const IpPrefix& prefix) const override;
  std::vector<registry::RouteRange> ranges_of_asn(uint32_t asn) const override;

 private:
  std::shared_ptr<const void> owner_;
  const enrich::AsnTable* table_;
  mutable std::once_flag once_;
  mutable std::unordered_map<uint32_t, std::vector<uint32_t>> by_asn_;
};

}  // namespace vantage::portal
