#include "gateway-log.h"

#include "log.h"

#include <errno.h>
#include <poll.h>
#include <unistd.h>

#include <string>

namespace aibridge {

namespace {

constexpr size_t kMaxLine = 16 * 1024;  // longer lines are logged in pieces

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

void Emit(int which, const std::string& line) {
  if (line.empty()) return;
  if (which == 1) {
    LogWarning("gateway: " + line);
  } else {
    LogInfo("gateway: " + line);
  }
}

}  // namespace

GatewayLog::~GatewayLog() { Stop(std::chrono::milliseconds(0)); }

void GatewayLog::Start(int stdoutFd, int stderrFd) {
  fds_[0] = stdoutFd;
  fds_[1] = stderrFd;
  deadlineNs_.store(-1);
  thread_ = std::thread([this] { Loop(); });
}

void GatewayLog::Stop(std::chrono::milliseconds grace) {
  if (thread_.joinable()) {
    deadlineNs_.store(NowNs() + std::chrono::duration_cast<std::chrono::nanoseconds>(grace).count());
    thread_.join();
  }
  for (int& fd : fds_) {
    if (fd >= 0) close(fd);
    fd = -1;
  }
}

void GatewayLog::Loop() {
  std::string pending[2];
  bool open[2] = {fds_[0] >= 0, fds_[1] >= 0};
  char buffer[4096];
  while (open[0] || open[1]) {
    const int64_t deadline = deadlineNs_.load();
    if (deadline >= 0 && NowNs() >= deadline) break;
    pollfd pfds[2];
    for (int i = 0; i < 2; i++) {
      pfds[i].fd = open[i] ? fds_[i] : -1;  // negative fds are skipped by poll
      pfds[i].events = POLLIN;
      pfds[i].revents = 0;
    }
    // Short timeout so Stop() is noticed even while the pipes stay silent.
    const int ready = poll(pfds, 2, 100);
    if (ready < 0) {
      if (errno == EINTR) continue;
      break;
    }
    for (int i = 0; i < 2; i++) {
      if (!open[i] || pfds[i].revents == 0) continue;
      const ssize_t n = read(fds_[i], buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        open[i] = false;
        continue;
      }
      pending[i].append(buffer, static_cast<size_t>(n));
      size_t start = 0;
      for (size_t nl; (nl = pending[i].find('\n', start)) != std::string::npos; start = nl + 1) {
        size_t end = nl;
        if (end > start && pending[i][end - 1] == '\r') end--;
        Emit(i, pending[i].substr(start, end - start));
      }
      pending[i].erase(0, start);
      if (pending[i].size() > kMaxLine) {
        Emit(i, pending[i]);
        pending[i].clear();
      }
    }
  }
  for (int i = 0; i < 2; i++) Emit(i, pending[i]);
}

}  // namespace aibridge
