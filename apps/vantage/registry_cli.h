#pragma once
// Helpers shared by the registry commands (org, key, match, registry): opening the registry
// in the data directory and turning Error values into a message and an exit status.

#include <filesystem>
#include <iostream>
#include <memory>
#include <string>
#include <string_view>

#include "commands.h"
#include "registry/sqlite/sqlite_registry.h"

namespace vantage::cli {

// Exit status 1 for failed operations, 2 for bad input.
[[noreturn]] inline void fail(std::string_view command, const Error& e) {
  std::cerr << "vantage " << command << ": " << e.message << "\n";
  throw CommandFailed(e.code == ErrorCode::kInvalidArgument ? 2 : 1);
}

template <typename T>
T check(Result<T> r, std::string_view command) {
  if (!r) fail(command, r.error());
  return std::move(*r);
}

inline void check(const Status& st, std::string_view command) {
  if (!st) fail(command, st.error());
}

inline std::unique_ptr<registry::SqliteRegistry> open_registry(const GlobalOptions& global,
                                                               std::string_view command) {
  std::error_code ec;
  std::filesystem::create_directories(global.data_dir, ec);
  if (ec) fail(command, Error::io("cannot create " + global.data_dir + ": " + ec.message()));
  return check(registry::SqliteRegistry::open_in_data_dir(global.data_dir), command);
}

}  // namespace vantage::cli
