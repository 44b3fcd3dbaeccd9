#pragma once
// `vantage collect`: takes reports from an upstream Shadowserver-compatible api2 -- the
// Shadowserver Foundation's, or another Vantage's -- so that a national CSIRT can feed them to
// its own pipeline and redistribute them to its constituency.
//
//   1. POST <api>/reports/list {"apikey", "date": <window>, "reports"?, "types"?} signed with
//      HMAC2, exactly as Shadowserver's own clients do;
//   2. for each report not fetched before from this upstream: GET <download root><id> (the
//      dl.shadowserver.org form; a Vantage upstream answers it at its root) into
//      <work_dir>/<file>.part, then renamed;
//   3. `deliver` takes the file (the CLI ingests it, or drops it into a running service's
//      inbox); only when it succeeds is the report recorded as fetched in the state file
//      (<data_dir>/collect.sqlite), so a failure or a crash leaves it to the next run and a
//      re-run fetches nothing twice.
//
// Thread-safety: one Collector per thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/result.h"
#include "integrations/answers.h"

namespace vantage::store {
class Db;
}

namespace vantage::integrations {

struct CollectOptions {
  std::string api_url;        // "https://transform.shadowserver.org/api2/"
  std::string download_root;  // empty: dl.shadowserver.org for Shadowserver, else the api's root
  std::string key;
  std::string secret;
  std::string date = "-2:now";       // reports/list window (Shadowserver's date syntax)
  std::vector<std::string> reports;  // mailing-list names; empty: every list of the key
  std::vector<std::string> types;    // report types; empty: all
  std::string work_dir;              // downloads land here
  std::string ca_file;               // for a private upstream CA
  std::chrono::seconds api_timeout{45};
  std::chrono::seconds download_timeout{900};
  int64_t max_report_bytes = int64_t{4} << 30;
};

struct CollectedReport {
  ListedReport listed;
  std::string path;  // the downloaded file
  int64_t bytes = 0;
};

struct CollectSummary {
  int64_t listed = 0;
  int64_t already_fetched = 0;
  int64_t fetched = 0;
  int64_t failed = 0;
  std::vector<std::string> errors;  // one line per failed report
};

// "https://transform.shadowserver.org/api2/" -> "https://dl.shadowserver.org/";
// any other api URL -> its scheme://host[:port]/.
std::string default_download_root(const std::string& api_url);

class Collector {
 public:
  // `state_path`: the record of fetched reports (created if needed).
  static Result<std::unique_ptr<Collector>> open(const std::string& state_path);
  ~Collector();

  Result<std::vector<ListedReport>> list(const CollectOptions& options);
  Result<CollectSummary> run(const CollectOptions& options,
                             const std::function<Status(const CollectedReport&)>& deliver);

 private:
  explicit Collector(std::unique_ptr<store::Db> db);
  Result<bool> fetched_before(const std::string& upstream, const std::string& id);
  Status record(const std::string& upstream, const CollectedReport& r);
  std::unique_ptr<store::Db> db_;
};

}  // namespace vantage::integrations
