// Interface between the hand-written trampoline and the generated SDK dispatch
// (native/orthanc/generated/dispatch.cpp, written by tools/gen-sdk).
#pragma once

#include <orthanc/OrthancCPlugin.h>
#include <json/json.h>

#include <cstdint>
#include <string>

namespace aibridge {

struct SdkCallResult {
  bool ok = true;
  int32_t code = 0;        // OrthancPluginErrorCode when !ok
  std::string error;       // human-readable reason when !ok
  Json::Value value;       // string / number / null
  std::string body;        // bytes of an OrthancPluginMemoryBuffer result
  bool hasBody = false;
};

// Executes one SDK function named without its "OrthancPlugin" prefix. Never
// throws: bad arguments and unknown names come back as !ok.
void DispatchSdkCall(OrthancPluginContext* context,
                     const std::string& fn,
                     const Json::Value& args,
                     const std::string& body,
                     SdkCallResult& out);

}  // namespace aibridge
