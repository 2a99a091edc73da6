#include "supervisor.h"

#include "gateway-log.h"
#include "log.h"
#include "process-spawn.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>

#include <algorithm>

namespace aibridge {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

// Polls for the child's exit. True with `status` set once it is reaped.
bool Reap(pid_t pid, milliseconds timeout, int& status) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    const pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return true;
    if (r < 0 && errno != EINTR) {
      // ECHILD: somebody else reaped it, or SIGCHLD is ignored (children are
      // reaped automatically). Only "gone" if it really is.
      if (errno != ECHILD || kill(pid, 0) != 0) {
        status = 0;
        return true;
      }
    }
    if (Clock::now() >= deadline) return false;
    std::this_thread::sleep_for(milliseconds(50));
  }
}

std::string DescribeStatus(int status) {
  if (WIFEXITED(status)) return "exited with status " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status)) return std::string("was killed by signal ") + std::to_string(WTERMSIG(status)) +
                                  " (" + strsignal(WTERMSIG(status)) + ")";
  return "ended with wait status " + std::to_string(status);
}

}  // namespace

const char* GatewayStateName(GatewayState state) {
  switch (state) {
    case GatewayState::Starting: return "starting";
    case GatewayState::Running: return "running";
    case GatewayState::Backoff: return "backoff";
    case GatewayState::ConfigError: return "config-error";
    case GatewayState::Stopped: return "stopped";
  }
  return "unknown";
}

Supervisor::Supervisor(Options options, SdkWorkers& workers)
    : options_(std::move(options)), workers_(workers) {}

Supervisor::~Supervisor() { Stop(); }

void Supervisor::SetConfigError(const std::string& code, const std::string& key,
                                const std::string& message) {
  std::lock_guard<std::mutex> lock(mutex_);
  snapshot_.state = GatewayState::ConfigError;
  snapshot_.errorCode = code;
  snapshot_.errorDetails = Json::Value(Json::objectValue);
  if (!key.empty()) snapshot_.errorDetails["key"] = key;
  snapshot_.errorMessage = message;
}

void Supervisor::Launch() {
  std::lock_guard<std::mutex> lock(mutex_);
  if (thread_.joinable() || snapshot_.state == GatewayState::ConfigError) return;
  snapshot_.state = GatewayState::Starting;
  thread_ = std::thread([this] { Run(); });
}

void Supervisor::Begin() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    begun_ = true;
  }
  cv_.notify_all();
}

void Supervisor::RequestStop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopRequested_ = true;
  }
  cv_.notify_all();
}

void Supervisor::Stop() {
  RequestStop();
  if (thread_.joinable()) thread_.join();
}

std::shared_ptr<Channel> Supervisor::CurrentChannel() {
  std::lock_guard<std::mutex> lock(mutex_);
  return channel_;
}

SupervisorSnapshot Supervisor::Snapshot() {
  std::lock_guard<std::mutex> lock(mutex_);
  return snapshot_;
}

void Supervisor::SetState(GatewayState state) {
  std::lock_guard<std::mutex> lock(mutex_);
  snapshot_.state = state;
}

bool Supervisor::StopRequested() {
  std::lock_guard<std::mutex> lock(mutex_);
  return stopRequested_;
}

bool Supervisor::SleepUnlessStopped(Clock::duration d) {
  std::unique_lock<std::mutex> lock(mutex_);
  return cv_.wait_for(lock, d, [&] { return stopRequested_; });
}

void Supervisor::Run() {
  {
    std::unique_lock<std::mutex> lock(mutex_);
    cv_.wait(lock, [&] { return begun_ || stopRequested_; });
  }
  milliseconds delay = kInitialBackoff;
  while (!StopRequested()) {
    SetState(GatewayState::Starting);
    Clock::duration ranFor{0};
    int status = 0;
    bool haveStatus = false;
    const bool spawned = RunOnce(ranFor, status, haveStatus);
    if (StopRequested()) break;

    if (spawned && haveStatus && WIFEXITED(status) && WEXITSTATUS(status) == kExitConfig) {
      std::lock_guard<std::mutex> lock(mutex_);
      snapshot_.state = GatewayState::ConfigError;
      if (snapshot_.errorCode.empty()) {
        snapshot_.errorCode = "AIB_GATEWAY_CONFIG_ERROR";
        snapshot_.errorMessage = "the gateway exited with status 78 (configuration error) without a fatal frame";
      }
      LogError("gateway reported a configuration error, not restarting it: " + snapshot_.errorCode +
               ": " + snapshot_.errorMessage);
      return;  // stays in ConfigError until Orthanc restarts with a fixed config
    }

    if (ranFor >= kHealthyRun) delay = kInitialBackoff;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      snapshot_.restarts++;
      snapshot_.state = GatewayState::Backoff;
    }
    LogWarning("restarting the gateway in " + std::to_string(delay.count()) + " ms");
    if (SleepUnlessStopped(delay)) break;
    delay = std::min(delay * 2, kMaxBackoff);
  }
  SetState(GatewayState::Stopped);
}

bool Supervisor::Terminate(pid_t pid, milliseconds politeWait, int& status) {
  if (Reap(pid, politeWait, status)) return true;
  LogWarning("gateway pid " + std::to_string(pid) + " still running; sending SIGTERM");
  SignalProcessGroup(pid, SIGTERM);
  if (Reap(pid, kTermGrace, status)) return true;
  LogWarning("gateway pid " + std::to_string(pid) + " ignored SIGTERM; sending SIGKILL");
  SignalProcessGroup(pid, SIGKILL);
  if (Reap(pid, milliseconds(2000), status)) return true;
  LogError("gateway pid " + std::to_string(pid) + " could not be reaped after SIGKILL");
  return false;
}

