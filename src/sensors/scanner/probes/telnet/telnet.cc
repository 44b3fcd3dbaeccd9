// Telnet: listen only. Option negotiation (IAC sequences, RFC 854/855) is stripped and the
// remaining text is the banner; we answer no option and never send credentials.
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {

// Removes IAC commands: IAC IAC is a literal 0xff, IAC SB ... IAC SE is skipped, IAC
// WILL/WONT/DO/DONT take one option byte, other IAC commands none.
std::string strip_telnet_iac(std::string_view b, bool* saw_iac) {
  std::string out;
  *saw_iac = false;
  for (size_t i = 0; i < b.size(); ++i) {
    const auto c = static_cast<unsigned char>(b[i]);
    if (c != 0xff) {
      out += b[i];
      continue;
    }
    *saw_iac = true;
    if (i + 1 >= b.size()) break;
    const auto cmd = static_cast<unsigned char>(b[i + 1]);
    if (cmd == 0xff) {
      out += b[i];
      ++i;
    } else if (cmd >= 251 && cmd <= 254) {
      i += 2;
    } else if (cmd == 250) {
      size_t j = i + 2;
      while (j + 1 < b.size() && !(static_cast<unsigned char>(b[j]) == 0xff &&
                                   static_cast<unsigned char>(b[j + 1]) == 240))
        ++j;
      i = j + 1;
    } else {
      ++i;
    }
  }
  return out;
}

namespace {

bool telnet_complete(std::string_view b) {
  bool iac;
  const std::string text = strip_telnet_iac(b, &iac);
  // A login prompt ends the banner.
  return text.find("login:") != std::string::npos || text.find("ogin: ") != std::string::npos ||
         text.find("assword:") != std::string::npos || b.size() >= 4096;
}

Result<nlohmann::json> telnet_parse(std::string_view b) {
  bool iac;
  const std::string text = strip_telnet_iac(b, &iac);
  if (!iac && text.empty()) return Error::invalid("nothing received");
  nlohmann::json f = nlohmann::json::object();
  f["banner"] = printable(text);
  return f;
}

}  // namespace

ProbeModule telnet_module() {
  ProbeModule m;
  m.name = "telnet";
  m.report_type = "scan_telnet";
  m.tag = "telnet";
  m.default_port = 23;
  m.columns = {"banner"};
  m.request = [](const ProbeTarget&) { return std::string(); };
  m.complete = telnet_complete;
  m.parse = telnet_parse;
  return m;
}

}  // namespace vantage::scanner
