// The plugin's process-wide state, created in OrthancPluginInitialize and torn
// down in OrthancPluginFinalize. Orthanc callbacks are plain C functions, so
// they reach the supervisor through this one object.
#pragma once

#include "sdk-workers.h"
#include "supervisor.h"

#include <atomic>
#include <cstdint>
#include <memory>

namespace aibridge {

struct Bridge {
  // False when AiBridge.Enable is false: /ai-bridge/* then answers 503
  // AIB_PLUGIN_DISABLED and nothing is spawned.
  bool enabled = false;
  std::unique_ptr<SdkWorkers> workers;
  std::unique_ptr<Supervisor> supervisor;  // set whenever enabled
  std::atomic<uint64_t> changesDropped{0};
};

Bridge& TheBridge();

}  // namespace aibridge
