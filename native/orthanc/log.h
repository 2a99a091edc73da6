// Logging into Orthanc's log from any thread. The context pointer is set once
// in OrthancPluginInitialize and cleared at the very end of Finalize, so a
// late message from a stopping thread is dropped instead of touching a dead
// context.
#pragma once

#include <orthanc/OrthancCPlugin.h>

#include <string>

namespace aibridge {

void SetContext(OrthancPluginContext* context);
OrthancPluginContext* GetContext();

void LogInfo(const std::string& message);
void LogWarning(const std::string& message);
void LogError(const std::string& message);

}  // namespace aibridge
