// MongoDB (scan_mongodb), as an exchange of three commands on the admin database:
//   1. isMaster as OP_QUERY on "admin.$cmd" (every server version answers it, MongoDB 6+
//      keeps OP_QUERY for exactly this handshake) - its maxWireVersion says whether the
//      server speaks OP_MSG (wire version 6, MongoDB 3.6+);
//   2. buildInfo (OP_MSG, or OP_QUERY for older servers): version, gitVersion, sysInfo,
//      openssl.running, allocator, javascriptEngine, bits, maxBsonObjectSize, ok;
//   3. listDatabases with nameOnly: visible_databases, the names an anonymous client may see
//      (an error such as "requires authentication" leaves the column empty).
// No authentication and no data are read. Replies are BSON (bsonspec.org), parsed by
// bson_to_json below with a depth and size bound.
#include <cstring>
#include <string>

#include "sensors/scanner/probes/exchange_module.h"
#include "sensors/scanner/probes/text_util.h"
#include "sensors/scanner/probes/wire.h"

namespace vantage::scanner {
namespace {

using namespace std::string_literals;
constexpr size_t kMaxMessage = 1024 * 1024;
constexpr int32_t kOpReply = 1, kOpQuery = 2004, kOpMsg = 2013;

// {<command>: 1, [$db: "admin"]} as BSON.
std::string bson_command(const std::string& command, bool with_db, bool name_only = false) {
  std::string e = "\x10"s + command + '\0';
  wire::put_le32(e, 1);
  if (name_only) {
    e += "\x08nameOnly\0"s + "\x01"s;
  }
  if (with_db) {
    e += "\x02$db\0"s;
    wire::put_le32(e, 6);
    e += "admin\0"s;
  }
  std::string doc;
  wire::put_le32(doc, static_cast<uint32_t>(4 + e.size() + 1));
  return doc + e + '\0';
}

std::string message(int32_t request_id, int32_t opcode, const std::string& body) {
  std::string m;
  wire::put_le32(m, static_cast<uint32_t>(16 + body.size()));
  wire::put_le32(m, static_cast<uint32_t>(request_id));
  wire::put_le32(m, 0);
  wire::put_le32(m, static_cast<uint32_t>(opcode));
  return m + body;
}

std::string op_query(int32_t id, const std::string& command, bool name_only = false) {
  std::string b;
  wire::put_le32(b, 0);  // flags
  b += "admin.$cmd\0"s;
  wire::put_le32(b, 0);           // skip
  wire::put_le32(b, 0xffffffff);  // return -1: one document, close the cursor
  return message(id, kOpQuery, b + bson_command(command, false, name_only));
}

std::string op_msg(int32_t id, const std::string& command, bool name_only = false) {
  std::string b;
  wire::put_le32(b, 0);  // flag bits
  b += '\0';             // section kind 0: the body document
  return message(id, kOpMsg, b + bson_command(command, true, name_only));
}

// A BSON document as JSON (numbers as numbers, strings as strings, documents and arrays
// nested; binary, ObjectId and the rest as null). Error when malformed.
Result<nlohmann::json> bson_to_json(std::string_view b, int depth, bool array = false) {
  if (depth > 8) return Error::invalid("BSON nested too deep");
  if (b.size() < 5) return Error::invalid("BSON document too short");
  const uint32_t len = wire::le32(b, 0);
  if (len < 5 || len > b.size() || b[len - 1] != '\0') return Error::invalid("bad BSON length");
  nlohmann::json out = array ? nlohmann::json::array() : nlohmann::json::object();
  size_t i = 4;
  while (i < len - 1) {
    const unsigned type = wire::byte(b, i++);
    const size_t nul = b.find('\0', i);
    if (nul == std::string_view::npos || nul >= len - 1) return Error::invalid("bad BSON name");
    const std::string name(b.substr(i, nul - i));
    i = nul + 1;
    auto need = [&](size_t n) { return len - 1 - i >= n; };
    nlohmann::json v;
    size_t step = 0;
    switch (type) {
      case 0x01: {
        if (!need(8)) return Error::invalid("truncated double");
        uint64_t bits = uint64_t{wire::le32(b, i)} | (uint64_t{wire::le32(b, i + 4)} << 32);
        double d;
        std::memcpy(&d, &bits, sizeof d);
        v = d;
        step = 8;
        break;
      }
      case 0x02:
      case 0x0d:
      case 0x0e: {
        if (!need(4)) return Error::invalid("truncated string");
        const uint32_t n = wire::le32(b, i);
        if (n < 1 || !need(4 + size_t{n})) return Error::invalid("bad string length");
        v = printable(b.substr(i + 4, n - 1), 4096);
        step = 4 + n;
        break;
      }
      case 0x03:
      case 0x04: {
        if (!need(5)) return Error::invalid("truncated document");
        const uint32_t n = wire::le32(b, i);
        if (n < 5 || !need(n)) return Error::invalid("bad document length");
        auto sub = bson_to_json(b.substr(i, n), depth + 1, type == 0x04);
        if (!sub) return sub.error();
        v = std::move(*sub);
        step = n;
        break;
      }
      case 0x05: {
        if (!need(5)) return Error::invalid("truncated binary");
        const uint32_t n = wire::le32(b, i);
        if (!need(5 + size_t{n})) return Error::invalid("bad binary length");
        step = 5 + n;
        break;
      }
      case 0x07: step = 12; break;
      case 0x08:
        if (!need(1)) return Error::invalid("truncated bool");
        v = b[i] != 0;
        step = 1;
        break;
      case 0x09:
      case 0x11: step = 8; break;
      case 0x0a:
      case 0x06:
      case 0x7f:
      case 0xff: step = 0; break;
      case 0x10:
        if (!need(4)) return Error::invalid("truncated int32");
        v = wire::le32s(b, i);
        step = 4;
        break;
      case 0x12:
        if (!need(8)) return Error::invalid("truncated int64");
        v = wire::le64s(b, i);
        step = 8;
        break;
      case 0x13: step = 16; break;
      case 0x0b: {  // regex: two C strings
        const size_t a = b.find('\0', i);
        const size_t z = a == std::string_view::npos ? a : b.find('\0', a + 1);
        if (z == std::string_view::npos || z >= len - 1) return Error::invalid("bad regex");
        step = z + 1 - i;
        break;
      }
      default: return Error::invalid("unknown BSON type");
    }
    if (!need(step)) return Error::invalid("truncated BSON value");
    i += step;
    if (array)
      out.push_back(std::move(v));
    else
      out[name] = std::move(v);
  }
  return out;
}

// The first document of an OP_REPLY or OP_MSG (kind 0) message.
Result<nlohmann::json> reply_document(std::string_view m) {
  if (m.size() < 16) return Error::invalid("short MongoDB message");
  const int32_t op = wire::le32s(m, 12);
  if (op == kOpReply && m.size() >= 36 + 5) return bson_to_json(m.substr(36), 0);
  if (op == kOpMsg && m.size() >= 21 + 5 && m[20] == '\0') return bson_to_json(m.substr(21), 0);
  return Error::invalid("not an OP_REPLY or OP_MSG");
}

std::string text_of(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_number_integer()) return std::to_string(v.get<int64_t>());
  if (v.is_number()) return nlohmann::json(v).dump();
  return {};
}

class MongoExchange : public Exchange {
 public:
  std::string start() override { return op_query(1, "isMaster"); }

