#pragma once
// Identity of an input file, independent of its name: the same bytes dropped twice (or
// under another name) are recognised, so re-ingesting never double-counts, and a restart
// after a crash resumes the same file from its checkpoint.

#include <string>

#include "common/result.h"

namespace vantage::pipeline {

struct SourceIdentity {
  std::string key;  // "sha256:<hex>" over size + first MiB + last MiB
  int64_t size = 0;
};

// Reads at most 2 MiB of the file, whatever its size.
Result<SourceIdentity> identify_file(const std::string& path);

}  // namespace vantage::pipeline
