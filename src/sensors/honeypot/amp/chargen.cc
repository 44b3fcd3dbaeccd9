// CHARGEN (19/udp, RFC 864): any datagram is answered with lines of the rotating printable
// pattern (six lines here; RFC 864 allows up to 512 bytes).

#include "sensors/honeypot/amp/protocols.h"

namespace vantage::honeypot::amp {

bool respond_chargen(std::string_view q, const sensors::Endpoint&, std::string& reply,
                     std::string& summary) {
  summary = q.empty() ? "chargen" : "chargen " + std::to_string(q.size()) + " bytes";
  reply.clear();
  for (int line = 0; line < 6; ++line) {
    for (int i = 0; i < 72; ++i) reply.push_back(static_cast<char>(' ' + 1 + (line + i) % 94));
    reply.append("\r\n");
  }
  return true;
}

}  // namespace vantage::honeypot::amp
