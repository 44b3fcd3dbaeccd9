// SIP over TCP (scan_sip): one OPTIONS request (RFC 3261 section 11), the way a user agent
// asks a server what it supports; the answer's status line and headers fill the columns
// (compact header names, section 7.3.3, are understood). Nothing is registered or called.
// response_size counts the answer's bytes and amplification divides them by the request's.
#include "sensors/scanner/probes/sip/sip.h"

#include <cmath>
#include <random>
#include <string>

#include "common/strings.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {
namespace {

std::string host_of(const ProbeTarget& t) {
  return t.ip.is_v4() ? t.ip.to_string() : "[" + t.ip.to_string() + "]";
}

}  // namespace

std::string sip_options_request(const ProbeTarget& t, std::string_view transport) {
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  const std::string id = hex_encode(std::to_string(rng()));
  const std::string uri = "sip:" + host_of(t) + ":" + std::to_string(t.port);
  const bool udp = transport == "udp";
  std::string r = "OPTIONS " + uri + ";transport=" + std::string(transport) + " SIP/2.0\r\n";
  r += std::string("Via: SIP/2.0/") + (udp ? "UDP" : "TCP") + " vantage.invalid;branch=z9hG4bK" +
       id.substr(0, 16) + (udp ? ";rport" : "") + "\r\n";
  r += "Max-Forwards: 70\r\n";
  r += "From: <sip:scanner@vantage.invalid>;tag=" + id.substr(16, 8) + "\r\n";
  r += "To: <" + uri + ">\r\n";
  r += "Call-ID: " + id.substr(0, 24) + "@vantage.invalid\r\n";
  r += "CSeq: 1 OPTIONS\r\n";
  r += "Contact: <sip:scanner@vantage.invalid;transport=" + std::string(transport) + ">\r\n";
  r += "Accept: application/sdp\r\n";
  r += "User-Agent: Vantage scanner\r\n";
  r += "Content-Length: 0\r\n\r\n";
  return r;
}

bool sip_answer_complete(std::string_view b) {
  const size_t end = b.find("\r\n\r\n");
  if (end == std::string_view::npos) return b.size() >= 16 && b.substr(0, 8) != "SIP/2.0 ";
  size_t want = 0;
  for_each_line(b.substr(0, end), [&](std::string_view line) {
    const size_t colon = line.find(':');
    if (colon == std::string_view::npos) return;
    const std::string name = to_lower(trim(line.substr(0, colon)));
    if (name == "content-length" || name == "l")
      if (auto n = parse_uint(trim(line.substr(colon + 1)))) want = std::min<uint64_t>(*n, 65536);
  });
  return b.size() >= end + 4 + want;
}

Result<nlohmann::json> sip_parse_answer(std::string_view b, size_t request_size) {
  if (b.substr(0, 8) != "SIP/2.0 ") return Error::invalid("not a SIP response");
  const size_t eol = b.find('\n');
  if (eol == std::string_view::npos) return Error::invalid("truncated SIP status line");
  const std::string_view status = trim(b.substr(8, eol - 8));
  auto code = parse_int(status.substr(0, 3));
  if (!code || *code < 100 || *code > 699) return Error::invalid("bad SIP status code");
  nlohmann::json f = nlohmann::json::object();
  f["sip"] = "SIP/2.0";
  f["sip_code"] = std::to_string(*code);
  f["sip_reason"] = printable(trim(status.substr(std::min<size_t>(3, status.size()))), 256);
  const size_t end = b.find("\r\n\r\n");
  static const std::pair<const char*, const char*> names[] = {{"user-agent", "user_agent"},
                                                              {"via", "sip_via"},
                                                              {"v", "sip_via"},
                                                              {"to", "sip_to"},
                                                              {"t", "sip_to"},
                                                              {"from", "sip_from"},
                                                              {"f", "sip_from"},
                                                              {"content-type", "content_type"},
                                                              {"c", "content_type"},
                                                              {"server", "server"},
                                                              {"contact", "contact"},
                                                              {"m", "contact"},
                                                              {"cseq", "cseq"},
                                                              {"call-id", "call_id"},
                                                              {"i", "call_id"},
                                                              {"allow", "allow"}};
  for_each_line(b.substr(eol + 1, end == std::string_view::npos ? b.npos : end - eol - 1),
                [&](std::string_view line) {
                  const size_t colon = line.find(':');
                  if (colon == std::string_view::npos) return;
                  const std::string name = to_lower(trim(line.substr(0, colon)));
                  const std::string value = printable(trim(line.substr(colon + 1)), 1024);
                  if (name == "content-length" || name == "l") {
                    if (auto n = parse_int(value)) f["content_length"] = *n;
                    return;
                  }
                  for (const auto& [h, col] : names)
                    if (name == h && !f.contains(col)) f[col] = value;
                });
  f["response_size"] = b.size();
  if (request_size)
    f["amplification"] = std::round(static_cast<double>(b.size()) / request_size * 100) / 100;
  return f;
}

ProbeModule sip_module() {
  ProbeModule m;
  m.name = "sip";
  m.report_type = "scan_sip";
  m.tag = "sip";
  m.default_port = 5060;
  m.columns = {"sip",      "sip_code",       "sip_reason",    "user_agent",   "sip_via", "sip_to",
               "sip_from", "content_length", "content_type",  "server",       "contact", "cseq",
               "call_id",  "allow",          "amplification", "response_size"};
  m.request = [](const ProbeTarget& t) { return sip_options_request(t, "tcp"); };
  m.complete = sip_answer_complete;
  // The request's size is the same for every target of one address family and port length;
  // the IPv4 form for a 4-digit port stands for it (amplification is a ratio, not a count).
  m.parse = [](std::string_view b) {
    return sip_parse_answer(
        b, sip_options_request({IpAddress::parse("192.0.2.1").value(), 5060}, "tcp").size());
  };
  return m;
}

}  // namespace vantage::scanner
