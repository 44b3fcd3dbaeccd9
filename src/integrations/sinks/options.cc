#include "integrations/sinks/options.h"

namespace vantage::integrations {

Result<SinkOptions> SinkOptions::parse(std::string_view json_text,
                                       const std::vector<OptionSpec>& specs) {
  SinkOptions out;
  if (!json_text.empty()) out.j_ = nlohmann::json::parse(json_text, nullptr, false);
  if (out.j_.is_discarded() || !out.j_.is_object())
    return Error::invalid("options must be a JSON object");
  for (const auto& [key, value] : out.j_.items()) {
    const OptionSpec* spec = nullptr;
    for (const auto& s : specs)
      if (s.name == key) spec = &s;
    if (!spec) {
      std::string known;
      for (const auto& s : specs) known += (known.empty() ? "" : ", ") + std::string(s.name);
      return Error::invalid("unknown option '" + key + "' (this kind takes: " +
                            (known.empty() ? std::string("none") : known) + ")");
    }
    switch (spec->type) {
      case OptionSpec::Type::kString:
        if (!value.is_string()) return Error::invalid("option '" + key + "' must be a string");
        break;
      case OptionSpec::Type::kBool:
        if (!value.is_boolean())
          return Error::invalid("option '" + key + "' must be true or false");
        break;
      case OptionSpec::Type::kInt:
        if (!value.is_number_integer() || value.get<int64_t>() < spec->min ||
            value.get<int64_t>() > spec->max)
          return Error::invalid("option '" + key + "' must be an integer in " +
                                std::to_string(spec->min) + ".." + std::to_string(spec->max));
        break;
    }
  }
  return out;
}

std::string SinkOptions::str(std::string_view name, std::string fallback) const {
  auto it = j_.find(std::string(name));
  return it != j_.end() && it->is_string() ? it->get<std::string>() : fallback;
}

int64_t SinkOptions::integer(std::string_view name, int64_t fallback) const {
  auto it = j_.find(std::string(name));
  return it != j_.end() && it->is_number_integer() ? it->get<int64_t>() : fallback;
}

bool SinkOptions::flag(std::string_view name, bool fallback) const {
  auto it = j_.find(std::string(name));
  return it != j_.end() && it->is_boolean() ? it->get<bool>() : fallback;
}

}  // namespace vantage::integrations
