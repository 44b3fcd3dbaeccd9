#pragma once
// What each ClickHouse shard of the cluster store holds, for `vantage status` and /metrics:
// rows and bytes on disk of the sharded tables (occurrences, routes), read from the shard's
// own system.parts (active parts only, so rows a merge will still collapse are counted until
// it runs). A shard that does not answer is listed with its error, not left out: an operator
// looking at a dashboard must see that a shard is down.

#include <cstdint>
#include <string>
#include <vector>

#include "store/store.h"

namespace vantage::store {

struct ShardRows {
  std::string url;
  bool up = false;
  std::string error;  // why the shard did not answer (empty when up)
  int64_t occurrence_rows = 0;
  int64_t route_rows = 0;
  int64_t bytes_on_disk = 0;  // both tables
};

// One short query per shard (the options' connect timeout, no retries); never fails as a
// whole. The shards are options.shard_urls, or options.url alone when that list is empty.
std::vector<ShardRows> clickhouse_shard_rows(const ClickHouseStoreOptions& options);

}  // namespace vantage::store
