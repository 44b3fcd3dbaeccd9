// SLP (scan_slp, scan6_slp; RFC 2608) over UDP 427: an SLPv2 Service Type Request (function 9)
// for every naming authority in scope DEFAULT. An SLP service or directory agent answers with
// a Service Type Reply (10), or with an error code in the same reply; SLP is the CVE-2023-29552
// reflection amplifier Shadowserver reports. The v2 header fields and the error code are
// reported; raw_response is the reply in hex (at most 1 KiB).
#include <string>

#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

constexpr unsigned kXid = 0x5641;

const std::string& request_bytes() {
  static const std::string r = [] {
    const std::string body =
        "\x00\x00\xff\xff\x00\x07"
        "DEFAULT"s;               // PR list, all NAs, scope
    std::string s = "\x02\x09"s;  // version 2, SrvTypeRqst
    const size_t len = 2 + 3 + 2 + 3 + 2 + 2 + 2 + body.size();
    s += static_cast<char>(len >> 16);
    octets::put_be16(s, static_cast<unsigned>(len & 0xffff));
    octets::put_be16(s, 0);  // flags
    s += "\x00\x00\x00"s;    // next extension offset
    octets::put_be16(s, kXid);
    octets::put_be16(s, 2);
    return s + "en" + body;
  }();
  return r;
}

const char* function_text(unsigned f) {
  static const char* const names[] = {"",         "SrvRqst",     "SrvRply",     "SrvReg",
                                      "SrvDeReg", "SrvAck",      "AttrRqst",    "AttrRply",
                                      "DAAdvert", "SrvTypeRqst", "SrvTypeRply", "SAAdvert"};
  return f < 12 ? names[f] : "";
}

const char* error_text(unsigned e) {
  static const char* const names[] = {"OK",
                                      "LANGUAGE_NOT_SUPPORTED",
                                      "PARSE_ERROR",
                                      "INVALID_REGISTRATION",
                                      "SCOPE_NOT_SUPPORTED",
                                      "AUTHENTICATION_UNKNOWN",
                                      "AUTHENTICATION_ABSENT",
                                      "AUTHENTICATION_FAILED",
                                      "",
                                      "VER_NOT_SUPPORTED",
                                      "INTERNAL_ERROR",
                                      "DA_BUSY_NOW",
                                      "OPTION_NOT_UNDERSTOOD",
                                      "INVALID_UPDATE",
                                      "MSG_NOT_SUPPORTED",
                                      "REFRESH_REJECTED"};
  return e < 16 ? names[e] : "";
}

Result<nlohmann::json> slp_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 16 || octets::u8(d, 0) != 2 || octets::be16(d, 10) != kXid) continue;
    const unsigned function = octets::u8(d, 1);
    if (function < 2 || function > 11 || function == 9) continue;  // a reply, not our request
    const unsigned lang_len = octets::be16(d, 12);
    if (d.size() < 14 + size_t{lang_len}) continue;
    nlohmann::json f = nlohmann::json::object();
    f["version"] = 2;
    f["function"] = function;
    f["function_text"] = function_text(function);
    f["flags"] = octets::be16(d, 5);
    f["next_extension_offset"] = (uint32_t{octets::u8(d, 7)} << 16) | octets::be16(d, 8);
    f["xid"] = octets::be16(d, 10);
    f["language_tag_length"] = lang_len;
    f["language_tag"] = printable(d.substr(14, lang_len), 64);
    if (d.size() >= 14 + size_t{lang_len} + 2) {
      const unsigned err = octets::be16(d, 14 + lang_len);
      f["error_code"] = err;
      f["error_code_text"] = error_text(err);
    }
    f["response_size"] = octets::reply_bytes(ds);
    f["raw_response"] = octets::hex(d, 1024);
    return f;
  }
  return Error::invalid("no SLPv2 reply to our request");
}

}  // namespace

ProbeModule slp_module() {
  ProbeModule m;
  m.name = "slp";
  m.report_type = "scan_slp";
  m.tag = "slp";
  m.default_port = 427;
  m.transport = Transport::udp;
  m.columns = {"version",
               "function",
               "function_text",
               "flags",
               "next_extension_offset",
               "xid",
               "language_tag_length",
               "language_tag",
               "error_code",
               "error_code_text",
               "response_size",
               "raw_response"};
  m.request = [](const ProbeTarget&) { return udp_frames({request_bytes()}); };
  m.complete = octets::any_datagram;
  m.parse = slp_parse;
  return m;
}

}  // namespace vantage::scanner
