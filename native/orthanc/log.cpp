#include "log.h"

#include <atomic>

namespace aibridge {

namespace {
std::atomic<OrthancPluginContext*> g_context{nullptr};
}

void SetContext(OrthancPluginContext* context) { g_context.store(context); }

OrthancPluginContext* GetContext() { return g_context.load(); }

// Orthanc's logging services are thread-safe; the "ai-bridge: " prefix lets
// an admin grep our lines out of Orthanc's log.
void LogInfo(const std::string& message) {
  if (OrthancPluginContext* c = g_context.load()) {
    OrthancPluginLogInfo(c, ("ai-bridge: " + message).c_str());
  }
}

void LogWarning(const std::string& message) {
  if (OrthancPluginContext* c = g_context.load()) {
    OrthancPluginLogWarning(c, ("ai-bridge: " + message).c_str());
  }
}

void LogError(const std::string& message) {
  if (OrthancPluginContext* c = g_context.load()) {
    OrthancPluginLogError(c, ("ai-bridge: " + message).c_str());
  }
}

}  // namespace aibridge
