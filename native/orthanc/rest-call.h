// OrthancPluginCallRestApi, written by hand (the generator cannot express its
// two output buffers and header arrays): the gateway's way to call a plugin's
// REST route with headers — e.g. STOW-RS into this Orthanc's DICOMweb plugin,
// which needs a multipart Content-Type — in process, with no credentials.
#pragma once

#include <orthanc/OrthancCPlugin.h>
#include <json/json.h>

#include <string>

#include "sdk-dispatch.h"

namespace aibridge {

/** Wire name of the call ("fn" of the call frame). */
inline constexpr const char* kCallRestApi = "CallRestApi";

/**
 * args: method ("GET" | "POST" | "PUT" | "DELETE"), uri, headers (a JSON object
 * encoded as a string), afterPlugins (0 | 1); body: the request body. Result:
 * value = the HTTP status, body = the answer. Never throws.
 */
void CallRestApi(OrthancPluginContext* context, const Json::Value& args, const std::string& body, SdkCallResult& out);

}  // namespace aibridge