bool Supervisor::RunOnce(Clock::duration& ranFor, int& status, bool& haveStatus) {
  SpawnRequest request;
  request.command = options_.nodeCommand;
  // 1 MB V8 semi-spaces, as the gateway's own children (process-pool.ts): the nursery otherwise
  // grows to 16 MB x 3 of request garbage. With so small a nursery, each job's short-lived
  // objects reach the old generation, which V8 let grow to ~2.5x its live size before collecting
  // it (heap used 20 -> 52 MB over 10,000 instances); with a growing factor of 1.25 it stayed
  // within 17-26 MB, for a full collection every few seconds of a busy pipeline.
  request.args = {"--max-semi-space-size=1", "--heap-growing-percent=25", options_.gatewayScript};
  request.env = {{"AIBRIDGE_FD", "3"},
                 {"AIBRIDGE_PLUGIN_VERSION", options_.pluginVersion},
                 {"AIBRIDGE_ORTHANC_VERSION", options_.orthancVersion}};
  SpawnedProcess process;
  std::string error;
  if (!SpawnProcess(request, process, error)) {
    LogError(error);
    return false;
  }
  const pid_t pid = process.pid;
  LogWarning("gateway started: pid " + std::to_string(pid) + ", " + options_.nodeCommand + " " +
             options_.gatewayScript);

  GatewayLog logs;
  logs.Start(process.stdoutFd, process.stderrFd);
  SdkWorkers& workers = workers_;
  std::shared_ptr<Channel> channel = Channel::Start(
      process.socketFd,
      [&workers](const std::shared_ptr<Channel>& ch, Frame&& call) { workers.Submit(ch, std::move(call)); });

  const auto started = Clock::now();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    channel_ = channel;
    snapshot_.pid = pid;
    snapshot_.startedAt = std::chrono::system_clock::now();
  }

  Json::Value hello(Json::objectValue);
  hello["k"] = "hello";
  hello["pluginVersion"] = options_.pluginVersion;
  hello["orthancVersion"] = options_.orthancVersion;
  hello["sdkVersion"] = options_.sdkVersion;
  hello["pluginLoadedAt"] = static_cast<Json::Int64>(options_.loadedAt);
  channel->Send(hello);

  int64_t pingId = 0;
  auto lastPing = Clock::time_point();  // ping at once: its pong marks "running"
  for (;;) {
    bool stop;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      stop = cv_.wait_for(lock, milliseconds(100), [&] { return stopRequested_; });
    }
    if (stop) {
      Json::Value shutdown(Json::objectValue);
      shutdown["k"] = "shutdown";
      channel->Send(shutdown);
      haveStatus = Terminate(pid, kShutdownGrace, status);
      break;
    }
    if (Reap(pid, milliseconds(0), status)) {
      haveStatus = true;
      break;
    }
    const auto now = Clock::now();
    if (channel->IsClosed()) {
      // Normal just before an exit (fatal then exit 78); otherwise the
      // gateway is broken: give it a moment, then make sure it goes.
      haveStatus = Terminate(pid, kTermGrace, status);
      break;
    }
    if (now - channel->LastActivity() > kPingTimeout) {
      LogError("gateway pid " + std::to_string(pid) + " sent nothing for " +
               std::to_string(kPingTimeout.count()) + " s (no pong); killing it");
      SignalProcessGroup(pid, SIGKILL);
      haveStatus = Reap(pid, milliseconds(2000), status);
      break;
    }
    if (channel->ReceivedAnyFrame()) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (snapshot_.state == GatewayState::Starting) {
        snapshot_.state = GatewayState::Running;
        LogWarning("gateway pid " + std::to_string(pid) + " is up");
      }
    }
    if (now - lastPing >= kPingInterval) {
      Json::Value ping(Json::objectValue);
      ping["k"] = "ping";
      ping["id"] = Json::Int64(++pingId);
      channel->Send(ping);
      lastPing = now;
    }
  }
  ranFor = Clock::now() - started;

  // Let the reader consume what the gateway wrote last (a fatal frame just
  // before exit 78), then close; waiting http requests fail with 503.
  channel->WaitClosed(milliseconds(1000));
  channel->Close();
  logs.Stop(milliseconds(1000));

  std::string fatalCode;
  std::string fatalMessage;
  Json::Value fatalDetails;
  const bool hasFatal = channel->GetFatal(fatalCode, fatalMessage, fatalDetails);
  {
    std::lock_guard<std::mutex> lock(mutex_);
    channel_.reset();
    snapshot_.pid = 0;
    snapshot_.hasExit = haveStatus;
    snapshot_.lastExitCode = haveStatus && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    snapshot_.lastExitSignal = haveStatus && WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    if (hasFatal) {
      snapshot_.errorCode = fatalCode;
      snapshot_.errorMessage = fatalMessage;
      snapshot_.errorDetails = fatalDetails;
    }
  }
  if (hasFatal) LogError("gateway fatal error " + fatalCode + ": " + fatalMessage);
  LogWarning("gateway pid " + std::to_string(pid) + " " +
             (haveStatus ? DescribeStatus(status) : std::string("could not be reaped")));
  return true;
}

}  // namespace aibridge
