#pragma once
// The Telnet honeypot's reader, apart from the service so that it can be tested and fuzzed on
// its own: the NVT byte stream (RFC 854) split into option negotiations (WILL/WONT/DO/DONT),
// subnegotiations (IAC SB ... IAC SE, with IAC IAC undone) and input lines (ended by CR LF,
// CR NUL or a bare LF; BS/DEL and IAC EC/EL edit the line as a terminal would), all bounded.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace vantage::honeypot::telnet {

enum : uint8_t {
  kSe = 240,
  kEc = 247,  // erase character
  kEl = 248,  // erase line
  kSb = 250,
  kWill = 251,
  kWont = 252,
  kDo = 253,
  kDont = 254,
  kIac = 255,
};
enum : uint8_t { kOptEcho = 1, kOptSga = 3, kOptTtype = 24, kOptNaws = 31 };

struct Limits {
  size_t max_line = 1024;
  size_t max_subnegotiation = 256;  // TTYPE names are at most 40 (RFC 1091), NAWS 4 bytes
};

struct Item {
  enum class Kind : uint8_t { kLine, kNegotiation, kSubnegotiation, kTooLong };
  Kind kind = Kind::kLine;
  uint8_t command = 0;  // kNegotiation: kWill, kWont, kDo or kDont
  uint8_t option = 0;   // kNegotiation, kSubnegotiation
  std::string text;     // kLine: the line; kSubnegotiation: the payload after the option
};

// One connection's reader. The partial line is kept here between calls (it is the only
// state); an IAC sequence cut short by the end of the input is left unconsumed.
class Reader {
 public:
  explicit Reader(Limits limits = {}) : limits_(limits) {}
  // Reads what it can of `in`, appending what it found to `out` (and, when `echo` is given,
  // what a terminal echoes back of the line input). Returns the bytes consumed: it stops
  // after the first complete line, so that the caller can act on it (switch echo off for a
  // password) before the next one is read. After a kTooLong item nothing more is read: the
  // caller closes the connection.
  size_t feed(std::string_view in, std::vector<Item>& out, std::string* echo = nullptr);

 private:
  void end_line(std::vector<Item>& out);
  Limits limits_;
  std::string line_;
  bool after_cr_ = false;
};

// TTYPE IS <name> (RFC 1091): the terminal type, cut to 64 characters. False if not an IS.
bool parse_ttype(std::string_view payload, std::string& name);
// NAWS (RFC 1073): the window size. False if the payload is not 4 bytes.
bool parse_naws(std::string_view payload, uint16_t& width, uint16_t& height);

}  // namespace vantage::honeypot::telnet
