#include "sensors/common/parent_watch.h"

#include <signal.h>
#include <sys/prctl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace vantage::sensors {

void exit_with_supervisor() {
  const char* text = std::getenv(kParentPidVariable);
  if (!text || !*text) return;
  char* end = nullptr;
  long supervisor = std::strtol(text, &end, 10);
  if (*end != '\0' || supervisor <= 1) return;
  if (::getppid() == supervisor) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM, 0, 0, 0);
    // The parent may have died between the check and the request: look again.
    if (::getppid() == supervisor) return;
  }
  // Not the supervisor's child any more: either it is gone (we were re-parented), or this is
  // a grandchild started by one of its tools. Only the first is a reason to stop.
  if (::kill(static_cast<pid_t>(supervisor), 0) != 0 && errno == ESRCH) ::raise(SIGTERM);
}

}  // namespace vantage::sensors
