// memcached (11211/udp): the 8-byte UDP frame header, then a text command. "stats" gets a
// server's statistics, "version" its version, a get/gets "END" (nothing is ever stored: a
// "set" is answered STORED and forgotten, so the honeypot has no value to amplify).

#include <cctype>

#include "sensors/honeypot/amp/protocols.h"

namespace vantage::honeypot::amp {

bool respond_memcached(std::string_view q, const sensors::Endpoint&, std::string& reply,
                       std::string& summary) {
  if (q.size() < 9) return false;
  std::string_view text = q.substr(8);
  size_t eol = text.find('\n');
  std::string_view line = text.substr(0, eol == std::string_view::npos ? text.size() : eol);
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  size_t sp = line.find(' ');
  std::string_view cmd = line.substr(0, sp);
  if (cmd.empty() || cmd.size() > 16) return false;
  for (char c : cmd)
    if (!std::islower(static_cast<unsigned char>(c)) && c != '_') return false;
  summary.clear();
  append_printable(summary, line, 128);
  reply.assign(q.substr(0, 2));     // request id
  reply.append("\0\0\0\1\0\0", 6);  // sequence 0 of 1 datagram
  if (cmd == "stats") {
    reply +=
        "STAT pid 1129\r\nSTAT uptime 8641034\r\nSTAT time 1700000000\r\nSTAT version 1.4.25\r\n"
        "STAT libevent 2.0.21-stable\r\nSTAT pointer_size 64\r\nSTAT rusage_user 812.346000\r\n"
        "STAT rusage_system 2197.112000\r\nSTAT curr_connections 10\r\n"
        "STAT total_connections 6231\r\nSTAT connection_structures 12\r\n"
        "STAT cmd_get 1884021\r\nSTAT cmd_set 91234\r\nSTAT get_hits 1721991\r\n"
        "STAT get_misses 162030\r\nSTAT bytes_read 1092837461\r\nSTAT bytes_written 8273645512\r\n"
        "STAT limit_maxbytes 67108864\r\nSTAT threads 4\r\nSTAT bytes 5212841\r\n"
        "STAT curr_items 4127\r\nSTAT total_items 91234\r\nSTAT evictions 0\r\nEND\r\n";
  } else if (cmd == "version") {
    reply += "VERSION 1.4.25\r\n";
  } else if (cmd == "get" || cmd == "gets") {
    reply += "END\r\n";
  } else if (cmd == "set" || cmd == "add" || cmd == "replace" || cmd == "append" ||
             cmd == "prepend") {
    reply += "STORED\r\n";
  } else {
    reply += "ERROR\r\n";
  }
  return true;
}

}  // namespace vantage::honeypot::amp
