#include "integrations/syslog_message.h"

#include <algorithm>

namespace vantage::integrations {

int syslog_severity(uint8_t severity) {
  static constexpr int kMap[] = {6, 5, 4, 3, 2};
  return kMap[std::min<uint8_t>(severity, 4)];
}

std::string printable_ascii(std::string_view s, size_t max) {
  std::string out;
  for (char c : s) {
    if (out.size() >= max) break;
    if (c >= 33 && c <= 126) out += c;
  }
  return out.empty() ? "-" : out;
}

std::string syslog_message(const SyslogHeader& h, uint8_t severity, UnixSeconds at,
                           std::string_view msgid,
                           const std::vector<std::pair<std::string, std::string>>& sd,
                           std::string_view msg) {
  std::string ts = format_timestamp(at);  // "YYYY-MM-DD HH:MM:SS" -> RFC 3339
  if (ts.size() == 19) ts[10] = 'T';
  std::string out = "<" + std::to_string(h.facility * 8 + syslog_severity(severity)) + ">1 " + ts +
                    "Z " + printable_ascii(h.hostname, 255) + ' ' +
                    printable_ascii(h.app_name, 48) + " - " + printable_ascii(msgid, 32) + ' ';
  if (sd.empty()) {
    out += '-';
  } else {
    out += '[' + h.sd_id;
    for (const auto& [name, value] : sd) {
      out += ' ' + name + "=\"";
      for (char c : value) {  // PARAM-VALUE escapes '"', '\' and ']'
        if (c == '"' || c == '\\' || c == ']') out += '\\';
        out += c;
      }
      out += '"';
    }
    out += ']';
  }
  if (!msg.empty()) {
    out += ' ';
    out += msg;
  }
  return out;
}

void append_octet_counted(std::string& out, std::string_view message) {
  out += std::to_string(message.size());
  out += ' ';
  out += message;
}

}  // namespace vantage::integrations
