// Modbus/TCP as a Schneider Electric Modicon M340 (BMX P34 2020): MBAP framing, the read
// functions answered with plausible process values, writes acknowledged and forgotten (the
// honeypot has no process to change), report-server-id and read-device-identification naming
// the PLC, exceptions for the rest.

#include <string>

#include "sensors/honeypot/ics/ics.h"
#include "sensors/honeypot/wire.h"

namespace vantage::honeypot::ics {

namespace {

std::string exception(uint8_t function, uint8_t code) {
  std::string pdu;
  pdu.push_back(static_cast<char>(function | 0x80));
  pdu.push_back(static_cast<char>(code));
  return pdu;
}

constexpr uint32_t kAddressSpace = 10000;  // coils/registers the PLC pretends to have

std::string modbus_pdu(const ModbusRequest& r) {
  const std::string_view d = r.data;
  std::string pdu(1, static_cast<char>(r.function));
  switch (r.function) {
    case 1:
    case 2: {  // read coils / discrete inputs
      if (d.size() != 4) return exception(r.function, 3);
      uint32_t start = wire::be16(d, 0), qty = wire::be16(d, 2);
      if (qty < 1 || qty > 2000) return exception(r.function, 3);
      if (start + qty > kAddressSpace) return exception(r.function, 2);
      size_t bytes = (qty + 7) / 8;
      pdu.push_back(static_cast<char>(bytes));
      for (size_t i = 0; i < bytes; ++i)
        pdu.push_back(static_cast<char>((start + i) & 1 ? 0xa5 : 0x5a));
      return pdu;
    }
    case 3:
    case 4: {  // read holding / input registers
      if (d.size() != 4) return exception(r.function, 3);
      uint32_t start = wire::be16(d, 0), qty = wire::be16(d, 2);
      if (qty < 1 || qty > 125) return exception(r.function, 3);
      if (start + qty > kAddressSpace) return exception(r.function, 2);
      pdu.push_back(static_cast<char>(2 * qty));
      for (uint32_t i = 0; i < qty; ++i)
        wire::put_be16(pdu, 200 + ((start + i) * 37) % 900);  // 20.0-110.0
      return pdu;
    }
    case 5:
    case 6:  // write single coil / register: echoed, not kept
      if (d.size() != 4) return exception(r.function, 3);
      pdu.append(d);
      return pdu;
    case 15:
    case 16: {  // write multiple: start and quantity echoed
      if (d.size() < 5) return exception(r.function, 3);
      uint32_t start = wire::be16(d, 0), qty = wire::be16(d, 2);
      if (start + qty > kAddressSpace) return exception(r.function, 2);
      pdu.append(d.substr(0, 4));
      return pdu;
    }
    case 17: {  // report server id
      std::string id =
          "\x01\xff"
          "Schneider Electric BMX P34 2020";
      pdu.push_back(static_cast<char>(id.size()));
      pdu += id;
      return pdu;
    }
    case 43: {  // encapsulated interface: read device identification (MEI 0x0e)
      if (d.size() < 3 || static_cast<unsigned char>(d[0]) != 0x0e) return exception(r.function, 1);
      static constexpr std::string_view kObjects[] = {"Schneider Electric", "BMX P34 2020", "v2.8"};
      uint8_t first = static_cast<uint8_t>(d[2]);
      if (first > 2) first = 0;
      pdu.append("\x0e", 1);
      pdu.push_back(d[1]);  // read device id code
      pdu.push_back(0x01);  // conformity: basic
      pdu.push_back(0x00);  // no more follows
      pdu.push_back(0x00);
      pdu.push_back(static_cast<char>(3 - first));
      for (uint8_t id = first; id < 3; ++id) {
        pdu.push_back(static_cast<char>(id));
        pdu.push_back(static_cast<char>(kObjects[id].size()));
        pdu.append(kObjects[id]);
      }
      return pdu;
    }
    default: return exception(r.function, 1);
  }
}

}  // namespace

Parse parse_modbus(std::string_view in, ModbusRequest& out) {
  out = {};
  if (in.size() < 8) return Parse::kIncomplete;
  uint16_t protocol = wire::be16(in, 2), length = wire::be16(in, 4);
  if (protocol != 0 || length < 2 || length > 254) return Parse::kMalformed;
  if (in.size() < 6u + length) return Parse::kIncomplete;
  out.transaction = wire::be16(in, 0);
  out.unit = static_cast<uint8_t>(in[6]);
  out.function = static_cast<uint8_t>(in[7]);
  out.data = in.substr(8, length - 2);
  out.length = 6u + length;
  return Parse::kComplete;
}

std::string modbus_response(const ModbusRequest& r) {
  std::string pdu = modbus_pdu(r);
  std::string adu;
  wire::put_be16(adu, r.transaction);
  wire::put_be16(adu, 0);
  wire::put_be16(adu, static_cast<uint32_t>(pdu.size() + 1));
  adu.push_back(static_cast<char>(r.unit));
  adu += pdu;
  return adu;
}

const char* modbus_function_name(uint8_t f) {
  switch (f) {
    case 1: return "read_coils";
    case 2: return "read_discrete_inputs";
    case 3: return "read_holding_registers";
    case 4: return "read_input_registers";
    case 5: return "write_single_coil";
    case 6: return "write_single_register";
    case 8: return "diagnostics";
    case 15: return "write_multiple_coils";
    case 16: return "write_multiple_registers";
    case 17: return "report_server_id";
    case 43: return "read_device_identification";
    case 90: return "unity_umas";
    default: return "other";
  }
}

}  // namespace vantage::honeypot::ics
