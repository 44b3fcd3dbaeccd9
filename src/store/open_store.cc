#include "store/open_store.h"

namespace vantage::store {

Result<std::unique_ptr<EventStore>> open_event_store(const StoreSettings& settings) {
  if (settings.engine == "sqlite") return open_sqlite_store(settings.sqlite_path, settings.sqlite);
  if (settings.engine == "segment") {
    return open_segment_store(settings.segment_path, settings.segment);
  }
  if (settings.engine == "clickhouse") return open_clickhouse_store(settings.clickhouse);
  return Error::invalid("unknown store engine '" + settings.engine +
                        "' (known: sqlite, segment, clickhouse)");
}

}  // namespace vantage::store
