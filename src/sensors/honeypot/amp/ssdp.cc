// SSDP (1900/udp) as a home router's UPnP stack (MiniUPnPd): an M-SEARCH gets the 200 OK a
// device sends for the search target asked (one answer, even for ssdp:all, where a real
// device sends one per service: the amplification).

#include "sensors/common/http_request.h"
#include "sensors/honeypot/amp/protocols.h"

namespace vantage::honeypot::amp {

bool respond_ssdp(std::string_view q, const sensors::Endpoint& local, std::string& reply,
                  std::string& summary) {
  size_t lf = q.find('\n');
  std::string_view first = q.substr(0, lf == std::string_view::npos ? q.size() : lf);
  if (!first.empty() && first.back() == '\r') first.remove_suffix(1);
  if (first.size() < 9 || !sensors::ascii_iequals(first.substr(0, 9), "M-SEARCH ")) return false;
  std::string_view st = "ssdp:all";
  bool found = false;
  size_t pos = lf == std::string_view::npos ? q.size() : lf + 1;
  while (pos < q.size() && !found) {
    size_t end = q.find('\n', pos);
    std::string_view line =
        q.substr(pos, end == std::string_view::npos ? q.size() - pos : end - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.size() >= 3 && sensors::ascii_iequals(line.substr(0, 3), "ST:")) {
      st = line.substr(3);
      while (!st.empty() && (st.front() == ' ' || st.front() == '\t')) st.remove_prefix(1);
      while (!st.empty() && (st.back() == ' ' || st.back() == '\t')) st.remove_suffix(1);
      found = true;
    }
    if (end == std::string_view::npos) break;
    pos = end + 1;
  }
  summary = "M-SEARCH ";
  append_printable(summary, st, 128);
  std::string host = local.ip.is_v4() ? local.ip.to_string() : "[" + local.ip.to_string() + "]";
  std::string st_text;
  append_printable(st_text, st, 128);
  reply = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: " + st_text +
          "\r\nUSN: uuid:5b8c1a4e-9d2f-4e61-8a3b-c0ffee000001::" + st_text +
          "\r\nEXT:\r\nSERVER: Linux/4.14 UPnP/1.1 MiniUPnPd/2.1\r\nLOCATION: http://" + host +
          ":49152/rootDesc.xml\r\nOPT: \"http://schemas.upnp.org/upnp/1/0/\"; ns=01\r\n"
          "01-NLS: 1\r\nBOOTID.UPNP.ORG: 1\r\nCONFIGID.UPNP.ORG: 1337\r\n\r\n";
  return true;
}

}  // namespace vantage::honeypot::amp
