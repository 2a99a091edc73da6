#include "process-spawn.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

extern char** environ;

namespace aibridge {

namespace {

constexpr int kChildSocketFd = 3;

void CloseIfOpen(int& fd) {
  if (fd >= 0) close(fd);
  fd = -1;
}

// dup2(fd, fd) leaves FD_CLOEXEC set on some libcs, so keep the child's
// source descriptors away from the numbers they are dup'ed to.
bool MoveAbove(int& fd, int minimum) {
  if (fd > minimum) return true;
  const int moved = fcntl(fd, F_DUPFD_CLOEXEC, minimum + 1);
  if (moved < 0) return false;
  close(fd);
  fd = moved;
  return true;
}

std::vector<std::string> BuildEnvironment(const SpawnRequest& request) {
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string entry(*e);
    bool overridden = false;
    for (const auto& kv : request.env) {
      if (entry.compare(0, kv.first.size() + 1, kv.first + "=") == 0) overridden = true;
    }
    if (!overridden) env.push_back(entry);
  }
  for (const auto& kv : request.env) env.push_back(kv.first + "=" + kv.second);
  return env;
}

}  // namespace

bool SpawnProcess(const SpawnRequest& request, SpawnedProcess& out, std::string& error) {
  int sockets[2] = {-1, -1};
  int outPipe[2] = {-1, -1};
  int errPipe[2] = {-1, -1};
  // CLOEXEC everywhere: only the dup2'ed copies in the child survive exec,
  // and no other child of Orthanc inherits our ends.
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sockets) != 0 ||
      pipe2(outPipe, O_CLOEXEC) != 0 || pipe2(errPipe, O_CLOEXEC) != 0) {
    error = std::string("cannot create socket/pipes: ") + strerror(errno);
    for (int* fd : {&sockets[0], &sockets[1], &outPipe[0], &outPipe[1], &errPipe[0], &errPipe[1]}) CloseIfOpen(*fd);
    return false;
  }
  int childSocket = sockets[1];
  int childOut = outPipe[1];
  int childErr = errPipe[1];
  const bool moved = MoveAbove(childSocket, kChildSocketFd) && MoveAbove(childOut, kChildSocketFd) &&
                     MoveAbove(childErr, kChildSocketFd);

  posix_spawn_file_actions_t actions;
  posix_spawnattr_t attr;
  posix_spawn_file_actions_init(&actions);
  posix_spawnattr_init(&attr);

  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, childOut, 1);
  posix_spawn_file_actions_adddup2(&actions, childErr, 2);
  posix_spawn_file_actions_adddup2(&actions, childSocket, kChildSocketFd);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 34))
  // Orthanc's own descriptors (database, HTTP and DICOM sockets) are not all
  // close-on-exec; the gateway must not hold them.
  posix_spawn_file_actions_addclosefrom_np(&actions, kChildSocketFd + 1);
#endif

  sigset_t empty;
  sigemptyset(&empty);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int s : {SIGPIPE, SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGCHLD, SIGUSR1, SIGUSR2}) sigaddset(&defaults, s);
  posix_spawnattr_setsigmask(&attr, &empty);
  posix_spawnattr_setsigdefault(&attr, &defaults);
  posix_spawnattr_setpgroup(&attr, 0);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETPGROUP);

  std::vector<std::string> argStrings;
  argStrings.push_back(request.command);
  argStrings.insert(argStrings.end(), request.args.begin(), request.args.end());
  std::vector<char*> argv;
  for (std::string& a : argStrings) argv.push_back(&a[0]);
  argv.push_back(nullptr);
  std::vector<std::string> envStrings = BuildEnvironment(request);
  std::vector<char*> envp;
  for (std::string& e : envStrings) envp.push_back(&e[0]);
  envp.push_back(nullptr);

  pid_t pid = -1;
  const int moveErrno = errno != 0 ? errno : EMFILE;
  const int rc = moved ? posix_spawnp(&pid, request.command.c_str(), &actions, &attr, argv.data(), envp.data())
                       : moveErrno;
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  close(childSocket);
  close(childOut);
  close(childErr);

  if (rc != 0) {
    error = "cannot start " + request.command + ": " + strerror(rc);
    close(sockets[0]);
    close(outPipe[0]);
    close(errPipe[0]);
    return false;
  }
  out.pid = pid;
  out.socketFd = sockets[0];
  out.stdoutFd = outPipe[0];
  out.stderrFd = errPipe[0];
  return true;
}

void SignalProcessGroup(pid_t pid, int signal) {
  if (pid <= 0) return;
  if (kill(-pid, signal) != 0) {
    kill(pid, signal);  // the group may not exist if setpgid failed
  }
}

}  // namespace aibridge
