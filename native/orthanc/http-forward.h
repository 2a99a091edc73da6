// The REST callbacks for /ai-bridge/...: every request becomes an `http`
// frame answered by the gateway, so the API and UI share Orthanc's port and
// authentication. When no gateway can answer, the plugin itself answers 503
// with a JSON error saying why (state, restarts, or the fatal config error),
// which makes /ai-bridge/health useful even when the gateway is down.
#pragma once

#include <orthanc/OrthancCPlugin.h>

namespace aibridge {

// Registered (NoLock) for "/ai-bridge/(.*)".
OrthancPluginErrorCode ForwardHttp(OrthancPluginRestOutput* output, const char* url,
                                   const OrthancPluginHttpRequest* request);

// Registered for "/ai-bridge" exactly: redirects to the UI.
OrthancPluginErrorCode RedirectRoot(OrthancPluginRestOutput* output, const char* url,
                                    const OrthancPluginHttpRequest* request);

}  // namespace aibridge
