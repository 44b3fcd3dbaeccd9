#pragma once
// What the report tests share: an input file written and ingested through the real pipeline,
// routed by the test's subscription index, so that reports are built from what
// `vantage ingest` would have stored.

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "core/catalogue.h"
#include "match/subscription_index.h"
#include "pipeline/ingest.h"
#include "store/store.h"

namespace vantage::report {

inline void write_and_ingest(const std::filesystem::path& path, const std::string& body,
                             const match::IndexHolder& index, store::EventStore& store) {
  std::ofstream(path) << body;
  pipeline::ProcessorInputs in;
  in.index = &index;
  pipeline::Ingestor ingestor(core::Catalogue::builtin(), in, store);
  auto r = ingestor.ingest_file(path.string(), {});
  ASSERT_TRUE(r.ok()) << path << ": " << r.error().message;
}

}  // namespace vantage::report
