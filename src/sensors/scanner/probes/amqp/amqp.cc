// AMQP 0-9-1 (scan_amqp): we send the protocol header "AMQP\0\0\x09\x01"; the broker answers
// with a Connection.Start method frame (AMQP 0-9-1 sections 2.3.5 and 4.2.3; class 10,
// method 10) carrying its version, server-properties table, SASL mechanisms and locales, or,
// when it does not speak 0-9-1, with the header of the protocol it does speak. We never send
// Connection.StartOk, so no login is attempted.
//
// capabilities: the names of the capabilities the broker sets true, joined with "|";
// product_version: the "version" server property.
#include <string>

#include "common/strings.h"
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;
const std::string kHeader = "AMQP\x00\x00\x09\x01"s;

// Reads field tables (section 4.2.1, with RabbitMQ's type letters) out of a bounded view.
class TableReader {
 public:
  explicit TableReader(std::string_view b) : b_(b) {}
  bool failed() const { return failed_; }
  size_t pos() const { return pos_; }

  bool take(size_t n, std::string_view* out) {
    if (failed_ || b_.size() - pos_ < n) return failed_ = true, false;
    *out = b_.substr(pos_, n);
    pos_ += n;
    return true;
  }
  uint32_t u8() {
    std::string_view v;
    return take(1, &v) ? wire::byte(v, 0) : 0;
  }
  uint32_t u16() {
    std::string_view v;
    return take(2, &v) ? wire::be16(v, 0) : 0;
  }
  uint32_t u32() {
    std::string_view v;
    return take(4, &v) ? wire::be32(v, 0) : 0;
  }
  std::string_view shortstr() {
    std::string_view v;
    take(u8(), &v);
    return v;
  }
  std::string_view longstr() {
    std::string_view v;
    take(u32(), &v);
    return v;
  }

  // A table: calls f(name, type, value-as-text, nested-table-bytes) for each entry.
  template <typename F>
  void table(F&& f, int depth = 0) {
    std::string_view body = longstr();
    if (failed_) return;
    TableReader t(body);
    while (!t.failed() && t.pos() < body.size()) {
      const std::string_view name = t.shortstr();
      const char type = static_cast<char>(t.u8());
      std::string text;
      std::string_view nested;
      if (!t.value(type, &text, &nested, depth)) break;
      f(name, type, text, nested);
    }
    if (t.failed()) failed_ = true;
  }

 private:
  // One field value as text (strings, numbers, booleans); tables come back raw in *nested.
  bool value(char type, std::string* text, std::string_view* nested, int depth) {
    std::string_view v;
    switch (type) {
      case 't': *text = u8() ? "true" : "false"; break;
      case 'b':
      case 'B': *text = std::to_string(u8()); break;
      case 's':
      case 'u': *text = std::to_string(u16()); break;
      case 'I':
      case 'i': *text = std::to_string(u32()); break;
      case 'l':
      case 'L':
      case 'T': take(8, &v); break;
      case 'f': take(4, &v); break;
      case 'd': take(8, &v); break;
      case 'D': take(5, &v); break;
      case 'S':
      case 'x': *text = printable(longstr(), 512); break;
      case 'V': break;
      case 'F': {
        if (depth > 4) return failed_ = true, false;
        const size_t start = pos_;
        const uint32_t n = u32();
        pos_ = start;
        take(4 + size_t{n}, nested);
        break;
      }
      case 'A': take(u32(), &v); break;  // arrays are not needed for any column
      default: return failed_ = true, false;
    }
    return !failed_;
  }

  std::string_view b_;
  size_t pos_ = 0;
  bool failed_ = false;
};

bool amqp_complete(std::string_view b) {
  if (b.size() >= 8 && b.substr(0, 4) == "AMQP") return true;
  if (b.size() < 7) return false;
  return b.size() >= 8 + size_t{wire::be32(b, 3)} || b[0] != '\x01';
}

Result<nlohmann::json> amqp_parse(std::string_view b) {
  nlohmann::json f = nlohmann::json::object();
  if (b.size() >= 8 && b.substr(0, 4) == "AMQP") {  // "speak this instead": 0, major, minor, rev
    f["version_major"] = std::to_string(wire::byte(b, 5));
    f["version_minor"] = std::to_string(wire::byte(b, 6));
    return f;
  }
  if (b.size() < 12 || b[0] != '\x01') return Error::invalid("no AMQP method frame");
  const uint32_t size = wire::be32(b, 3);
  if (b.size() < 8 + size_t{size} || static_cast<unsigned char>(b[7 + size]) != 0xce)
    return Error::invalid("truncated AMQP frame");
  TableReader r(b.substr(7, size));
  const uint32_t cls = r.u16(), method = r.u16();
  if (cls != 10 || method != 10) return Error::invalid("not Connection.Start");
  f["channel"] = std::to_string(wire::be16(b, 1));
  f["message_length"] = size;
  f["class"] = std::to_string(cls);
  f["method"] = std::to_string(method);
  f["version_major"] = std::to_string(r.u8());
  f["version_minor"] = std::to_string(r.u8());
  r.table([&](std::string_view name, char, const std::string& text, std::string_view nested) {
    if (name == "capabilities" && !nested.empty()) {
      std::vector<std::string> on;
      TableReader(nested).table(
          [&](std::string_view cap, char type, const std::string& v, std::string_view) {
            if (type == 't' && v == "true") on.push_back(printable(cap, 128));
          });
      f["capabilities"] = join(on, "|");
    }
    if (name == "cluster_name") f["cluster_name"] = text;
    if (name == "platform") f["platform"] = text;
    if (name == "product") f["product"] = text;
    if (name == "version") f["product_version"] = text;
  });
  f["mechanisms"] = printable(r.longstr(), 512);
  f["locales"] = printable(r.longstr(), 512);
  if (r.failed()) return Error::invalid("malformed Connection.Start");
  return f;
}

}  // namespace

ProbeModule amqp_module() {
  ProbeModule m;
  m.name = "amqp";
  m.report_type = "scan_amqp";
  m.tag = "amqp";
  m.default_port = 5672;
  m.columns = {"channel",         "message_length", "class",        "method",   "version_major",
               "version_minor",   "capabilities",   "cluster_name", "platform", "product",
               "product_version", "mechanisms",     "locales"};
  m.request = [](const ProbeTarget&) { return kHeader; };
  m.complete = amqp_complete;
  m.parse = amqp_parse;
  return m;
}

}  // namespace vantage::scanner
