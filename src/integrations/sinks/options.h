#pragma once
// A subscription's kind-specific options (its JSON object), read with defaults, and checked
// against the keys and value types the kind declares: a misspelt key is an error, not a
// silently ignored setting.
//
// Thread-safety: a plain value.

#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace vantage::integrations {

struct OptionSpec {
  enum class Type { kString, kInt, kBool };
  std::string_view name;
  Type type;
  int64_t min = 0, max = 0;  // for kInt
};

class SinkOptions {
 public:
  // Parses and checks `json_text` against `specs`.
  static Result<SinkOptions> parse(std::string_view json_text,
                                   const std::vector<OptionSpec>& specs);

  std::string str(std::string_view name, std::string fallback = {}) const;
  int64_t integer(std::string_view name, int64_t fallback) const;
  bool flag(std::string_view name, bool fallback) const;
  bool has(std::string_view name) const { return j_.contains(std::string(name)); }

 private:
  nlohmann::json j_ = nlohmann::json::object();
};

}  // namespace vantage::integrations
