#pragma once
// The FTP honeypot's command reader, apart from the service so that it can be tested and
// fuzzed on its own: one command line ("USER anonymous", "PASS x y z") split into its verb
// (upper-cased) and its argument (kept whole: a password may hold spaces).

#include <string>
#include <string_view>

#include "sensors/honeypot/line_reader.h"

namespace vantage::honeypot::ftp {

struct Command {
  std::string verb;      // "USER", upper case; at most 8 characters are kept
  std::string_view arg;  // the rest of the line after one space, a view into the input
};

// Splits a command line (without its CR LF).
Command split_command(std::string_view line);

}  // namespace vantage::honeypot::ftp
