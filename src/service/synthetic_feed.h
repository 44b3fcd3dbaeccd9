#pragma once
// Synthetic events as JSON Lines, shared by `vantage generate` and the demo feed of
// `vantage up`. Every synthetic event carries the tag "synthetic" (pipeline/generator.h).

#include <string>
#include <vector>

#include "common/result.h"
#include "core/event.h"
#include "pipeline/generator.h"

namespace vantage::service {

// Appends `e` as one JSON Lines record: {"type":"...","fields":{...}}.
void append_jsonl(const core::Event& e, std::string& out, std::string& scratch);

// Writes `events` synthetic events to `path` atomically (path.tmp, fsync, rename), so a
// directory watcher never sees a partial file.
Status write_synthetic_jsonl(const core::Catalogue& catalogue,
                             const std::vector<pipeline::RoutedSegment>& segments,
                             const pipeline::FeedOptions& options, int64_t events,
                             const std::string& path);

}  // namespace vantage::service
