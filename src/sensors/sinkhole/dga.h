#pragma once
// Domain generation algorithms the sinkhole can pre-register: a `dga` line of the domain
// file names one of these with its parameters, and the domain map expands it into the
// domains the malware will look up on each date. Listed by hand in dga.cc (one line each).
//
// The algorithms are reimplemented from public reverse-engineering write-ups (cited in
// dga.cc); their tests check them against independently computed vectors.

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"
#include "common/time.h"

namespace vantage::sinkhole {

struct DgaParams {
  uint64_t seed = 0;              // the algorithm's seed / magic number
  int count = 0;                  // domains per date (per set for undated algorithms); 0: default
  std::vector<std::string> tlds;  // overrides the algorithm's own list when not empty
};

struct DgaAlgorithm {
  std::string name;
  bool dated = false;  // the set depends on the date (else on the seed alone)
  int default_count = 0;
  std::string source;  // where the algorithm is described
  // Appends the domains for `day` (ignored when !dated), lower case, with their TLD.
  std::function<void(const DgaParams&, DayNumber day, std::vector<std::string>& out)> generate;
};

const std::vector<DgaAlgorithm>& dga_algorithms();
const DgaAlgorithm* find_dga(std::string_view name);

}  // namespace vantage::sinkhole
