// The HTTP destination kinds:
//   webhook  POST <url>, JSON Lines (one event object per line), signed: X-Vantage-Timestamp
//            and X-Vantage-Signature: v1=hex(HMAC-SHA256(secret, "<timestamp>.<body>")) -- the
//            api2 HMAC with the time bound in, so a receiver can refuse replays outside its
//            window -- and X-Vantage-Delivery "<subscription id>-<seq>", the same on every
//            retry of a batch (a receiver deduplicates on it).
//   elastic  POST <url>/_bulk, application/x-ndjson: {"create":{"_index":..,"_id":..}} then the
//            ECS document, per event; _id is "<org>:<event id>", so a retried batch creates
//            nothing twice (409 answers count as already there).
//   splunk   POST <url>/services/collector/event, "Authorization: Splunk <token>", one HEC
//            envelope {"time","host","source","sourcetype","index","event"} per event.

#include <nlohmann/json.hpp>

#include "api/params.h"
#include "common/strings.h"
#include "integrations/answers.h"
#include "integrations/base64.h"
#include "integrations/event_render.h"
#include "integrations/http_client.h"
#include "integrations/sinks/options.h"
#include "integrations/sinks/registry.h"

namespace vantage::integrations {

namespace {

using json = nlohmann::json;
using Type = OptionSpec::Type;

constexpr int64_t kMaxTimeout = 300;

// Up to 200 printable characters of a receiver's answer, for the delivery log.
std::string excerpt(std::string_view body) {
  std::string out = strip_control(body.substr(0, 200));
  return out;
}

// The common HTTP outcome rule: 2xx delivered, anything else (no answer, 3xx, 4xx, 5xx) is
// retried with back-off until the subscription's attempts run out -- a receiver answering
// 404 or 401 is usually misconfigured, and fixing it should not lose the alerts meanwhile.
SendResult classify(const Result<HttpReply>& r) {
  if (!r) return SendResult::retry(0, r.error().message);
  if (r->status >= 200 && r->status < 300) return SendResult::delivered(r->status);
  return SendResult::retry(r->status,
                           "HTTP " + std::to_string(r->status) + ": " + excerpt(r->body));
}

std::string join_url(const std::string& base, std::string_view path) {
  std::string out = base;
  while (!out.empty() && out.back() == '/') out.pop_back();
  return out + std::string(path);
}

// The path part of a URL ("" when it has none beyond "/").
std::string_view url_path(std::string_view url) {
  size_t scheme = url.find("://");
  size_t slash = url.find('/', scheme == url.npos ? 0 : scheme + 3);
  if (slash == url.npos) return {};
  std::string_view p = url.substr(slash);
  return p == "/" ? std::string_view() : p;
}

class JsonFormatter : public Formatter {
 public:
  // kLines: one JSON object per line (webhook); kHec: each wrapped in a HEC envelope.
  enum class Shape { kLines, kHec, kBulk };
  JsonFormatter(Shape shape, const core::Catalogue& catalogue, RenderContext ctx,
                SinkOptions options)
      : shape_(shape), renderer_(catalogue), ctx_(std::move(ctx)), options_(std::move(options)) {}

  std::string render(const std::vector<store::StoredEvent>& events, const BatchInfo&) override {
    std::string out;
    const std::string index = options_.str("index", "vantage-events");
    for (const auto& ev : events) {
      switch (shape_) {
        case Shape::kLines: out += dump(renderer_.json_object(ev, ctx_)); break;
        case Shape::kHec: {
          json envelope = {{"time", ev.first_seen},
                           {"host", options_.str("host", ctx_.hostname)},
                           {"source", options_.str("source", "vantage")},
                           {"sourcetype", options_.str("sourcetype", "vantage:event")},
                           {"event", renderer_.json_object(ev, ctx_)}};
          if (options_.has("index")) envelope["index"] = index;
          out += dump(envelope);
          break;
        }
        case Shape::kBulk: {
          json action = {
              {"create", {{"_index", index}, {"_id", ctx_.org + ":" + std::to_string(ev.id)}}}};
          out += dump(action);
          out += '\n';
          out += dump(renderer_.ecs_document(ev, ctx_));
          break;
        }
      }
      out += '\n';
    }
    return out;
  }
  int64_t decode_errors() const override { return renderer_.decode_errors(); }

