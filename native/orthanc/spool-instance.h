// The one call the plugin adds beyond OrthancCPlugin.h: write an instance's DICOM into the
// gateway's spool folder, so that the instance bytes never cross the socket (issue 14).
#pragma once

#include <orthanc/OrthancCPlugin.h>
#include <json/json.h>

#include <string>

#include "sdk-dispatch.h"

namespace aibridge {

/** Wire name of the call (`call.fn`); docs/wire-protocol.md "Bridge calls". */
inline constexpr const char* kSpoolDicomForInstance = "SpoolDicomForInstance";

/**
 * args {instanceId, path}: OrthancPluginGetDicomForInstance, written to `path` through
 * `path`.tmp and renamed, mode 0600. `path` must be absolute, inside a folder ending in
 * /phi/spool, with a plain file name. `value`: the bytes written. Never throws.
 */
void SpoolDicomForInstance(OrthancPluginContext* context, const Json::Value& args, const std::string& body, SdkCallResult& out);

}  // namespace aibridge
