#include "sensors/scanner/probes/checks/run.h"

#include "common/strings.h"
#include "sensors/scanner/probes/checks/safety.h"

namespace vantage::scanner {
namespace {

// What one step's reply offers to matchers and extractors.
struct ReplyView {
  std::string_view raw;
  const HttpReply* http = nullptr;  // http checks, when the reply parsed
  std::string_view header_block;    // http: status line + headers
};

std::string text_of(const ReplyView& r, const ReplySource& s) {
  if (!s.header.empty()) {
    if (!r.http) return {};
    std::string out;
    auto [lo, hi] = r.http->headers.equal_range(s.header);
    for (auto it = lo; it != hi; ++it) {
      if (!out.empty()) out += '\n';
      out += it->second;
    }
    return out;
  }
  if (!r.http) return std::string(r.raw);  // tcp/udp, or a reply that is not HTTP
  switch (s.part) {
    case ReplySource::Part::body: return r.http->body;
    case ReplySource::Part::headers: return std::string(r.header_block);
    case ReplySource::Part::all: return std::string(r.raw);
  }
  return {};
}

bool has_header(const ReplyView& r, const ReplySource& s) {
  return s.header.empty() || (r.http && r.http->headers.count(s.header));
}

std::optional<std::string> regex_group(const RE2& re, std::string_view text, int group) {
  std::vector<re2::StringPiece> groups(static_cast<size_t>(group) + 1);
  if (!re.Match(re2::StringPiece(text.data(), text.size()), 0, text.size(), RE2::UNANCHORED,
                groups.data(), static_cast<int>(groups.size())))
    return std::nullopt;
  const auto& g = groups[static_cast<size_t>(group)];
  if (g.data() == nullptr) return std::nullopt;  // optional group that did not take part
  return std::string(g.data(), g.size());
}

std::optional<std::string> extract(const Extractor& e, const ReplyView& r) {
  if (!has_header(r, e.source)) return std::nullopt;
  std::optional<std::string> v;
  switch (e.kind) {
    case Extractor::Kind::whole: v = text_of(r, e.source); break;
    case Extractor::Kind::regex: v = regex_group(*e.regex, text_of(r, e.source), e.group); break;
    case Extractor::Kind::json: {
      const std::string body = r.http ? r.http->body : std::string(r.raw);
      const auto doc = nlohmann::json::parse(body, nullptr, false);
      if (doc.is_discarded()) return std::nullopt;
      const nlohmann::json::json_pointer ptr(e.json_pointer);  // validated at load
      if (!doc.contains(ptr)) return std::nullopt;
      const auto& node = doc[ptr];
      if (node.is_string())
        v = node.get<std::string>();
      else if (node.is_primitive() && !node.is_null())
        v = node.dump();
      else
        return std::nullopt;
      break;
    }
    case Extractor::Kind::binary: {
      const std::string_view bytes = r.http ? std::string_view(r.http->body) : r.raw;
      if (bytes.size() < e.offset || bytes.size() - e.offset < e.length) return std::nullopt;
      unsigned long long n = 0;
      for (size_t i = 0; i < e.length; ++i) {
        const size_t at = e.little_endian ? e.offset + e.length - 1 - i : e.offset + i;
        n = (n << 8) | static_cast<unsigned char>(bytes[at]);
      }
      v = std::to_string(n);
      break;
    }
  }
  if (!v) return std::nullopt;
  if (!e.map.empty()) {
    auto it = e.map.find(*v);
    if (it == e.map.end()) return std::nullopt;
    v = it->second;
  }
  // Values travel into later requests and event columns: printable, bounded.
  std::string clean = strip_control(*v);
  if (clean.size() > 1024) clean.resize(1024);
  return clean;
}

bool condition_holds(const Condition& c, const ReplyView& r,
                     const std::map<std::string, std::string>& vars) {
  switch (c.kind) {
    case Condition::Kind::status:
      if (!r.http) return false;
      return std::find(c.status.begin(), c.status.end(), r.http->code) != c.status.end();
    case Condition::Kind::regex: {
      if (!has_header(r, c.source)) return false;
      const std::string text = text_of(r, c.source);
      return RE2::PartialMatch(re2::StringPiece(text.data(), text.size()), *c.regex);
    }
    case Condition::Kind::contains: {
      if (!has_header(r, c.source)) return false;
      const std::string text = text_of(r, c.source);
      for (const auto& n : c.needles)
        if (text.find(n) == std::string::npos) return false;
      return true;
    }
    case Condition::Kind::bytes: {
      if (!has_header(r, c.source)) return false;
      const std::string text = text_of(r, c.source);
      const std::string& n = c.needles[0];
      if (c.offset) return text.size() >= *c.offset && text.compare(*c.offset, n.size(), n) == 0;
      return text.find(n) != std::string::npos;
    }
    case Condition::Kind::version: {
      std::optional<std::string> v;
      if (!c.value_name.empty()) {
        auto it = vars.find(c.value_name);
        if (it != vars.end()) v = it->second;
      } else if (has_header(r, c.source)) {
        v = regex_group(*c.regex, text_of(r, c.source), c.group);
      }
      return v && c.ranges->contains(*v);
    }
    case Condition::Kind::extracted: {
      auto it = vars.find(c.value_name);
      if (it == vars.end()) return false;
      return !c.regex || RE2::PartialMatch(it->second, *c.regex);
    }
  }
  return false;
}

bool matches(const Matcher& m, const ReplyView& r, const std::map<std::string, std::string>& vars) {
  switch (m.kind) {
    case Matcher::Kind::all:
      for (const auto& c : m.children)
        if (!matches(c, r, vars)) return false;
      return true;
    case Matcher::Kind::any:
      for (const auto& c : m.children)
        if (matches(c, r, vars)) return true;
      return false;
    case Matcher::Kind::negate: return !matches(m.children[0], r, vars);
    case Matcher::Kind::condition: return condition_holds(*m.condition, r, vars);
  }
  return false;
}

// Percent-encodes a value for a path (everything but RFC 3986 unreserved characters and '/'),
// so a server's reply cannot smuggle a query, a fragment or an escape into a later request.
std::string path_escape(std::string_view v) {
  static const char* hex = "0123456789ABCDEF";
  std::string out;
  for (char ch : v) {
    const auto u = static_cast<unsigned char>(ch);
    if (std::isalnum(u) || ch == '-' || ch == '.' || ch == '_' || ch == '~' || ch == '/') {
      out += ch;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

// Replaces {{name}} with the variable's value (escaped by `escape`); Error on a missing one.
template <typename Escape>
Result<std::string> substitute(std::string_view text,
                               const std::map<std::string, std::string>& vars, Escape escape) {
  std::string out;
  while (true) {
    const size_t open = text.find("{{");
    if (open == std::string_view::npos) break;
    const size_t close = text.find("}}", open);
    if (close == std::string_view::npos) return Error::invalid("unclosed {{");
    out.append(text.substr(0, open));
    const std::string name(text.substr(open + 2, close - open - 2));
    auto it = vars.find(name);
    if (it == vars.end()) return Error::not_found("no value for {{" + name + "}}");
    out += escape(it->second);
    text.remove_prefix(close + 2);
  }
  out.append(text);
  return out;
}

}  // namespace

std::string check_host(const ProbeTarget& t) {
  if (!t.host.empty()) return t.host;
  return t.ip.is_v4() ? t.ip.to_string() : "[" + t.ip.to_string() + "]";
}

CheckRun::CheckRun(std::shared_ptr<const CheckTemplate> check, const ProbeTarget& target)
    : check_(std::move(check)), target_(target) {
  vars_["host"] = check_host(target);
  vars_["ip"] = target.ip.to_string();
  vars_["port"] = std::to_string(target.port);
  over_ = check_->steps.empty();
}

Result<std::string> CheckRun::request() {
  if (over_) return Error::invalid("check is over");
  const CheckStep& s = check_->steps[step_];
  auto stop = [&](const Error& e) -> Result<std::string> {
    over_ = true;
    why_not_ = "step " + std::to_string(step_ + 1) + ": " + e.message;
    return e;
  };
  if (!s.http) {
    auto payload = substitute(s.payload, vars_, [](const std::string& v) { return v; });
    if (!payload) return stop(payload.error());
    if (auto st = check_safety::raw_payload(*payload); !st) return stop(st.error());
    return *payload;
  }
  auto path = substitute(s.http->path, vars_, path_escape);
  if (!path) return stop(path.error());
  if (auto st = check_safety::http_path(*path); !st) return stop(st.error());
  std::string req = s.http->method + " " + *path + " HTTP/1.1\r\nHost: " + vars_["host"] + "\r\n";
  bool has_ua = false, has_accept = false;
  for (const auto& [name, value] : s.http->headers) {
    auto v = substitute(value, vars_, [](const std::string& x) { return x; });
    if (!v) return stop(v.error());
    if (auto st = check_safety::http_header(name, *v); !st) return stop(st.error());
    const std::string lname = to_lower(name);
    has_ua = has_ua || lname == "user-agent";
    has_accept = has_accept || lname == "accept";
    req += name + ": " + *v + "\r\n";
  }
  if (!has_ua) req += "User-Agent: Mozilla/5.0 (compatible; Vantage scanner)\r\n";
  if (!has_accept) req += "Accept: */*\r\n";
  req += "Connection: close\r\n\r\n";
  return req;
}

bool CheckRun::reply_complete(std::string_view reply) const {
  if (over_) return true;
  const CheckStep& s = check_->steps[step_];
  if (check_->protocol == CheckProtocol::http) {
    // A HEAD reply announces a body it never sends: its headers are the whole reply.
    if (s.http && s.http->method == "HEAD") return reply.find("\r\n\r\n") != std::string_view::npos;
    return http_reply_complete(reply);
  }
  if (check_->protocol == CheckProtocol::udp) return !reply.empty();
  if (s.until) return RE2::PartialMatch(re2::StringPiece(reply.data(), reply.size()), *s.until);
  if (s.min_bytes) return reply.size() >= s.min_bytes;
  return !reply.empty();
}

void CheckRun::take_reply(std::string_view reply) {
  if (over_) return;
  const CheckStep& s = check_->steps[step_];
  ReplyView view;
  view.raw = reply;
  std::optional<HttpReply> http;
  if (check_->protocol == CheckProtocol::http) {
    auto parsed = parse_http_reply(reply);
    if (parsed) {
      http = std::move(*parsed);
      view.http = &*http;
      const size_t end = reply.find("\r\n\r\n");
      view.header_block = reply.substr(0, end == std::string_view::npos ? reply.size() : end);
    }
  }
  for (const auto& e : s.extract) {
    auto v = extract(e, view);
    if (!v) continue;
    vars_[e.name] = *v;
    if (!e.column.empty()) columns_[e.column] = *v;
  }
  const size_t n = step_ + 1;
  if (check_->protocol == CheckProtocol::http && !http) {
    over_ = true;
    why_not_ =
        "step " + std::to_string(n) + ": " + (reply.empty() ? "no reply" : "not an HTTP reply");
    return;
  }
  const bool ok = !s.match || matches(*s.match, view, vars_);
  if (http) last_http_ = std::move(http);  // view.http points into it: only after matching
  if (!ok) {
    over_ = true;
    why_not_ = "step " + std::to_string(n) + " does not match";
    return;
  }
  if (++step_ == check_->steps.size()) {
    over_ = true;
    matched_all_ = true;
  }
}

Result<nlohmann::json> CheckRun::result() const {
  if (!matched_all_) return Error::not_found(why_not_);
  nlohmann::json f = columns_;
  f["severity"] = check_->severity;
  f["tag"] = check_->tag;
  auto has = [&](const char* col) {
    return std::find(check_->columns.begin(), check_->columns.end(), col) != check_->columns.end();
  };
  if (last_http_) {
    const HttpReply& r = *last_http_;
    if (has("http")) f["http"] = r.version;
    if (has("http_code")) f["http_code"] = r.code;
    if (has("http_reason")) f["http_reason"] = r.reason;
    const std::pair<const char*, const char*> map[] = {{"content_type", "content-type"},
                                                       {"server", "server"},
                                                       {"content_length", "content-length"},
                                                       {"http_date", "date"}};
    for (const auto& [col, hdr] : map)
      if (has(col) && !f.contains(col))
        if (auto v = r.header(hdr)) f[col] = *v;
  }
  if (has("detail") && !f.contains("detail") && !check_->detail.empty())
    f["detail"] = check_->detail;
  return f;
}

}  // namespace vantage::scanner
