#pragma once
// The demo's synthetic bots for `vantage up`: from 127.0.0.1, a few DNS lookups of the
// example domains (conf/sinkhole/domains.txt) and the HTTP requests and raw first packets of
// some example families (conf/sinkhole/rules.json), sent to the sinkhole `up` runs on
// loopback, so its events show up in the demo. Only ever to the loopback addresses the
// sinkhole's status file lists.

#include <string>

namespace vantage::cli {

// Sends one round of bot traffic to the sinkhole whose status file is
// <data_dir>/sensors/sinkhole/status.json. Returns the number of exchanges that got through
// (0 when the sinkhole is not up yet).
int drive_sinkhole_demo(const std::string& data_dir);

}  // namespace vantage::cli
