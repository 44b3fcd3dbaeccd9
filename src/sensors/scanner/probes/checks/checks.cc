#include "sensors/scanner/probes/checks/checks.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <sstream>

#include "sensors/scanner/probes/http/http.h"

namespace vantage::scanner {
namespace {

struct Rules {
  std::vector<int> status;
  std::vector<std::pair<std::string, std::regex>> headers;
  std::vector<std::string> body_contains;
  std::optional<std::regex> body_regex;
  std::string severity, detail;
};

}  // namespace

Result<ProbeModule> parse_check(std::string_view text, std::string_view origin) {
  const std::string where(origin);
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return Error::invalid(where + ": not a JSON object");
  try {
    auto rules = std::make_shared<Rules>();
    ProbeModule m;
    const std::string id = j.at("id").get<std::string>();
    if (id.empty()) return Error::invalid(where + ": empty id");
    m.name = "check:" + id;
    m.tag = j.value("tag", id);
    m.report_type = j.value("report_type", std::string("scan_http_vulnerable"));
    m.default_port = j.value("port", uint16_t{80});
    rules->severity = j.value("severity", std::string("medium"));
    rules->detail = j.value("detail", std::string());
    const auto& req = j.at("request");
    const std::string method = req.value("method", std::string("GET"));
    const std::string path = req.value("path", std::string("/"));
    if (method != "GET" && method != "HEAD")
      return Error::invalid(where + ": method must be GET or HEAD");
    if (path.empty() || path[0] != '/' || path.find_first_of("\r\n ") != std::string::npos)
      return Error::invalid(where + ": bad request path");
    const auto& match = j.at("match");
    if (match.contains("status")) rules->status = match["status"].get<std::vector<int>>();
    if (match.contains("headers")) {
      for (const auto& [name, re] : match["headers"].items()) {
        std::string lname = name;
        std::transform(lname.begin(), lname.end(), lname.begin(),
                       [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
        rules->headers.emplace_back(lname, std::regex(re.get<std::string>()));
      }
    }
    if (match.contains("body_contains"))
      rules->body_contains = match["body_contains"].get<std::vector<std::string>>();
    if (match.contains("body_regex"))
      rules->body_regex = std::regex(match["body_regex"].get<std::string>());
    if (rules->status.empty() && rules->headers.empty() && rules->body_contains.empty() &&
        !rules->body_regex)
      return Error::invalid(where + ": a check needs at least one match rule");
    m.columns = {"http",   "http_code",      "http_reason", "content_type",
                 "server", "content_length", "http_date",   "detail"};
    m.request = [method, path](const ProbeTarget& t) {
      const std::string host = t.ip.is_v4() ? t.ip.to_string() : "[" + t.ip.to_string() + "]";
      return http_get_request(host, path, method);
    };
    m.complete = http_reply_complete;
    m.parse = [rules](std::string_view bytes) -> Result<nlohmann::json> {
      auto r = parse_http_reply(bytes);
      if (!r) return r.error();
      if (!rules->status.empty() &&
          std::find(rules->status.begin(), rules->status.end(), r->code) == rules->status.end())
        return Error::not_found("status does not match");
      for (const auto& [name, re] : rules->headers) {
        auto v = r->header(name);
        if (!v || !std::regex_search(*v, re)) return Error::not_found("header does not match");
      }
      for (const auto& s : rules->body_contains)
        if (r->body.find(s) == std::string::npos) return Error::not_found("body does not match");
      if (rules->body_regex && !std::regex_search(r->body, *rules->body_regex))
        return Error::not_found("body does not match");
      nlohmann::json f = nlohmann::json::object();
      f["severity"] = rules->severity;
      f["http"] = r->version;
      f["http_code"] = r->code;
      f["http_reason"] = r->reason;
      if (auto v = r->header("content-type")) f["content_type"] = *v;
      if (auto v = r->header("server")) f["server"] = *v;
      if (auto v = r->header("content-length")) f["content_length"] = *v;
      if (auto v = r->header("date")) f["http_date"] = *v;
      if (!rules->detail.empty()) f["detail"] = rules->detail;
      return f;
    };
    return m;
  } catch (const std::exception& e) {
    return Error::invalid(where + ": " + e.what());
  }
}

Result<std::vector<ProbeModule>> load_checks(const std::string& dir) {
  std::vector<std::filesystem::path> files;
  std::error_code ec;
  for (const auto& e : std::filesystem::directory_iterator(dir, ec))
    if (e.path().extension() == ".json") files.push_back(e.path());
  if (ec) return Error::io("cannot read " + dir + ": " + ec.message());
  std::sort(files.begin(), files.end());
  std::vector<ProbeModule> out;
  for (const auto& f : files) {
    std::ifstream in(f);
    std::stringstream ss;
    ss << in.rdbuf();
    auto m = parse_check(ss.str(), f.string());
    if (!m) return m.error();
    out.push_back(std::move(*m));
  }
  return out;
}

}  // namespace vantage::scanner
