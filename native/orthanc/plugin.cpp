// Orthanc's entry points. Everything here returns 0 (success) even when the
// bridge cannot work: a broken AI bridge must never stop the PACS from
// starting. Problems are logged and reported by /ai-bridge/* answering 503.
#include <ctime>
#include "bridge.h"
#include "changes.h"
#include "config.h"
#include "http-forward.h"
#include "log.h"
#include "metrics.h"

#include <orthanc/OrthancCPlugin.h>

#include <string>

#ifndef AIBRIDGE_VERSION
#define AIBRIDGE_VERSION "0.0.0-dev"
#endif

namespace {

#define AIBRIDGE_STR2(x) #x
#define AIBRIDGE_STR(x) AIBRIDGE_STR2(x)
const char* const kSdkVersion = AIBRIDGE_STR(ORTHANC_PLUGINS_MINIMAL_MAJOR_NUMBER) "." AIBRIDGE_STR(
    ORTHANC_PLUGINS_MINIMAL_MINOR_NUMBER) "." AIBRIDGE_STR(ORTHANC_PLUGINS_MINIMAL_REVISION_NUMBER);

std::string ReadOrthancConfiguration(OrthancPluginContext* context) {
  char* json = OrthancPluginGetConfiguration(context);
  if (json == nullptr) return "";
  std::string text(json);
  OrthancPluginFreeString(context, json);
  return text;
}

void RegisterCallbacks(OrthancPluginContext* context) {
  OrthancPluginRegisterRestCallbackNoLock(context, "/ai-bridge", aibridge::RedirectRoot);
  OrthancPluginRegisterRestCallbackNoLock(context, "/ai-bridge/(.*)", aibridge::ForwardHttp);
  OrthancPluginRegisterRefreshMetricsCallback(context, aibridge::RefreshMetrics);
}

int32_t Initialize(OrthancPluginContext* context) {
  aibridge::SetContext(context);
  if (!OrthancPluginCheckVersion(context)) {
    aibridge::LogError(std::string("this Orthanc (") + context->orthancVersion +
                       ") is older than the SDK the plugin was built with (" + kSdkVersion +
                       "); the AI bridge stays inactive");
    return 0;
  }
  OrthancPluginSetDescription(context, "Sealed de-identification and AI annotation bridge (TypeScript gateway)");

  const aibridge::BridgeConfig config =
      aibridge::ParseBridgeConfig(ReadOrthancConfiguration(context), aibridge::DefaultGatewayScript());
  aibridge::Bridge& bridge = aibridge::TheBridge();

  if (config.ok() && !config.enable) {
    // Disabled: /ai-bridge/* still answers (503 AIB_PLUGIN_DISABLED) so an admin
    // probing /ai-bridge/health learns why nothing happens.
    aibridge::LogWarning("AiBridge disabled (AiBridge.Enable is false)");
    bridge.enabled = false;
    RegisterCallbacks(context);
    return 0;
  }

  bridge.enabled = true;
  aibridge::Supervisor::Options options;
  options.nodeCommand = config.nodeCommand;
  options.gatewayScript = config.gatewayScript;
  options.pluginVersion = AIBRIDGE_VERSION;
  options.orthancVersion = context->orthancVersion;
  options.sdkVersion = kSdkVersion;
  options.loadedAt = static_cast<long long>(std::time(nullptr));
  bridge.workers.reset(new aibridge::SdkWorkers(context));
  bridge.supervisor.reset(new aibridge::Supervisor(options, *bridge.workers));

  if (!config.ok()) {
    aibridge::LogError(config.errorMessage + "; the gateway is not started");
    bridge.supervisor->SetConfigError(config.errorCode, config.errorKey, config.errorMessage);
  } else {
    bridge.workers->Start();
    bridge.supervisor->Launch();  // spawns on OrthancStarted
    aibridge::LogWarning(std::string("AiBridge ") + AIBRIDGE_VERSION + " enabled; gateway " + config.nodeCommand +
                         " " + config.gatewayScript);
  }
  OrthancPluginRegisterOnChangeCallback(context, aibridge::OnChange);
  RegisterCallbacks(context);
  return 0;
}

}  // namespace

extern "C" {

ORTHANC_PLUGINS_API int32_t OrthancPluginInitialize(OrthancPluginContext* context) {
  try {
    return Initialize(context);
  } catch (const std::exception& e) {
    aibridge::LogError(std::string("initialisation failed, the AI bridge stays inactive: ") + e.what());
  } catch (...) {
    aibridge::LogError("initialisation failed, the AI bridge stays inactive");
  }
  return 0;
}

ORTHANC_PLUGINS_API void OrthancPluginFinalize() {
  try {
    aibridge::Bridge& bridge = aibridge::TheBridge();
    // Bounded: shutdown frame, ≤5 s, SIGTERM, ≤2 s, SIGKILL. Then the SDK
    // workers, whose queued calls have nobody left to answer.
    if (bridge.supervisor) bridge.supervisor->Stop();
    if (bridge.workers) bridge.workers->Stop();
    // The objects stay allocated (stopped) until the library is unloaded, in
    // case a late Orthanc callback still reaches them.
    aibridge::LogWarning("AiBridge stopped");
  } catch (...) {
    aibridge::LogError("error while stopping the AI bridge");
  }
  aibridge::SetContext(nullptr);
}

ORTHANC_PLUGINS_API const char* OrthancPluginGetName() { return "ai-bridge"; }

ORTHANC_PLUGINS_API const char* OrthancPluginGetVersion() { return AIBRIDGE_VERSION; }

}  // extern "C"
