// Keeps one gateway process alive: spawns it, restarts it with exponential
// backoff when it dies, kills it when it stops answering pings, and stops it
// (shutdown frame, then SIGTERM, then SIGKILL) when Orthanc stops. Exit
// status 78 (EX_CONFIG) means "fix the configuration": no restart.
// All of this runs on one supervisor thread; other threads only read the
// state and the current channel.
#pragma once

#include "channel.h"
#include "sdk-workers.h"

#include <sys/types.h>

#include <json/json.h>

#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace aibridge {

enum class GatewayState { Starting, Running, Backoff, ConfigError, Stopped };

const char* GatewayStateName(GatewayState state);

struct SupervisorSnapshot {
  GatewayState state = GatewayState::Stopped;
  pid_t pid = 0;
  int restarts = 0;
  bool hasExit = false;       // lastExit* are meaningful
  int lastExitCode = -1;      // exit status, or -1 when killed by a signal
  int lastExitSignal = 0;     // signal number, or 0
  std::chrono::system_clock::time_point startedAt;  // of the current process
  std::string errorCode;      // ConfigError: the fatal frame's code
  std::string errorMessage;
  Json::Value errorDetails{Json::objectValue};  // e.g. {"key": "AiBridge.X"}
};

class Supervisor {
 public:
  struct Options {
    std::string nodeCommand;
    std::string gatewayScript;
    std::string pluginVersion;
    std::string orthancVersion;
    std::string sdkVersion;
    // Wall clock (Unix seconds) when Orthanc loaded the plugin: on its very
    // first start the gateway skips only changes older than this, so nothing
    // stored while it was still starting is missed.
    long long loadedAt = 0;
  };

  static constexpr int kExitConfig = 78;
  static constexpr std::chrono::milliseconds kInitialBackoff{500};
  static constexpr std::chrono::milliseconds kMaxBackoff{30000};
  static constexpr std::chrono::seconds kHealthyRun{60};
  static constexpr std::chrono::seconds kPingInterval{5};
  static constexpr std::chrono::seconds kPingTimeout{15};
  static constexpr std::chrono::seconds kShutdownGrace{5};
  static constexpr std::chrono::seconds kTermGrace{2};

  Supervisor(Options options, SdkWorkers& workers);
  ~Supervisor();

  // Puts the supervisor in ConfigError without ever spawning (C++ found a
  // bad key). Call before Launch().
  void SetConfigError(const std::string& code, const std::string& key, const std::string& message);

  // Starts the supervisor thread; it spawns the gateway once Begin() is
  // called (on OrthancStarted: the gateway's first calls need a running
  // server). Both return at once.
  void Launch();
  void Begin();
  // No more restarts; the thread starts the shutdown sequence. Non-blocking
  // (safe from the change callback).
  void RequestStop();
  // RequestStop() + join. Bounded: 5 s + 2 s + a little.
  void Stop();

  std::shared_ptr<Channel> CurrentChannel();
  SupervisorSnapshot Snapshot();

 private:
  void Run();
  // Runs one gateway process until it exits or is stopped. Returns false if
  // it could not be spawned.
  bool RunOnce(std::chrono::steady_clock::duration& ranFor, int& waitStatus, bool& haveStatus);
  // Waits for exit; SIGTERM then SIGKILL as needed. Returns the wait status.
  bool Terminate(pid_t pid, std::chrono::milliseconds politeWait, int& waitStatus);
  // Sleeps until `d` passed or stop requested; true if stop was requested.
  bool SleepUnlessStopped(std::chrono::steady_clock::duration d);
  void SetState(GatewayState state);
  bool StopRequested();

  const Options options_;
  SdkWorkers& workers_;

  std::mutex mutex_;
  std::condition_variable cv_;
  bool begun_ = false;
  bool stopRequested_ = false;
  SupervisorSnapshot snapshot_;
  std::shared_ptr<Channel> channel_;
  std::thread thread_;
};

}  // namespace aibridge
