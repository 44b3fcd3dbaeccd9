#include "integrations/answers.h"

#include <nlohmann/json.hpp>

#include "common/strings.h"
#include "integrations/base64.h"

namespace vantage::integrations {

using json = nlohmann::json;

Result<BulkAnswer> parse_bulk_answer(std::string_view body) {
  json j = json::parse(body, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("items") || !j["items"].is_array())
    return Error::invalid("not a bulk response");
  BulkAnswer out;
  if (!j.value("errors", false)) return out;
  for (const auto& item : j["items"]) {
    if (!item.is_object() || item.empty() || !item.begin().value().is_object()) continue;
    const json& op = item.begin().value();
    int64_t status =
        op.contains("status") && op["status"].is_number_integer() ? op["status"].get<int64_t>() : 0;
    if (status < 300 || status == 409) continue;
    if (status == 429 || status >= 500) {
      ++out.retryable;
      continue;
    }
    RejectedItem rejected;
    if (op.contains("_id") && op["_id"].is_string()) {
      const std::string& id = op["_id"].get_ref<const std::string&>();
      if (auto colon = id.rfind(':'); colon != std::string::npos)
        rejected.event_id = parse_int(std::string_view(id).substr(colon + 1)).value_or(0);
    }
    std::string reason = op.contains("error")
                             ? op["error"].dump(-1, ' ', false, json::error_handler_t::replace)
                             : std::string();
    rejected.reason =
        "HTTP " + std::to_string(status) + ": " + strip_control(reason.substr(0, 200));
    out.rejected.push_back(std::move(rejected));
  }
  return out;
}

Result<std::vector<ListedReport>> parse_report_list(std::string_view body) {
  json list = json::parse(body, nullptr, false);
  if (list.is_discarded() || !list.is_array())
    return Error::invalid("reports/list did not answer a JSON list");
  auto text = [](const json& e, const char* key) {
    auto it = e.find(key);
    return it != e.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  std::vector<ListedReport> out;
  for (const auto& e : list) {
    if (!e.is_object() || !e.contains("id") || !e["id"].is_string() || !e.contains("file") ||
        !e["file"].is_string())
      return Error::invalid("reports/list entry without id or file");
    ListedReport r{text(e, "id"), text(e, "file"), text(e, "type"), text(e, "report"),
                   text(e, "timestamp")};
    // The sample list (reports "test") is not data to ingest.
    if (r.report == "test" || r.id.rfind("test:", 0) == 0) continue;
    if (r.id.empty() || r.id.size() > 128 || has_control(r.id)) continue;
    out.push_back(std::move(r));
  }
  return out;
}

std::optional<std::pair<std::string, std::string>> parse_basic_credentials(
    std::string_view header) {
  header = trim(header);
  if (header.size() < 7 || to_lower(header.substr(0, 6)) != "basic ") return std::nullopt;
  auto decoded = base64_decode(trim(header.substr(6)));
  if (!decoded) return std::nullopt;
  size_t colon = decoded->find(':');
  if (colon == std::string::npos) return std::nullopt;
  return std::make_pair(decoded->substr(0, colon), decoded->substr(colon + 1));
}

}  // namespace vantage::integrations
