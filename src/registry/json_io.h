#pragma once
// The registry as one JSON document, for `vantage registry export|import` and backups.
// Format (version 1):
//   {"format": "vantage-registry", "version": 1, "generation": N,
//    "organisations": [{"short_name", "name", "kind", "min_severity", "pgp_key",
//        "created_at", "updated_at", "contacts": [{name, email, title, phone}],
//        "recipients": [..], "resources": [{kind, value, verification, verification_detail,
//        checked_at, approval, dns_token, created_at}], "ignores": [..], "opt_outs": [..],
//        "keys": [{key, kind, label, created_at, revoked_at,
//                  "secrets": [{created_at, expires_at, "secret"?}]}]}],
//    "ingest_keys": [...same as keys...]}
// Secrets appear only when the snapshot carries them (export --with-secrets). Values are
// not validated here; SqliteRegistry::import validates everything before writing.
// Pure functions, thread-safe.

#include <string>
#include <string_view>

#include "common/result.h"
#include "registry/model.h"

namespace vantage::registry {

std::string snapshot_to_json(const RegistrySnapshot& snapshot);
// Errors: kInvalidArgument with the JSON path of the offending value.
Result<RegistrySnapshot> snapshot_from_json(std::string_view text);

}  // namespace vantage::registry
