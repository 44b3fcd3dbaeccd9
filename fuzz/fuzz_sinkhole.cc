// libFuzzer: every sinkhole parser on attacker bytes. The first input byte picks the reader
// (a table, so adding one is one line); the rest is what a client sent:
//   0  a DNS query, answered as the server does (parse, presentation, answer, re-read)
//   1  a resolver's answer (the lifecycle watch and referer lookups read these)
//   2  an HTTP request as the web listener handles it (parse, Host, Referer, classify)
//   3  a TLS ClientHello and its JA3
//   4  a raw first packet through the protocol-magic rules
//   5  a domain file (operator data, but a typo must not crash the reloader)
#include <cstddef>
#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "sensors/common/http_request.h"
#include "sensors/sinkhole/classifier.h"
#include "sensors/sinkhole/dns_message.h"
#include "sensors/sinkhole/domain_map.h"
#include "sensors/sinkhole/http_service.h"
#include "sensors/sinkhole/referer.h"
#include "sensors/sinkhole/tls_hello.h"

namespace {

using namespace vantage::sinkhole;
using Reader = std::function<void(std::string_view)>;

const Families& families() {
  static const Families f = *Families::parse(
      R"({"families": [{"name": "zeus"}, {"name": "mirai"}, {"name": "necurs"}]})");
  return f;
}

const Classifier& classifier() {
  static const Classifier c = *Classifier::parse(R"({
    "http": [
      {"family": "zeus", "method": "POST", "path": "*gate.php", "body_kind": "binary"},
      {"family": "necurs", "agent": "*Necurs*?x", "header_order": "host,*,user-agent"},
      {"family": "mirai", "query": "*a*b*c*d*", "headers": {"x-id": "??*"}},
      {"family": "zeus", "ja3": "ada70206e40642a3e4461f35503241d5", "no_agent": true}],
    "raw": [
      {"family": "mirai", "transport": "tcp", "hex": "00 00 00 01", "min_len": 5},
      {"family": "zeus", "hex": "ab ?? cd", "offset": 3, "text": "*\r\n*"}]})",
                                                 families());
  return c;
}

const std::vector<Reader>& readers() {
  static const std::vector<Reader> r{
      [](std::string_view in) {
        dns::Query q;
        const char* why = "";
        auto parsed = dns::parse_query(in, q, &why);
        if (parsed != dns::QueryParse::kOk) return;
        std::string name;
        dns::append_presentation(q.qname, name);
        if (name.find('\t') != std::string::npos || name.find('\n') != std::string::npos) {
          __builtin_trap();  // the count logs are tab- and line-separated
        }
        std::string answer;
        dns::AnswerWriter w(answer);
        w.begin(q, dns::kNoError, true);
        w.add_a(w.kAnswer, -1, 300, 0x7f000001);
        dns::WireName ns;
        dns::encode_name("ns1.sinkhole.test", ns);
        w.add_ns(w.kAuthority, q.qname.labels, 300, ns);
        w.add_soa(w.kAuthority, 1, 300, ns, ns, 1, 2, 3, 4, 5);
        if (q.edns) w.add_opt(1232);
        w.finish(512);
        if (answer.size() > 512) __builtin_trap();
        dns::ResolverAnswer a;
        if (!dns::parse_answer(answer, a, &why)) __builtin_trap();  // we must read our own
      },
      [](std::string_view in) {
        dns::ResolverAnswer a;
        const char* why = "";
        (void)dns::parse_answer(in, a, &why);
      },
      [](std::string_view in) {
        vantage::sensors::HttpRequest req;
        vantage::sensors::HttpLimits limits;
        std::string why;
        if (vantage::sensors::parse_http_request(in, req, limits, &why) !=
            vantage::sensors::HttpParse::kComplete) {
          return;
        }
        std::string host = host_of(req.header("host"));
        (void)referer_site(req.header("referer"));
        std::string order;
        for (const auto& h : req.headers) order.append(h.first).push_back(',');
        HttpFacts f;
        f.method = req.method;
        f.target = req.target;
        f.path = req.path();
        f.query = req.query();
        f.host = host;
        f.agent = req.header("user-agent");
        f.has_agent = !f.agent.empty();
        f.header_order = order;
        f.body = req.body;
        f.headers = &req.headers;
        (void)classifier().classify_http(f, families());
        (void)body_kind(req.body);
      },
      [](std::string_view in) {
        ClientHello h;
        const char* why = "";
        if (parse_client_hello(in, h, &why) == HelloParse::kOk) (void)ja3_hash(h);
      },
      [](std::string_view in) {
        (void)classifier().classify_raw({in, false, 23}, families());
        (void)classifier().classify_raw({in, true, 53}, families());
      },
      [](std::string_view in) {
        // Bounded work per input: a small domain bound (DGA lines generate no more than it
        // leaves room for) and no slack days.
        if (in.size() > 4096) return;
        DomainMapOptions o;
        o.today = 20000;
        o.slack_days = 0;
        o.max_domains = 64;
        (void)DomainMap::parse(in, families(), o);
      },
  };
  return r;
}

}  // namespace

// libFuzzer's entropic power schedule (the default) spends over 80% of this target's time in
// its own bookkeeping (InputCorpus::UpdateFeatureFrequency: the glob matcher and the DNS round
// trip give inputs many distinct counter features), about 240 inputs a second; with the plain
// schedule it runs about 8,000 a second. Appended to the command line before libFuzzer reads
// it, so scripts/fuzz.sh needs no per-target flags; a later -entropic=1 still wins.
extern "C" int LLVMFuzzerInitialize(int* argc, char*** argv) {
  static std::vector<char*> args;
  static char plain[] = "-entropic=0";
  args.assign(*argv, *argv + *argc);
  args.insert(args.begin() + 1, plain);
  args.push_back(nullptr);
  *argc = static_cast<int>(args.size()) - 1;
  *argv = args.data();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  const auto& r = readers();
  r[data[0] % r.size()](std::string_view(reinterpret_cast<const char*>(data) + 1, size - 1));
  return 0;
}
