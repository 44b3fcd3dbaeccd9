// libFuzzer: HTTP reply parsing (http module) and the vulnerability-check language on untrusted
// bytes. The first byte picks one of the templates below, which together use every matcher
// and extractor kind (regex, header, JSON pointer, binary with a map, versions in both
// schemes, all/any/not) over http, tcp and udp; the rest is split at "\0\0" into the replies
// of successive steps, so later steps see values extracted from earlier (fuzzed) replies and
// build their requests from them (the runtime non-intrusion check runs on those).
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string_view>
#include <vector>

#include "sensors/scanner/probes/checks/checks.h"
#include "sensors/scanner/probes/checks/version.h"
#include "sensors/scanner/probes/http/http.h"
#include "sensors/scanner/probes/probe.h"

namespace {

using namespace vantage::scanner;

const char* const kTemplates[] = {
    R"J({"id":"f","request":{"path":"/"},"match":{"status":[200],"headers":{"server":"x"},"body_regex":"a+b"}})J",
    R"J({"id":"multi","tls":true,"steps":[
      {"request":{"path":"/"},"extract":[{"name":"next","header":"location","regex":"^(?:https?://[^/]+)?(/[^?#]*)"},
        {"name":"j","json":"/a/0/b"},{"name":"st","binary":{"offset":4,"length":4,"endian":"little"},"map":{"1":"7.2.3","2":"8.0.0"}}],
       "match":{"any":[{"status":[301,302]},{"extracted":{"name":"j","regex":"^x"}}]}},
      {"request":{"path":"{{next}}/{{j}}","headers":{"Referer":"https://{{host}}/{{st}}","Cookie":"{{j}}"}},
       "extract":[{"name":"v","regex":"Demo ([0-9.]+)","column":"version"},{"name":"s","header":"x-v","regex":"(.*)"}],
       "match":{"all":[{"version":{"from":"v","ranges":["<1.2.3",">=2.0 <2.0.5"]}},
                       {"not":{"regex":"(?i)patched","part":"all"}},
                       {"any":[{"version":{"from":"s","scheme":"semver","ranges":[">=1.0.0-beta.2 <1.1.0"]}},
                               {"bytes":"1f8b08","offset":0},{"contains":["a","b"],"part":"headers"}]}]}}]})J",
    R"J({"id":"raw","protocol":"tcp","port":25,"report_type":"scan_smtp_vulnerable","steps":[
      {"read":{"until":"\\r\\n"},"extract":[{"name":"banner","regex":"^(220[^\\r\\n]*)","column":"banner"},
        {"name":"exim","regex":"Exim ([0-9.]+)"}],"match":{"regex":"^220"}},
      {"send":"EHLO {{exim}}\r\n","read":{"min_bytes":4},
       "extract":[{"name":"n","binary":{"offset":0,"length":8}}],
       "match":{"any":[{"version":{"from":"exim","ranges":["<4.92.2"]}},{"version":{"from":"n","ranges":[">=100"]}}]}}]})J",
    R"J({"id":"udp","protocol":"udp","port":427,"report_type":"scan_slp","steps":[{"send_hex":"0209",
      "extract":[{"name":"fn","binary":{"offset":1,"length":1},"column":"function"},
                 {"name":"lang","regex":"(?s)^.{14}([a-z]{2})","column":"language_tag"}],
      "match":{"all":[{"bytes":"02","offset":0},{"negate":true,"version":{"from":"fn","ranges":["<10"]}}]}}]})J",
};

const std::vector<std::shared_ptr<const CheckTemplate>>& templates() {
  static const auto v = [] {
    std::vector<std::shared_ptr<const CheckTemplate>> out;
    for (const char* t : kTemplates) {
      auto c = parse_check_template(t, "fuzz");
      if (!c) __builtin_trap();  // a template above no longer loads: fix the fuzzer
      out.push_back(*c);
    }
    return out;
  }();
  return v;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  (void)http_reply_complete(in);
  (void)http_module().parse(in);
  if (in.empty()) return 0;
  const auto& all = templates();
  const auto& check = all[static_cast<uint8_t>(in[0]) % all.size()];
  std::vector<std::string> replies;
  std::string_view rest = in.substr(1);
  while (replies.size() < 8) {
    const size_t cut = rest.find(std::string_view("\0\0", 2));
    replies.emplace_back(rest.substr(0, cut));
    if (cut == std::string_view::npos) break;
    rest.remove_prefix(cut + 2);
  }
  ProbeTarget target{*vantage::IpAddress::parse("192.0.2.1"), check->port, "fuzz.example"};
  std::vector<std::string> requests;
  (void)run_check_on_replies(check, target, replies, &requests);
  // The module path (single-shot parse; udp framing).
  const ProbeModule m = make_check_module(check);
  (void)m.complete(replies[0]);
  (void)m.parse(replies[0]);
  // Versions as text from the wire.
  static const auto ranges = VersionRanges::parse({">=1.0 <2.0.5", "=3"}, VersionScheme::dotted);
  static const auto sranges = VersionRanges::parse({">=1.0.0-rc.1 <2.0.0"}, VersionScheme::semver);
  (void)ranges->contains(replies.back());
  (void)sranges->contains(replies.back());
  return 0;
}
