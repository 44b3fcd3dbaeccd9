#pragma once
// Version comparison for vulnerability checks: a version taken from a banner or header is
// compared with ranges such as ">=7.0.0 <7.2.4.1".
//
// Schemes:
//   dotted  every run of digits is one numeric component, everything else separates them:
//           "9.2p1" = 9.2.1, "13.1-49.13" = 13.1.49.13, "2.4.49" = 2.4.49. Missing trailing
//           components count as 0 ("7.2" == "7.2.0"). For OpenSSH, NetScaler, Exim, Apache,
//           Jenkins, Exchange builds: anything whose order is its numbers in sequence.
//   semver  MAJOR[.MINOR[.PATCH]][-PRERELEASE][+BUILD] after an optional "v" (semver.org
//           section 11): a pre-release sorts before its release ("8.0.0-beta1" < "8.0.0"),
//           pre-release identifiers compare numerically when numeric, else by ASCII; build
//           metadata is ignored. Missing MINOR/PATCH are 0.
//
// A range is comparators separated by spaces, all of which must hold: "<op><version>" with op
// one of < <= > >= = == != (no op means =). A range list matches when any range does.
// Parsing is strict (an unparsable version never matches anything); at most 16 numeric
// components of at most 18 digits each. Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/result.h"

namespace vantage::scanner {

enum class VersionScheme { dotted, semver };

std::optional<VersionScheme> parse_version_scheme(std::string_view name);

struct Version {
  std::vector<unsigned long long> numbers;
  std::vector<std::string> prerelease;  // semver only
};

std::optional<Version> parse_version(std::string_view text, VersionScheme scheme);
// <0, 0, >0 like strcmp.
int compare_versions(const Version& a, const Version& b, VersionScheme scheme);

class VersionRanges {
 public:
  // `ranges`: each string one range (comparators ANDed); the list is ORed.
  static Result<VersionRanges> parse(const std::vector<std::string>& ranges, VersionScheme scheme);
  bool contains(std::string_view version_text) const;
  VersionScheme scheme() const { return scheme_; }

 private:
  enum class Op { lt, le, gt, ge, eq, ne };
  struct Comparator {
    Op op;
    Version version;
  };
  VersionScheme scheme_ = VersionScheme::dotted;
  std::vector<std::vector<Comparator>> ranges_;
};

}  // namespace vantage::scanner
