#pragma once
// The malware families the sinkhole names (conf/sinkhole/families.json, edited by the
// operator): what each is called in the report's infection and family columns, the tag and
// severity its events carry, and where to read about it. One family is "unknown": what a
// connection no rule names and no sinkholed domain explains is reported as.
//
//   {"families": [
//     {"name": "necurs", "infection": "necurs", "tag": "necurs", "severity": "critical",
//      "url": "https://malpedia.caad.fkie.fraunhofer.de/details/win.necurs",
//      "description": "..."}, ...]}
//
// Immutable once loaded; shared read-only by every thread.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/result.h"

namespace vantage::sinkhole {

struct Family {
  std::string name;       // the key rules and domain entries use
  std::string infection;  // report column "infection" (default: name)
  std::string tag;        // report column "tag" (default: name)
  std::string severity;   // critical, high, medium, low, info
  std::string url;
  std::string description;
};

class Families {
 public:
  static constexpr uint16_t kUnknown = 0;  // index of "unknown", always present

  static Result<Families> load_file(const std::string& path);
  static Result<Families> parse(std::string_view json_text);

  // Index of the family called `name`, or -1.
  int find(std::string_view name) const;
  const Family& at(uint16_t index) const { return list_[index]; }
  size_t size() const { return list_.size(); }

 private:
  std::vector<Family> list_;
  std::unordered_map<std::string, uint16_t> by_name_;
};

}  // namespace vantage::sinkhole
