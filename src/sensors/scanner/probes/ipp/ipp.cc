// IPP (scan_ipp): on one connection, Get-Printer-Attributes (RFC 8011 section 4.2.5) POSTed
// to /ipp/print, the IPP Everywhere path (PWG 5100.14) printers serve themselves, then
// CUPS-Get-Default (CUPS's IPP extension, operation 0x4001) POSTed to /, which a CUPS server
// answers with its default queue's attributes (CUPS has no /ipp/print). The first successful
// answer's printer attributes fill the columns; the HTTP Server header ("CUPS/2.4 IPP/2.1")
// gives cups_version. Nothing is printed or changed.
// The encoding is RFC 8010: version, operation/status, request id, then attribute groups of
// (value tag, name length, name, value length, value); an empty name continues the previous
// attribute (its further values, joined with "|").
#include <map>
#include <string>

#include "common/strings.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/web/web.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

void attribute(std::string& b, uint8_t tag, std::string_view name, std::string_view value) {
  b += static_cast<char>(tag);
  wire::put_be16(b, static_cast<uint32_t>(name.size()));
  b += name;
  wire::put_be16(b, static_cast<uint32_t>(value.size()));
  b += value;
}

// Get-Printer-Attributes (0x000B) for "/ipp/print", or CUPS-Get-Default (0x4001) for "/".
std::string ipp_request(const ProbeTarget& t, const std::string& path, bool last) {
  const std::string host = (t.ip.is_v4() ? t.ip.to_string() : "[" + t.ip.to_string() + "]") + ":" +
                           std::to_string(t.port);
  const bool cups = path == "/";
  std::string body =
      cups ? "\x02\x00\x40\x01\x00\x00\x00\x02\x01"s : "\x02\x00\x00\x0b\x00\x00\x00\x01\x01"s;
  attribute(body, 0x47, "attributes-charset", "utf-8");
  attribute(body, 0x48, "attributes-natural-language", "en");
  if (!cups) attribute(body, 0x45, "printer-uri", "ipp://" + host + path);
  attribute(body, 0x44, "requested-attributes", "printer-description");
  body += '\x03';
  std::string req =
      "POST " + path + " HTTP/1.1\r\nHost: " + host +
      "\r\nContent-Type: application/ipp\r\nContent-Length: " + std::to_string(body.size()) +
      "\r\nConnection: " + (last ? "close" : "keep-alive") + "\r\n\r\n";
  return req + body;
}

// The attributes of an IPP response body: name -> values joined with "|" (text values only;
// integers as decimal). Error when the body is not IPP.
Result<std::map<std::string, std::string>> ipp_attributes(std::string_view b,
                                                          std::string* version) {
  if (b.size() < 9) return Error::invalid("IPP response too short");
  if (b[0] < 1 || b[0] > 2) return Error::invalid("unknown IPP version");
  *version = std::to_string(wire::byte(b, 0)) + "." + std::to_string(wire::byte(b, 1));
  std::map<std::string, std::string> out;
  std::string last;
  size_t i = 8;
  for (int n = 0; i < b.size() && n < 4096; ++n) {
    const unsigned tag = wire::byte(b, i);
    if (tag == 0x03) return out;  // end-of-attributes
    if (tag < 0x10) {             // a group delimiter
      ++i;
      continue;
    }
    if (i + 3 > b.size()) break;
    const size_t nlen = wire::be16(b, i + 1);
    if (i + 3 + nlen + 2 > b.size()) break;
    const std::string name(b.substr(i + 3, nlen));
    const size_t vlen = wire::be16(b, i + 3 + nlen);
    const size_t voff = i + 5 + nlen;
    if (voff + vlen > b.size()) break;
    const std::string_view value = b.substr(voff, vlen);
    i = voff + vlen;
    if (!name.empty()) last = name;
    if (last.empty()) continue;
    std::string text;
    if (tag == 0x21 || tag == 0x23) {  // integer, enum
      if (vlen == 4) text = std::to_string(static_cast<int32_t>(wire::be32(value, 0)));
    } else if (tag >= 0x30 && tag != 0x34 && tag != 0x37) {  // octetString and strings
      text = printable(value, 512);
    }
    if (text.empty()) continue;
    std::string& slot = out[last];
    if (slot.size() < 4096) slot += (slot.empty() ? "" : "|") + text;
  }
  return Error::invalid("truncated IPP response");
}

// The replies to Get-Printer-Attributes and CUPS-Get-Default: the first that is IPP with a
// successful status gives the printer columns; any IPP reply proves the service.
Result<nlohmann::json> ipp_interpret(const std::vector<HttpReply>& replies, const nlohmann::json&) {
  std::optional<std::map<std::string, std::string>> attrs;
  std::string version;
  const HttpReply* first_ipp = nullptr;
  for (const auto& r : replies) {
    auto ct = r.header("content-type");
    if (!ct || to_lower(*ct).find("application/ipp") == std::string::npos) continue;
    std::string v;
    auto a = ipp_attributes(r.body, &v);
    if (!a) continue;
    if (!first_ipp) {
      first_ipp = &r;
      version = v;
    }
    const unsigned status = r.body.size() >= 4 ? wire::be16(r.body, 2) : 0xffff;
    if (status < 0x0100 && a->count("printer-name")) {
      attrs = std::move(*a);
      version = v;
      break;
    }
  }
  if (!first_ipp) return Error::invalid("not an IPP response");
  const HttpReply* r = first_ipp;
  nlohmann::json f = nlohmann::json::object();
  f["ipp_version"] = version;
  if (auto server = r->header("server")) {
    const auto at = server->find("CUPS/");
    if (at != std::string::npos) {
      const auto end = server->find(' ', at);
      f["cups_version"] =
          printable(server->substr(at + 5, end == std::string::npos ? end : end - at - 5), 64);
    }
  }
  const std::pair<const char*, const char*> map[] = {
      {"printer-uri-supported", "printer_uris"},
      {"printer-name", "printer_name"},
      {"printer-info", "printer_info"},
      {"printer-more-info", "printer_more_info"},
      {"printer-make-and-model", "printer_make_and_model"},
      {"printer-firmware-name", "printer_firmware_name"},
      {"printer-firmware-string-version", "printer_firmware_string_version"},
      {"printer-firmware-version", "printer_firmware_version"},
      {"printer-organization", "printer_organization"},
      {"printer-organizational-unit", "printer_organization_unit"},
      {"printer-uuid", "printer_uuid"},
      {"printer-wifi-ssid", "printer_wifi_ssid"}};
  if (attrs)
    for (const auto& [attr, col] : map)
      if (auto it = attrs->find(attr); it != attrs->end()) f[col] = it->second;
  return f;
}

}  // namespace

ProbeModule ipp_module() {
  std::vector<std::string> columns = {"ipp_version",
                                      "cups_version",
                                      "printer_uris",
                                      "printer_name",
                                      "printer_info",
                                      "printer_more_info",
                                      "printer_make_and_model",
                                      "printer_firmware_name",
                                      "printer_firmware_string_version",
                                      "printer_firmware_version",
                                      "printer_organization",
                                      "printer_organization_unit",
                                      "printer_uuid",
                                      "printer_wifi_ssid"};
  WebProbe probe{{"/ipp/print", "/"}, false, ipp_interpret, ipp_request};
  return web_module("ipp", "scan_ipp", 631, std::move(columns), std::move(probe));
}

}  // namespace vantage::scanner