 private:
  static std::string dump(const json& j) {
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
  }
  Shape shape_;
  EventRenderer renderer_;
  RenderContext ctx_;
  SinkOptions options_;
};

RenderContext context_of(const registry::Subscription& sub, const SinkEnv& env) {
  return {env.org, sub.name, env.hostname};
}

HttpRequest base_request(const registry::Subscription& sub, const SinkOptions& o) {
  HttpRequest r;
  r.url = sub.address;
  r.timeout = std::chrono::seconds(o.integer("timeout_s", 10));
  r.ca_file = o.str("ca_file");
  return r;
}

// ---- webhook ----

const std::vector<OptionSpec> kWebhookOptions = {{"ca_file", Type::kString},
                                                 {"timeout_s", Type::kInt, 1, kMaxTimeout}};

class WebhookSender : public Sender {
 public:
  WebhookSender(const registry::Subscription& sub, SinkOptions o)
      : secret_(sub.secret), request_(base_request(sub, o)) {}

  SendResult send(std::string_view payload, int64_t, const BatchInfo& batch) override {
    HttpRequest r = request_;
    r.body = std::string(payload);
    std::string ts = std::to_string(now_seconds());
    r.headers = {{"Content-Type", "application/x-ndjson"},
                 {"X-Vantage-Delivery", batch.delivery_id()},
                 {"X-Vantage-Subscription", batch.subscription},
                 {"X-Vantage-Timestamp", ts},
                 {"X-Vantage-Signature", "v1=" + api::hmac_sha256_hex(secret_, ts + "." + r.body)}};
    return classify(client_.send(r));
  }

 private:
  std::string secret_;
  HttpRequest request_;
  HttpClient client_;
};

// ---- elastic ----

const std::vector<OptionSpec> kElasticOptions = {{"index", Type::kString},
                                                 {"auth", Type::kString},
                                                 {"pipeline", Type::kString},
                                                 {"ca_file", Type::kString},
                                                 {"timeout_s", Type::kInt, 1, kMaxTimeout}};

class ElasticSender : public Sender {
 public:
  ElasticSender(const registry::Subscription& sub, SinkOptions o) : request_(base_request(sub, o)) {
    request_.url = join_url(sub.address, "/_bulk");
    if (!o.str("pipeline").empty()) request_.url += "?pipeline=" + o.str("pipeline");
    request_.max_reply_bytes = 16 << 20;  // one item per event comes back
    request_.headers = {{"Content-Type", "application/x-ndjson"}};
    if (!sub.secret.empty()) {
      // "apikey" (default): the encoded id:key pair Elasticsearch hands out; "basic":
      // user:password.
      std::string scheme = o.str("auth", "apikey") == "basic" ? "Basic " : "ApiKey ";
      std::string value = scheme == "Basic " ? base64_encode(sub.secret) : sub.secret;
      request_.headers.emplace_back("Authorization", scheme + value);
    }
  }

  SendResult send(std::string_view payload, int64_t, const BatchInfo&) override {
    HttpRequest r = request_;
    r.body = std::string(payload);
    auto reply = client_.send(r);
    SendResult result = classify(reply);
    if (result.outcome != SendResult::Outcome::kDelivered) return result;
    // 200 with "errors": true is a per-item answer: a 409 is a document created by an earlier
    // try, 429/5xx are worth another try of the whole batch (creates are idempotent by _id),
    // any other 4xx is final for that item.
    auto answer = parse_bulk_answer(reply->body);
    if (!answer)
      return SendResult::retry(reply->status,
                               "_bulk answer is not a bulk response: " + excerpt(reply->body));
    int64_t retryable = answer->retryable;
    result.rejected = std::move(answer->rejected);
    if (retryable > 0)
      return SendResult::retry(
          reply->status, std::to_string(retryable) + " items answered 429/5xx; batch sent again");
    if (!result.rejected.empty())
      result.detail = std::to_string(result.rejected.size()) + " items rejected";
    return result;
  }

 private:
  HttpRequest request_;
  HttpClient client_;
};

// ---- splunk ----

const std::vector<OptionSpec> kSplunkOptions = {
    {"index", Type::kString},      {"source", Type::kString},
    {"sourcetype", Type::kString}, {"host", Type::kString},
    {"ca_file", Type::kString},    {"timeout_s", Type::kInt, 1, kMaxTimeout}};

class SplunkSender : public Sender {
 public:
  SplunkSender(const registry::Subscription& sub, SinkOptions o) : request_(base_request(sub, o)) {
    // The base URL (https://splunk:8088) gets the event endpoint; a full URL is taken as given.
    if (url_path(sub.address).empty())
      request_.url = join_url(sub.address, "/services/collector/event");
    request_.headers = {{"Content-Type", "application/json"},
                        {"Authorization", "Splunk " + sub.secret}};
  }

