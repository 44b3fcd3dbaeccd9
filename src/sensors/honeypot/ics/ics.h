#pragma once
// The ICS honeypots' protocol readers and writers: Modbus/TCP (MBAP header + PDU, Modbus
// Application Protocol v1.1b3) and Siemens S7comm over ISO-on-TCP (TPKT, COTP connection and
// data TPDUs, S7 job/ack/userdata PDUs). Pure functions of their input; fuzzed.

#include <cstdint>
#include <string>
#include <string_view>

#include "sensors/honeypot/service.h"

namespace vantage::honeypot::ics {

enum class Parse { kComplete, kIncomplete, kMalformed };

// ---- Modbus/TCP
struct ModbusRequest {
  uint16_t transaction = 0;
  uint8_t unit = 0;
  uint8_t function = 0;
  std::string_view data;  // the PDU after the function code
  size_t length = 0;      // the whole ADU
};
Parse parse_modbus(std::string_view in, ModbusRequest& out);
// The answer of a Schneider M340-like PLC (reads return plausible values, writes are
// acknowledged and forgotten, device identification names it, the rest is an exception).
std::string modbus_response(const ModbusRequest& r);
const char* modbus_function_name(uint8_t function);

// ---- S7comm
struct S7Packet {
  // COTP TPDU code: 0xe0 connection request, 0xf0 data.
  uint8_t cotp = 0;
  uint16_t src_ref = 0;
  std::string_view tsap_src, tsap_dst;  // connection request parameters (c1, c2)
  // S7 PDU (data TPDUs).
  uint8_t rosctr = 0;  // 1 job, 3 ack-data, 7 userdata
  uint16_t pdu_ref = 0;
  uint8_t function = 0;  // the first parameter byte (job): 0xf0 setup, 0x04 read var...
  uint8_t group = 0, subfunction = 0;  // userdata: function group and subfunction
  uint16_t szl_id = 0, szl_index = 0;  // userdata "read SZL"
  size_t length = 0;                   // the TPKT
};
Parse parse_s7(std::string_view in, S7Packet& out);
// A Siemens S7-300 (CPU 315-2 PN/DP): connection confirm, setup communication (PDU 240),
// SZL 0x0011 module identification and 0x001c component identification; every other job is
// refused ("function not available"). Empty for packets that get no answer.
std::string s7_response(const S7Packet& p);
std::string s7_function_name(const S7Packet& p);

// Hex of at most `max` bytes (the request/response columns), "..." when cut.
std::string hex_bounded(std::string_view bytes, size_t max = 256);

}  // namespace vantage::honeypot::ics
