#include "changes.h"

#include "bridge.h"
#include "log.h"

namespace aibridge {

OrthancPluginErrorCode OnChange(OrthancPluginChangeType changeType,
                                OrthancPluginResourceType resourceType,
                                const char* resourceId) {
  try {
    Bridge& bridge = TheBridge();
    if (!bridge.enabled || !bridge.supervisor) return OrthancPluginErrorCode_Success;
    Supervisor& supervisor = *bridge.supervisor;

    // NewInstance wakes the gateway (its change follower reads the rest from
    // /changes). Orthanc also signals NewChildInstance for the series, study
    // and patient of every instance: forwarding those tripled the frames each
    // store costs both processes, for nothing. A deleted instance is
    // forwarded too: Orthanc signals it once per instance (a deleted study
    // included) and records no deletion in /changes.
    const bool deletedInstance = changeType == OrthancPluginChangeType_Deleted &&
                                 resourceType == OrthancPluginResourceType_Instance;
    if (changeType == OrthancPluginChangeType_NewInstance || deletedInstance) {
      std::shared_ptr<Channel> channel = supervisor.CurrentChannel();
      Json::Value frame(Json::objectValue);
      frame["k"] = "change";
      frame["changeType"] = static_cast<int>(changeType);
      frame["resourceType"] = static_cast<int>(resourceType);
      frame["resourceId"] = resourceId != nullptr ? resourceId : "";
      if (!channel || !channel->Send(frame, std::string(), true)) {
        bridge.changesDropped.fetch_add(1);
      }
    }

    // Both only signal the supervisor thread; neither blocks here.
    if (changeType == OrthancPluginChangeType_OrthancStarted) {
      supervisor.Begin();  // the gateway's first SDK calls need a running server
    } else if (changeType == OrthancPluginChangeType_OrthancStopped) {
      supervisor.RequestStop();  // shutdown frame, then TERM/KILL; Finalize joins
    }
  } catch (const std::exception& e) {
    LogError(std::string("change callback failed: ") + e.what());
  } catch (...) {
    LogError("change callback failed");
  }
  return OrthancPluginErrorCode_Success;
}

}  // namespace aibridge
