#include "store/open_store.h"

namespace vantage::store {

Result<std::unique_ptr<EventStore>> open_event_store(const StoreSettings& settings) {
  if (settings.engine == "sqlite") return open_sqlite_store(settings.sqlite_path, settings.sqlite);
  if (settings.engine == "clickhouse") return open_clickhouse_store(settings.clickhouse);
  return Error::invalid("unknown store engine '" + settings.engine +
                        "' (known: sqlite, clickhouse)");
}

}  // namespace vantage::store
