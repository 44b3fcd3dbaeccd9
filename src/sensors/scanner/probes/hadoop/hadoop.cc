// Hadoop HDFS web interfaces (scan_hadoop): the JMX servlet every Hadoop daemon's web server
// answers without authentication unless Kerberos/SPNEGO is on. Three GETs on one connection:
//   /jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo     version, cluster id, capacity,
//                                                          live nodes (a NameNode)
//   /jmx?qry=Hadoop:service=NameNode,name=NameNodeStatus   the NameNode's host and port
//   /jmx?qry=Hadoop:service=DataNode,name=DataNodeInfo     version, cluster id, its NameNodes,
//                                                          volumes (a DataNode)
// Each answer is {"beans":[{...}]} (an empty list when the daemon is not that role). Ports:
// 50070/50075 (Hadoop 2), 9870/9864 (Hadoop 3).
//
// server_type: "namenode" or "datanode"; total_disk/used_disk/free_disk in bytes;
// livenodes: the live DataNodes' names joined with "|"; namenodeaddress: the NameNode's
// host:port (from a DataNode: the NameNodes it reports to); volumeinfo: the DataNode's
// VolumeInfo JSON as it sends it.
#include <string>

#include "common/strings.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/web/web.h"

namespace vantage::scanner {
namespace {

const std::vector<std::string> kPaths = {"/jmx?qry=Hadoop:service=NameNode,name=NameNodeInfo",
                                         "/jmx?qry=Hadoop:service=NameNode,name=NameNodeStatus",
                                         "/jmx?qry=Hadoop:service=DataNode,name=DataNodeInfo"};

// The first bean of a JMX answer whose "name" is `name`, or null.
nlohmann::json bean(const std::vector<HttpReply>& rs, size_t i, std::string_view name) {
  if (rs.size() <= i || rs[i].code != 200) return nullptr;
  const auto j = nlohmann::json::parse(rs[i].body, nullptr, false);
  if (!j.is_object() || !j.contains("beans") || !j["beans"].is_array()) return nullptr;
  for (const auto& b : j["beans"])
    if (b.is_object() && b.value("name", "") == name) return b;
  return nullptr;
}

// Keys of a JSON object sent as a string (LiveNodes, NamenodeAddresses), joined with "|".
std::string object_keys(const nlohmann::json& b, const char* key) {
  if (!b.contains(key) || !b[key].is_string()) return {};
  const auto j = nlohmann::json::parse(b[key].get<std::string>(), nullptr, false);
  if (!j.is_object()) return {};
  std::vector<std::string> keys;
  for (const auto& [k, v] : j.items())
    if (keys.size() < 256) keys.push_back(printable(k, 256));
  return join(keys, "|");
}

void put_number(nlohmann::json& f, const char* col, const nlohmann::json& b, const char* key) {
  if (b.contains(key) && b[key].is_number_integer()) f[col] = b[key].get<int64_t>();
}

// "3.3.6, r1be78238728da9266a4f88195058f08fd012bf9c" -> "3.3.6".
std::string version_of(const nlohmann::json& b) {
  if (auto v = json_text(b, "SoftwareVersion")) return *v;
  auto v = json_text(b, "Version");
  if (!v) return {};
  return v->substr(0, v->find(','));
}

Result<nlohmann::json> interpret(const std::vector<HttpReply>& rs, const nlohmann::json&) {
  nlohmann::json f = nlohmann::json::object();
  const auto nn = bean(rs, 0, "Hadoop:service=NameNode,name=NameNodeInfo");
  const auto dn = bean(rs, 2, "Hadoop:service=DataNode,name=DataNodeInfo");
  if (nn.is_object()) {
    f["server_type"] = "namenode";
    f["version"] = version_of(nn);
    if (auto c = json_text(nn, "ClusterId")) f["clusterid"] = *c;
    put_number(f, "total_disk", nn, "Total");
    put_number(f, "used_disk", nn, "Used");
    put_number(f, "free_disk", nn, "Free");
    f["livenodes"] = object_keys(nn, "LiveNodes");
    const auto st = bean(rs, 1, "Hadoop:service=NameNode,name=NameNodeStatus");
    if (st.is_object())
      if (auto hp = json_text(st, "HostAndPort")) f["namenodeaddress"] = *hp;
    return f;
  }
  if (dn.is_object()) {
    f["server_type"] = "datanode";
    f["version"] = version_of(dn);
    if (auto c = json_text(dn, "ClusterId")) f["clusterid"] = *c;
    const std::string nns = object_keys(dn, "NamenodeAddresses");
    if (!nns.empty()) f["namenodeaddress"] = nns;
    if (auto v = json_text(dn, "VolumeInfo")) f["volumeinfo"] = printable(*v, 2048);
    return f;
  }
  return Error::invalid("no Hadoop NameNode or DataNode bean");
}

}  // namespace

ProbeModule hadoop_module() {
  return web_module("hadoop", "scan_hadoop", 50070,
                    {"version", "server_type", "clusterid", "total_disk", "used_disk", "free_disk",
                     "livenodes", "namenodeaddress", "volumeinfo"},
                    WebProbe{kPaths, false, interpret});
}

}  // namespace vantage::scanner
