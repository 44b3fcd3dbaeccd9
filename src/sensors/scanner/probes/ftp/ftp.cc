// FTP and SMTP: listen for the greeting (RFC 959 section 4.2 / RFC 5321 section 4.2),
// a reply code and text, possibly multi-line ("220-" ... "220 "). Nothing is sent.
#include <cctype>

#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {

// True once a final reply line ("NNN " + text + LF) has arrived.
bool reply_code_complete(std::string_view b) {
  bool done = false;
  for_each_line(b, [&](std::string_view line) {
    if (line.size() >= 4 && std::isdigit(static_cast<unsigned char>(line[0])) && line[3] == ' ')
      done = true;
  });
  return done && !b.empty() && b.back() == '\n';
}

// The greeting if it starts with `code`; error otherwise.
Result<nlohmann::json> greeting_banner(std::string_view b, std::string_view code) {
  if (b.size() < 4 || b.substr(0, 3) != code || (b[3] != ' ' && b[3] != '-'))
    return Error::invalid("no " + std::string(code) + " greeting");
  nlohmann::json f = nlohmann::json::object();
  f["banner"] = printable(b);
  return f;
}

ProbeModule ftp_module() {
  ProbeModule m;
  m.name = "ftp";
  m.report_type = "scan_ftp";
  m.tag = "ftp";
  m.default_port = 21;
  m.columns = {"banner"};
  m.request = [](const ProbeTarget&) { return std::string(); };
  m.complete = reply_code_complete;
  m.parse = [](std::string_view b) { return greeting_banner(b, "220"); };
  return m;
}

}  // namespace vantage::scanner
