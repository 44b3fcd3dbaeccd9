// DVR "DHCPDiscover" (scan_dvr_dhcpdiscover) over UDP 37810: the DHIP device search that
// Dahua-platform DVRs/NVRs/cameras (and their many OEM rebrands) answer, the reflection vector
// Shadowserver reports. Request: a 32-byte DHIP header ("DHIP" magic, the JSON length twice,
// little-endian) and {"method":"DHDiscover.search","params":{"mac":"","uni":1}}. The reply has
// the same header and a JSON client.notifyDevInfo whose params.deviceInfo fills the columns:
//   Vendor -> device_vendor, DeviceClass -> device_type, DeviceType -> device_model,
//   Version -> device_version, SerialNo -> device_serial and device_id, MachineName,
//   Manufacturer, HttpPort, Port (internal_port), the channel counts, IPv4Address and
//   IPv6Address blocks, and the reply's "mac".
#include <string>

#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/udp_util.h"

namespace vantage::scanner {
namespace {

const std::string& request_bytes() {
  static const std::string r = [] {
    const std::string body = R"({"method":"DHDiscover.search","params":{"mac":"","uni":1}})"
                             "\n";
    std::string s = std::string("\x20\x00\x00\x00", 4) + "DHIP" + std::string(8, '\0');
    octets::put_le32(s, static_cast<uint32_t>(body.size()));
    octets::put_le32(s, 0);
    octets::put_le32(s, static_cast<uint32_t>(body.size()));
    octets::put_le32(s, 0);
    return s + body;
  }();
  return r;
}

std::string text(const nlohmann::json& j, const char* key) {
  if (!j.is_object() || !j.contains(key)) return {};
  const auto& v = j[key];
  if (v.is_string()) return printable(v.get<std::string>(), 255);
  if (v.is_number_integer() || v.is_boolean()) return v.dump();
  return {};
}

Result<nlohmann::json> dvr_parse(std::string_view framed) {
  const auto ds = udp_unframe(framed);
  for (auto d : ds) {
    if (d.size() < 32 || d.substr(4, 4) != "DHIP") continue;
    const auto j = nlohmann::json::parse(d.substr(32), nullptr, false);
    if (!j.is_object() || !j.contains("params") || !j["params"].is_object()) continue;
    const auto& info = j["params"].value("deviceInfo", nlohmann::json::object());
    if (!info.is_object()) continue;
    nlohmann::json f = nlohmann::json::object();
    auto put = [&](const char* column, const std::string& value) {
      if (!value.empty()) f[column] = value;
    };
    put("device_vendor", text(info, "Vendor"));
    put("device_type", text(info, "DeviceClass"));
    put("device_model", text(info, "DeviceType"));
    put("device_version", text(info, "Version"));
    put("device_id", text(info, "SerialNo"));
    put("device_serial", text(info, "SerialNo"));
    put("machine_name", text(info, "MachineName"));
    put("manufacturer", text(info, "Manufacturer"));
    put("method", text(j, "method"));
    put("http_port", text(info, "HttpPort"));
    put("internal_port", text(info, "Port"));
    put("video_input_channels", text(info, "VideoInputChannels"));
    put("alarm_input_channels", text(info, "AlarmInputChannels"));
    put("video_output_channels", text(info, "VideoOutputChannels"));
    put("alarm_output_channels", text(info, "AlarmOutputChannels"));
    put("remote_video_input_channels", text(info, "RemoteVideoInputChannels"));
    put("mac_address", text(j, "mac"));
    const auto v4 = info.value("IPv4Address", nlohmann::json::object());
    put("ipv4_address", text(v4, "IPAddress"));
    put("ipv4_gateway", text(v4, "DefaultGateway"));
    put("ipv4_subnet_mask", text(v4, "SubnetMask"));
    put("ipv4_dhcp_enable", text(v4, "DhcpEnable"));
    const auto v6 = info.value("IPv6Address", nlohmann::json::object());
    put("ipv6_address", text(v6, "IPAddress"));
    put("ipv6_link_local", text(v6, "LinkLocalAddress"));
    put("ipv6_gateway", text(v6, "DefaultGateway"));
    put("ipv6_dhcp_enable", text(v6, "DhcpEnable"));
    octets::set_amplification(f, ds, request_bytes().size());
    return f;
  }
  return Error::invalid("no DHIP device information reply");
}

}  // namespace

ProbeModule dvr_dhcpdiscover_module() {
  ProbeModule m;
  m.name = "dvr_dhcpdiscover";
  m.report_type = "scan_dvr_dhcpdiscover";
  m.tag = "dvr-dhcpdiscover";
  m.default_port = 37810;
  m.transport = Transport::udp;
  m.columns = {"device_vendor",
               "device_type",
               "device_model",
               "device_version",
               "device_id",
               "device_serial",
               "machine_name",
               "manufacturer",
               "method",
               "http_port",
               "internal_port",
               "video_input_channels",
               "alarm_input_channels",
               "video_output_channels",
               "alarm_output_channels",
               "remote_video_input_channels",
               "mac_address",
               "ipv4_address",
               "ipv4_gateway",
               "ipv4_subnet_mask",
               "ipv4_dhcp_enable",
               "ipv6_address",
               "ipv6_link_local",
               "ipv6_gateway",
               "ipv6_dhcp_enable",
               "response_size",
               "amplification"};
  m.request = [](const ProbeTarget&) { return udp_frames({request_bytes()}); };
  m.complete = octets::any_datagram;
  m.parse = dvr_parse;
  return m;
}

}  // namespace vantage::scanner
