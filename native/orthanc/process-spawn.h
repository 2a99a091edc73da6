// (Not named spawn.h: that would shadow <spawn.h> through -Inative/orthanc.)
// Starting the gateway process. posix_spawnp, not fork(): Orthanc is
// multi-threaded, and a forked copy of it could deadlock on a lock some other
// thread held at fork time before it reaches exec.
#pragma once

#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

namespace aibridge {

struct SpawnRequest {
  std::string command;  // resolved through PATH
  std::vector<std::string> args;
  // Added to (and overriding) the parent's environment.
  std::vector<std::pair<std::string, std::string>> env;
};

struct SpawnedProcess {
  pid_t pid = -1;
  int socketFd = -1;  // our end of the socketpair; the child has fd 3
  int stdoutFd = -1;  // read ends of the child's stdout / stderr
  int stderrFd = -1;
};

// The child gets: fd 0 = /dev/null, 1/2 = pipes, 3 = socket, nothing else
// (close-from 4), its own process group (so a kill reaches the workers it
// spawns), default signal dispositions and an empty signal mask.
bool SpawnProcess(const SpawnRequest& request, SpawnedProcess& out, std::string& error);

// Signals the child's whole process group.
void SignalProcessGroup(pid_t pid, int signal);

}  // namespace aibridge
