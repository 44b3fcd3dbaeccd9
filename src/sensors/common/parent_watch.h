#pragma once
// Sensors started by a supervising process (`vantage up`) must not outlive it: a supervisor
// killed with SIGKILL cannot stop its children, and an orphaned honeypot keeps its ports (with
// SO_REUSEPORT a new run binds beside it and loses half its connections to the orphan) and
// pushes to an endpoint that no longer exists.
//
// The supervisor names itself in the environment (kParentPidVariable) before it starts its
// children; a sensor then asks the kernel for SIGTERM when that parent dies. The request is
// made after privileges are dropped, because a change of credentials clears it.

namespace vantage::sensors {

inline constexpr const char* kParentPidVariable = "VANTAGE_PARENT_PID";

// With kParentPidVariable set: SIGTERM to this process when its parent (that pid) exits, and
// at once if that parent is already gone. Without it, or when this process is not that pid's
// child (a grandchild of the supervisor): nothing.
void exit_with_supervisor();

}  // namespace vantage::sensors
