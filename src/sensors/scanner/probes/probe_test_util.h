// Helpers shared by the probe modules' unit tests (probes_*_test.cc): the recorded replies in
// probes/testdata/, module lookup, and the check that an event's fields would pass ingest.
#pragma once

#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>

#include "core/catalogue.h"
#include "core/event.h"
#include "sensors/scanner/probes/probe.h"

namespace vantage::scanner::test_util {

// The recording probes/testdata/<name>.bin (what a server sent to the module's own request).
inline std::string fixture(const std::string& name) {
  std::ifstream in(
      std::string(VANTAGE_SOURCE_DIR) + "/src/sensors/scanner/probes/testdata/" + name + ".bin",
      std::ios::binary);
  EXPECT_TRUE(in.good()) << name;
  return std::string(std::istreambuf_iterator<char>(in), {});
}

// The registered module `name`; a missing one fails the test (and must not be used further).
inline const ProbeModule& mod(const std::string& name) {
  const ProbeModule* m = find_module(name);
  EXPECT_NE(m, nullptr) << name;
  return *m;
}

// What `vantage ingest` does with an event's fields (pipeline/jsonl_decoder.cc): every value,
// as text, must convert to its catalogue column's type (integer, float, boolean, ...).
inline void expect_typed(const std::string& name, const nlohmann::json& fields) {
  const auto* type = core::Catalogue::builtin().find(mod(name).report_type);
  ASSERT_NE(type, nullptr);
  core::Event ev(type);
  for (const auto& [k, v] : fields.items()) {
    const int col = type->column_index(k);
    ASSERT_GE(col, 0) << name << ": " << k;
    const std::string text = v.is_string() ? v.get<std::string>() : v.dump();
    EXPECT_EQ(ev.set_text(col, text), core::ValueError::kNone)
        << name << ": " << k << " = " << text;
  }
}

}  // namespace vantage::scanner::test_util
