#pragma once
// The ADB honeypot's reader and writer of Android Debug Bridge messages (a 24-byte header:
// command, arg0, arg1, payload length, payload checksum, command ^ 0xffffffff; then the
// payload), as adb clients and the bots that hunt for exposed devices on 5555/tcp send them.
// Pure functions of their input; fuzzed.

#include <cstdint>
#include <string>
#include <string_view>

namespace vantage::honeypot::adb {

enum class Parse { kComplete, kIncomplete, kMalformed };

constexpr uint32_t kCnxn = 0x4e584e43, kOpen = 0x4e45504f, kOkay = 0x59414b4f, kClse = 0x45534c43,
                   kWrte = 0x45545257, kAuth = 0x48545541, kStls = 0x534c5453;
constexpr size_t kMaxPayload = 256 * 1024;

struct Message {
  uint32_t command = 0, arg0 = 0, arg1 = 0;
  std::string_view payload;
  size_t length = 0;  // header + payload
};

Parse parse_message(std::string_view in, Message& out);
std::string message(uint32_t command, uint32_t arg0, uint32_t arg1, std::string_view payload);
// "CNXN", "OPEN"..., or "0x........" for others.
std::string command_name(uint32_t command);

}  // namespace vantage::honeypot::adb
