// Android Debug Bridge over TCP (scan_adb): one CNXN message (ADB's protocol.txt: 24-byte
// little-endian header - command, arg0 version, arg1 max payload, payload length, payload
// byte sum, command ^ 0xffffffff - then the payload "host::\0"), as the adb client sends on
// connect. A device whose adbd needs no authorisation answers with its own CNXN, whose banner
// "device::ro.product.name=..;ro.product.model=..;ro.product.device=..;features=.." fills the
// columns: anyone can then run a shell on it. A device that asks for authorisation (AUTH) is
// not an event; we never answer AUTH.
#include <string>

#include "common/strings.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;

constexpr uint32_t kCnxn = 0x4e584e43;  // "CNXN"
constexpr size_t kHeader = 24;
constexpr size_t kMaxPayload = 64 * 1024;

std::string cnxn_request() {
  const std::string payload = "host::\0"s;
  uint32_t sum = 0;
  for (unsigned char c : payload) sum += c;
  std::string r;
  wire::put_le32(r, kCnxn);
  wire::put_le32(r, 0x01000000);  // protocol version
  wire::put_le32(r, 4096);        // max payload
  wire::put_le32(r, payload.size());
  wire::put_le32(r, sum);
  wire::put_le32(r, kCnxn ^ 0xffffffff);
  return r + payload;
}

bool adb_complete(std::string_view b) {
  if (b.size() < kHeader) return false;
  return b.size() >= kHeader + std::min<size_t>(wire::le32(b, 12), kMaxPayload);
}

Result<nlohmann::json> adb_parse(std::string_view b) {
  if (b.size() < kHeader || wire::le32(b, 0) != kCnxn || wire::le32(b, 20) != (kCnxn ^ 0xffffffff))
    return Error::invalid("not an ADB CNXN message");
  const size_t len = wire::le32(b, 12);
  if (len > kMaxPayload || b.size() < kHeader + len) return Error::invalid("truncated ADB banner");
  std::string_view banner = b.substr(kHeader, len);
  if (const size_t nul = banner.find('\0'); nul != std::string_view::npos)
    banner = banner.substr(0, nul);
  // "<systemtype>:<serial>:<properties>" (systemtype device, bootloader, recovery, sideload).
  const size_t c1 = banner.find(':');
  const size_t c2 = c1 == std::string_view::npos ? c1 : banner.find(':', c1 + 1);
  if (c2 == std::string_view::npos) return Error::invalid("no ADB banner");
  nlohmann::json f = nlohmann::json::object();
  for (std::string_view prop : split(banner.substr(c2 + 1), ';')) {
    const size_t eq = prop.find('=');
    if (eq == std::string_view::npos) continue;
    const std::string_view key = prop.substr(0, eq), value = prop.substr(eq + 1);
    if (key == "ro.product.name") f["name"] = printable(value, 256);
    if (key == "ro.product.model") f["model"] = printable(value, 256);
    if (key == "ro.product.device") f["device"] = printable(value, 256);
    if (key == "features") f["features"] = printable(value, 2048);
  }
  return f;
}

}  // namespace

ProbeModule adb_module() {
  ProbeModule m;
  m.name = "adb";
  m.report_type = "scan_adb";
  m.tag = "adb";
  m.default_port = 5555;
  m.columns = {"name", "model", "device", "features"};
  m.request = [](const ProbeTarget&) { return cnxn_request(); };
  m.complete = adb_complete;
  m.parse = adb_parse;
  return m;
}

}  // namespace vantage::scanner