  SendResult send(std::string_view payload, int64_t, const BatchInfo&) override {
    HttpRequest r = request_;
    r.body = std::string(payload);
    return classify(client_.send(r));
  }

 private:
  HttpRequest request_;
  HttpClient client_;
};

Status validate_with(const registry::Subscription& sub, const std::vector<OptionSpec>& specs) {
  auto o = SinkOptions::parse(sub.options, specs);
  return o ? Status{} : Status(o.error());
}

}  // namespace

SinkKind webhook_kind() {
  SinkKind k;
  k.kind = registry::SubscriptionKind::kWebhook;
  k.summary = "HTTPS POST of JSON Lines, HMAC-signed (X-Vantage-Signature), retried, dead-lettered";
  k.options = "ca_file, timeout_s";
  k.needs_secret = true;
  k.validate = [](const registry::Subscription& s) { return validate_with(s, kWebhookOptions); };
  k.formatter = [](const registry::Subscription& s,
                   const SinkEnv& env) -> std::unique_ptr<Formatter> {
    return std::make_unique<JsonFormatter>(JsonFormatter::Shape::kLines, *env.catalogue,
                                           context_of(s, env),
                                           *SinkOptions::parse(s.options, kWebhookOptions));
  };
  k.sender = [](const registry::Subscription& s, const SinkEnv&) -> std::unique_ptr<Sender> {
    return std::make_unique<WebhookSender>(s, *SinkOptions::parse(s.options, kWebhookOptions));
  };
  return k;
}

SinkKind elastic_kind() {
  SinkKind k;
  k.kind = registry::SubscriptionKind::kElastic;
  k.summary = "Elasticsearch/OpenSearch _bulk of ECS documents (create by id: retries are safe)";
  k.options = "index (vantage-events), auth (apikey|basic), pipeline, ca_file, timeout_s";
  k.validate = [](const registry::Subscription& s) -> Status {
    if (auto st = validate_with(s, kElasticOptions); !st) return st;
    auto o = SinkOptions::parse(s.options, kElasticOptions);
    std::string auth = o->str("auth", "apikey");
    if (auth != "apikey" && auth != "basic")
      return Error::invalid("option 'auth' must be apikey or basic");
    std::string index = o->str("index", "vantage-events");
    if (index.empty() || index.find_first_of("\\/*?\"<>| ,#:") != index.npos || index[0] == '_' ||
        index != to_lower(index))
      return Error::invalid("option 'index' is not a valid Elasticsearch index name");
    return {};
  };
  k.formatter = [](const registry::Subscription& s,
                   const SinkEnv& env) -> std::unique_ptr<Formatter> {
    return std::make_unique<JsonFormatter>(JsonFormatter::Shape::kBulk, *env.catalogue,
                                           context_of(s, env),
                                           *SinkOptions::parse(s.options, kElasticOptions));
  };
  k.sender = [](const registry::Subscription& s, const SinkEnv&) -> std::unique_ptr<Sender> {
    return std::make_unique<ElasticSender>(s, *SinkOptions::parse(s.options, kElasticOptions));
  };
  return k;
}

SinkKind splunk_kind() {
  SinkKind k;
  k.kind = registry::SubscriptionKind::kSplunk;
  k.summary =
      "Splunk HTTP Event Collector (/services/collector/event, Authorization: Splunk <token>)";
  k.options = "index, source (vantage), sourcetype (vantage:event), host, ca_file, timeout_s";
  k.needs_secret = true;
  k.validate = [](const registry::Subscription& s) { return validate_with(s, kSplunkOptions); };
  k.formatter = [](const registry::Subscription& s,
                   const SinkEnv& env) -> std::unique_ptr<Formatter> {
    return std::make_unique<JsonFormatter>(JsonFormatter::Shape::kHec, *env.catalogue,
                                           context_of(s, env),
                                           *SinkOptions::parse(s.options, kSplunkOptions));
  };
  k.sender = [](const registry::Subscription& s, const SinkEnv&) -> std::unique_ptr<Sender> {
    return std::make_unique<SplunkSender>(s, *SinkOptions::parse(s.options, kSplunkOptions));
  };
  return k;
}

}  // namespace vantage::integrations
