// Orthanc's change callback. It runs on Orthanc's change thread and must
// return at once: it only queues a `change` frame (or drops and counts it when
// no gateway is connected or the queue is full; the gateway replays
// /changes?since= on start, so a dropped notification loses nothing).
#pragma once

#include <orthanc/OrthancCPlugin.h>

namespace aibridge {

OrthancPluginErrorCode OnChange(OrthancPluginChangeType changeType,
                                OrthancPluginResourceType resourceType,
                                const char* resourceId);

}  // namespace aibridge
