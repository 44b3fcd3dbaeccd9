#include "store/clickhouse/shard_status.h"

#include "common/strings.h"
#include "store/clickhouse/http.h"

namespace vantage::store {

std::vector<ShardRows> clickhouse_shard_rows(const ClickHouseStoreOptions& options) {
  clickhouse::HttpOptions http_options;
  http_options.connect_timeout = std::chrono::milliseconds(options.connect_timeout_ms);
  // A status page must answer while a shard hangs: a few seconds, no retries.
  http_options.request_timeout = std::chrono::milliseconds(5000);
  http_options.retries = 0;
  clickhouse::ClickHouseHttp http(http_options);

  std::vector<std::string> urls = options.shard_urls;
  if (urls.empty()) urls.push_back(options.url);
  const std::string sql =
      "SELECT table, sum(rows), sum(bytes_on_disk) FROM system.parts WHERE active AND database "
      "= " +
      clickhouse::sql_quote(options.database) +
      " AND table IN ('occurrences', 'routes') GROUP BY table";
  std::vector<ShardRows> shards;
  for (const auto& url : urls) {
    ShardRows s;
    s.url = url;
    auto st = http.query_rows(url, sql, [&](const std::vector<std::string_view>& f) {
      if (f.size() < 3) return true;
      int64_t rows = parse_int(f[1]).value_or(0);
      (f[0] == "occurrences" ? s.occurrence_rows : s.route_rows) += rows;
      s.bytes_on_disk += parse_int(f[2]).value_or(0);
      return true;
    });
    s.up = st.ok();
    if (!st.ok()) s.error = st.error().message;
    shards.push_back(std::move(s));
  }
  return shards;
}

}  // namespace vantage::store
