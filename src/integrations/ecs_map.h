#pragma once
// Which Elastic Common Schema field carries which report column (schemas/ecs.json, compiled
// in): the mapping behind the elastic subscription kind's documents.
//
// Thread-safety: immutable after construction.

#include <map>
#include <string>
#include <string_view>

#include "common/result.h"

namespace vantage::integrations {

class EcsMap {
 public:
  struct Target {
    std::string field;   // dotted ECS path, "source.ip"
    bool array = false;  // written "tags[]" in the file: values are split on ',' into an array
  };

  static const EcsMap& builtin();
  // {"ecs_version": "...", "unmapped_prefix": "...", "columns": {...}, "types": {...}}
  static Result<EcsMap> parse(std::string_view json_text);

  // The target of `column` in report type `type`: the type's override, else the general
  // table, else unmapped_prefix + column.
  Target target(std::string_view type, std::string_view column) const;
  const std::string& ecs_version() const { return version_; }

 private:
  std::string version_;
  std::string unmapped_prefix_;
  std::map<std::string, Target, std::less<>> columns_;
  std::map<std::string, std::map<std::string, Target, std::less<>>, std::less<>> types_;
};

// The text of schemas/ecs.json compiled into the binary.
std::string_view builtin_ecs_json();

}  // namespace vantage::integrations
