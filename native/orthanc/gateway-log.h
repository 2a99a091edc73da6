// Copies the gateway's stdout/stderr into Orthanc's log, line by line, on one
// thread (stderr as warnings, stdout as info), so a crash message of the Node
// process lands where the Orthanc admin looks.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace aibridge {

class GatewayLog {
 public:
  GatewayLog() = default;
  ~GatewayLog();
  GatewayLog(const GatewayLog&) = delete;
  GatewayLog& operator=(const GatewayLog&) = delete;

  // Takes ownership of both read ends.
  void Start(int stdoutFd, int stderrFd);
  // Lets the thread drain until both pipes reach EOF or `grace` passes (a
  // grandchild may keep a pipe open forever), then joins and closes.
  void Stop(std::chrono::milliseconds grace);

 private:
  void Loop();

  int fds_[2] = {-1, -1};
  std::atomic<int64_t> deadlineNs_{-1};  // -1: run until EOF
  std::thread thread_;
};

}  // namespace aibridge
