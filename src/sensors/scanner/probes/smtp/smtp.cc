// SMTP: the 220 greeting only (see ftp/ftp.cc); no EHLO, no STARTTLS, no mail.
#include "sensors/scanner/probes/probe.h"
#include "sensors/scanner/probes/text_util.h"

namespace vantage::scanner {

ProbeModule smtp_module() {
  ProbeModule m;
  m.name = "smtp";
  m.report_type = "scan_smtp";
  m.tag = "smtp";
  m.default_port = 25;
  m.columns = {"banner"};
  m.request = [](const ProbeTarget&) { return std::string(); };
  m.complete = reply_code_complete;
  m.parse = [](std::string_view b) { return greeting_banner(b, "220"); };
  return m;
}

}  // namespace vantage::scanner
