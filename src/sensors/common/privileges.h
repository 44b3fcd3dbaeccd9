#pragma once
// Sensors face hostile traffic: once their sockets are bound (ports below 1024 need root or
// CAP_NET_BIND_SERVICE), they give up root for good.

#include <string>

#include "common/result.h"

namespace vantage::sensors {

// When running as root: switches to `user` (its uid, gid, no supplementary groups) and sets
// no_new_privs, then checks that root cannot be regained. When not root: nothing to drop
// (returns ok). `user` empty while root: an error -- a sensor never serves as root.
Status drop_privileges(const std::string& user);

// Makes `path` (a directory the sensor writes after dropping privileges, e.g. its journal)
// owned by `user`, when running as root. No-op otherwise.
Status hand_over_directory(const std::string& path, const std::string& user);

}  // namespace vantage::sensors
