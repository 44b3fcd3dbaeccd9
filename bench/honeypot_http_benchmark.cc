// The web honeypot's per-request work apart from the sockets: parsing, classifying against
// the shipped exploit rules, and writing the event, for a benign request (what wrk sends:
// every rule is tried and none matches) and an exploit (Log4Shell in a header).
#include <benchmark/benchmark.h>

#include "sensors/honeypot/http/http.h"

namespace {

using namespace vantage;

const honeypot::http::RuleSet& rules() {
  static auto set = honeypot::http::RuleSet::load(std::string(VANTAGE_SOURCE_DIR) +
                                                  "/conf/honeypot/http_rules.json");
  if (!set) std::abort();
  return **set;
}

const char* kBenign = "GET / HTTP/1.1\r\nHost: 127.0.0.1:8080\r\n\r\n";
const char* kExploit =
    "GET /index.html HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: ${jndi:ldap://127.0.0.1/a}\r\n"
    "Accept: */*\r\n\r\n";

void BM_Parse(benchmark::State& state, const char* wire) {
  sensors::HttpRequest req;
  std::string why;
  for (auto _ : state) {
    auto r = sensors::parse_http_request(wire, req, {}, &why);
    benchmark::DoNotOptimize(r);
  }
}

void BM_Classify(benchmark::State& state, const char* wire) {
  sensors::HttpRequest req;
  std::string why;
  sensors::parse_http_request(wire, req, {}, &why);
  const auto& set = rules();
  for (auto _ : state) {
    auto* rule = set.classify(honeypot::http::RequestView{wire, &req});
    benchmark::DoNotOptimize(rule);
  }
}

void BM_Event(benchmark::State& state, const char* wire) {
  sensors::HttpRequest req;
  std::string why;
  sensors::parse_http_request(wire, req, {}, &why);
  const auto* rule = rules().classify(honeypot::http::RequestView{wire, &req});
  honeypot::HoneypotSettings settings;
  sensors::ConnectionInfo info;
  info.peer = {IpAddress::from_v4(0x7f000001), 40000};
  info.local = {IpAddress::from_v4(0x7f000001), 8080};
  std::string out;
  for (auto _ : state) {
    out.clear();
    honeypot::http::append_http_event(out, settings, info, 1767225600, "http", wire, &req, rule,
                                      "");
    benchmark::DoNotOptimize(out.data());
  }
}

BENCHMARK_CAPTURE(BM_Parse, benign, kBenign);
BENCHMARK_CAPTURE(BM_Parse, exploit, kExploit);
BENCHMARK_CAPTURE(BM_Classify, benign, kBenign);
BENCHMARK_CAPTURE(BM_Classify, exploit, kExploit);
BENCHMARK_CAPTURE(BM_Event, benign, kBenign);
BENCHMARK_CAPTURE(BM_Event, exploit, kExploit);

}  // namespace

BENCHMARK_MAIN();
