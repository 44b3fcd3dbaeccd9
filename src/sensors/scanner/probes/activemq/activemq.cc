// Apache ActiveMQ's OpenWire port (scan_activemq): the broker speaks first, with a
// WireFormatInfo command (OpenWire's loose encoding: 4-byte size, data type 1, the magic
// "ActiveMQ", the OpenWire version, then the marshalled properties map of
// MarshallingSupport.marshalPrimitiveMap). We send nothing and read that one command; the
// properties name the product and, since ActiveMQ 5.12, its version ("ProviderVersion"),
// which is what decides CVE-2023-46604 (fixed in 5.15.16, 5.16.7, 5.17.6, 5.18.3).
//
// command: "WireFormatInfo"; vendor: ProviderName (else the magic); version: ProviderVersion,
// else the OpenWire version number (older brokers do not send their own).
#include <string>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

constexpr size_t kMaxCommand = 64 * 1024;
constexpr uint8_t kWireFormatInfo = 1;

// Bounded reads over the command; any read past the end sets failed().
class Reader {
 public:
  explicit Reader(std::string_view b) : b_(b) {}
  bool failed() const { return failed_; }
  std::string_view take(size_t n) {
    if (failed_ || b_.size() - pos_ < n) {
      failed_ = true;
      return {};
    }
    const std::string_view v = b_.substr(pos_, n);
    pos_ += n;
    return v;
  }
  uint32_t u8() {
    auto v = take(1);
    return failed_ ? 0 : wire::byte(v, 0);
  }
  uint32_t u16() {
    auto v = take(2);
    return failed_ ? 0 : wire::be16(v, 0);
  }
  uint32_t u32() {
    auto v = take(4);
    return failed_ ? 0 : wire::be32(v, 0);
  }

 private:
  std::string_view b_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// One primitive of the properties map (MarshallingSupport's type codes) as text; false for
// a type we do not read (nested maps and lists: WireFormatInfo carries none).
bool primitive(Reader& r, std::string* text) {
  switch (r.u8()) {
    case 0: return true;                                     // null
    case 1: *text = r.u8() ? "true" : "false"; return true;  // boolean
    case 2: *text = std::to_string(r.u8()); return true;     // byte
    case 3:                                                  // char
    case 4: *text = std::to_string(r.u16()); return true;    // short
    case 5: *text = std::to_string(r.u32()); return true;    // int
    case 6: {                                                // long
      const uint64_t hi = r.u32(), lo = r.u32();
      *text = std::to_string((hi << 32) | lo);
      return true;
    }
    case 7: r.take(8); return true;                                 // double
    case 8: r.take(4); return true;                                 // float
    case 9: *text = printable(r.take(r.u16()), 512); return true;   // UTF string
    case 10: r.take(r.u32()); return true;                          // byte array
    case 13: *text = printable(r.take(r.u32()), 512); return true;  // big string
    default: return false;
  }
}

bool activemq_complete(std::string_view b) {
  return b.size() >= 4 && (b.size() >= 4 + size_t{wire::be32(b, 0)} || b.size() >= kMaxCommand);
}

Result<nlohmann::json> activemq_parse(std::string_view b) {
  if (b.size() < 17 || wire::byte(b, 4) != kWireFormatInfo || b.substr(5, 8) != "ActiveMQ")
    return Error::invalid("not an OpenWire WireFormatInfo");
  const size_t size = wire::be32(b, 0);
  Reader r(b.substr(4, std::min(size, b.size() - 4)));
  r.take(9);  // type, magic
  const uint32_t openwire = r.u32();
  nlohmann::json f = nlohmann::json::object();
  f["command"] = "WireFormatInfo";
  f["vendor"] = "ActiveMQ";
  f["version"] = std::to_string(openwire);
  if (r.u8() == 0 || r.failed()) return f;  // no properties (or cut off before them)
  const uint32_t map_bytes = r.u32();
  Reader m(r.take(map_bytes));
  if (r.failed()) return f;  // truncated properties: the magic alone proves OpenWire
  const uint32_t entries = m.u32();
  for (uint32_t i = 0; i < entries && i < 256 && !m.failed(); ++i) {
    const std::string_view name = m.take(m.u16());
    std::string value;
    if (!primitive(m, &value) || m.failed()) break;
    if (name == "ProviderName" && !value.empty()) f["vendor"] = value;
    if (name == "ProviderVersion" && !value.empty()) f["version"] = value;
  }
  return f;
}

}  // namespace

ProbeModule activemq_module() {
  ProbeModule m;
  m.name = "activemq";
  m.report_type = "scan_activemq";
  m.tag = "activemq";
  m.default_port = 61616;
  m.columns = {"command", "vendor", "version"};
  m.request = [](const ProbeTarget&) { return std::string(); };
  m.complete = activemq_complete;
  m.parse = activemq_parse;
  return m;
}

}  // namespace vantage::scanner
