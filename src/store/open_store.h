#pragma once
// The one place that turns the configured engine into an EventStore, so every command and
// service opens the same kind of store ("sqlite": the embedded file in the data directory;
// "segment": the embedded segment store in the data directory; "clickhouse": the cluster
// store).

#include <memory>
#include <string>

#include "common/result.h"
#include "store/store.h"

namespace vantage::store {

struct StoreSettings {
  std::string engine = "sqlite";  // "sqlite", "segment" or "clickhouse"
  std::string sqlite_path;        // the embedded store's file
  SqliteStoreOptions sqlite;
  std::string segment_path;  // the segment store's directory
  SegmentStoreOptions segment;
  ClickHouseStoreOptions clickhouse;
};

Result<std::unique_ptr<EventStore>> open_event_store(const StoreSettings& settings);

}  // namespace vantage::store