  std::string feed(std::string_view chunk, bool* done) override {
    buf_.append(chunk.substr(0, kMaxMessage - std::min(buf_.size(), kMaxMessage)));
    std::string out;
    while (!*done && buf_.size() >= 4) {
      const uint32_t len = wire::le32(buf_, 0);
      if (len < 16 || len > kMaxMessage) {
        *done = true;
        break;
      }
      if (buf_.size() < len) break;
      auto doc = reply_document(std::string_view(buf_).substr(0, len));
      buf_.erase(0, len);
      if (!doc) {
        *done = true;
        break;
      }
      out += next(std::move(*doc), done);
    }
    return out;
  }

  Result<nlohmann::json> result() override {
    if (replies_ == 0 || !hello_.is_object()) return Error::invalid("no MongoDB reply");
    if (!hello_.contains("ismaster") && !hello_.contains("isWritablePrimary") &&
        !hello_.contains("maxWireVersion"))
      return Error::invalid("not a MongoDB isMaster answer");
    nlohmann::json f = nlohmann::json::object();
    if (build_.is_object()) {
      const std::pair<const char*, const char*> map[] = {
          {"version", "version"},
          {"gitVersion", "gitversion"},
          {"sysInfo", "sysinfo"},
          {"allocator", "allocator"},
          {"javascriptEngine", "javascriptengine"},
          {"bits", "bits"},
          {"maxBsonObjectSize", "maxbsonobjectsize"}};
      for (const auto& [key, col] : map)
        if (build_.contains(key))
          if (auto t = text_of(build_[key]); !t.empty()) f[col] = t;
      if (build_.contains("openssl") && build_["openssl"].is_object())
        if (auto r = build_["openssl"].find("running"); r != build_["openssl"].end())
          if (auto t = text_of(*r); !t.empty()) f["opensslversion"] = t;
      if (build_.contains("ok")) f["ok"] = build_["ok"].is_number() && build_["ok"] == 1;
    }
    if (dbs_.is_object() && dbs_.contains("databases") && dbs_["databases"].is_array()) {
      std::string names;
      for (const auto& d : dbs_["databases"])
        if (d.is_object() && d.contains("name") && d["name"].is_string() && names.size() < 4096)
          names += (names.empty() ? "" : "|") + d["name"].get<std::string>();
      f["visible_databases"] = printable(names, 4096);
    }
    return f;
  }

 private:
  // One reply document arrived: keep it, return the next command.
  std::string next(nlohmann::json doc, bool* done) {
    ++replies_;
    switch (step_++) {
      case 0:
        hello_ = std::move(doc);
        if (hello_.is_object())
          if (auto w = hello_.find("maxWireVersion"); w != hello_.end() && w->is_number())
            op_msg_ = w->get<double>() >= 6;
        return op_msg_ ? op_msg(2, "buildInfo") : op_query(2, "buildInfo");
      case 1:
        build_ = std::move(doc);
        return op_msg_ ? op_msg(3, "listDatabases", true) : op_query(3, "listDatabases", true);
      default:
        dbs_ = std::move(doc);
        *done = true;
        return {};
    }
  }

  std::string buf_;
  int step_ = 0, replies_ = 0;
  bool op_msg_ = false;
  nlohmann::json hello_, build_, dbs_;
};

}  // namespace

ProbeModule mongodb_module() {
  return exchange_module<MongoExchange>(
      "mongodb", "scan_mongodb", 27017,
      {"version", "gitversion", "sysinfo", "opensslversion", "allocator", "javascriptengine",
       "bits", "maxbsonobjectsize", "ok", "visible_databases"});
}

}  // namespace vantage::scanner
