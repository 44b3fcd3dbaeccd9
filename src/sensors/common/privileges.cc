#include "sensors/common/privileges.h"

#include <grp.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

namespace vantage::sensors {

namespace {

Result<passwd> lookup(const std::string& user) {
  passwd pw{};
  passwd* found = nullptr;
  static thread_local char buf[4096];
  if (getpwnam_r(user.c_str(), &pw, buf, sizeof buf, &found) != 0 || !found) {
    return Error::not_found("no such user '" + user + "'");
  }
  return pw;
}

}  // namespace

Status drop_privileges(const std::string& user) {
  if (::geteuid() != 0) return {};
  if (user.empty()) {
    return Error{ErrorCode::kPermissionDenied,
                 "running as root: a user to switch to is required (sensor.user)"};
  }
  auto pw = lookup(user);
  if (!pw) return pw.error();
  if (pw->pw_uid == 0) return Error::invalid("sensor.user '" + user + "' is root");
  if (::setgroups(0, nullptr) != 0 || ::setgid(pw->pw_gid) != 0 || ::setuid(pw->pw_uid) != 0) {
    return Error{ErrorCode::kPermissionDenied,
                 "cannot switch to user '" + user + "': " + std::strerror(errno)};
  }
  ::prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
  if (::setuid(0) == 0 || ::geteuid() == 0) {
    return Error::internal("root could be regained after switching to '" + user + "'");
  }
  return {};
}

Status hand_over_directory(const std::string& path, const std::string& user) {
  if (::geteuid() != 0 || user.empty()) return {};
  auto pw = lookup(user);
  if (!pw) return pw.error();
  std::error_code ec;
  std::filesystem::create_directories(path, ec);
  if (::chown(path.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
    return Error::io("cannot hand " + path + " to '" + user + "': " + std::strerror(errno));
  }
  for (const auto& e : std::filesystem::recursive_directory_iterator(path, ec)) {
    if (::lchown(e.path().c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      return Error::io("cannot hand " + e.path().string() + " to '" + user +
                       "': " + std::strerror(errno));
    }
  }
  return {};
}

}  // namespace vantage::sensors
