#pragma once
// Synthetic events and organisations for benchmarks, tests and demos -- clearly labelled:
// every event carries the tag "synthetic", generated files are named "...-synthetic-...",
// and generated organisations are named "Synthetic organisation N".
//
// Realism where it matters for measuring the pipeline: addresses are drawn from real routed
// segments (the ASN table) so enrichment and routing hit the same data paths as production;
// the type mix is weighted towards the high-volume scan/device/sinkhole reports; about a
// fifth of events repeat an earlier event (same host, port and tag) so deduplication works;
// ports and protocols follow the report type. Deterministic for a given seed.

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "common/ip.h"
#include "common/time.h"
#include "core/catalogue.h"
#include "core/event.h"
#include "registry/model.h"

namespace vantage::enrich {
class AsnTable;
}

namespace vantage::pipeline {

struct RoutedSegment {
  IpAddress first;
  IpAddress last;
  uint32_t asn = 0;
};

// Every routed segment of the table (IPv4 and global-unicast IPv6); without a table, a small
// built-in set of documentation ranges (so tests run without the npm data).
std::vector<RoutedSegment> routed_segments(const enrich::AsnTable* table);

struct FeedOptions {
  uint64_t seed = 1;
  DayNumber first_day = 0;
  int days = 1;
  const core::ReportType* only_type = nullptr;  // null: the weighted mix
  double repeat_fraction = 0.2;
  double ipv6_fraction = 0.05;
};

class SyntheticFeed {
 public:
  SyntheticFeed(const core::Catalogue& catalogue, const std::vector<RoutedSegment>& segments,
                FeedOptions options);
  // Fills `event` with the next synthetic event.
  void next(core::Event& event);

 private:
  const core::ReportType* pick_type();
  IpAddress pick_address(bool v6);

  const core::Catalogue& catalogue_;
  const std::vector<RoutedSegment>& segments_;
  std::vector<size_t> v4_, v6_;  // indices of segments per family
  FeedOptions options_;
  std::mt19937_64 rng_;
  std::vector<const core::ReportType*> types_;
  std::discrete_distribution<size_t> type_dist_;
  struct Recent {
    const core::ReportType* type;
    IpAddress ip;
    uint16_t port;
    int tag;
  };
  std::vector<Recent> recent_;
};

// `count` organisations, each claiming the prefix around one or two routed segments and,
// for every tenth, an ASN; the 50th, 100th, ... up to the tenth such are national CSIRTs for
// ten countries (one each). ASNs are drawn by segment, so a large AS is claimed by many
// organisations (a pessimistic fan-out: ~11 organisations per event with 100,000 of them);
// with `one_holder_per_asn` an ASN already claimed is not claimed again, as in a registry
// whose AS holders verified their claims.
registry::RegistrySnapshot synthetic_registry(const std::vector<RoutedSegment>& segments,
                                              size_t count, uint64_t seed,
                                              bool one_holder_per_asn = false);

}  // namespace vantage::pipeline
