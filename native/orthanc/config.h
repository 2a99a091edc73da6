// The few keys of Orthanc's "AiBridge" section that C++ needs to start the
// gateway. Everything else in the section is validated by the gateway itself
// (unknown keys, ranges), so policy stays in TypeScript.
#pragma once

#include <string>

namespace aibridge {

struct BridgeConfig {
  bool enable = true;
  std::string nodeCommand = "node";
  std::string gatewayScript;
  // Set when a key read here is unusable: the gateway is then not started and
  // /ai-bridge/* answers 503 with this error (same codes as the gateway's
  // config loader, so the admin sees one vocabulary).
  std::string errorCode;
  std::string errorMessage;
  std::string errorKey;

  bool ok() const { return errorCode.empty(); }
};

// Parses Orthanc's whole configuration (the JSON string from
// OrthancPluginGetConfiguration). Never throws.
BridgeConfig ParseBridgeConfig(const std::string& orthancConfigJson,
                               const std::string& defaultGatewayScript);

// <package root>/dist/plugin/gateway/main.js, the package root being two
// levels above the directory holding this shared library (build/Release),
// links resolved (the Debian package's /usr/share/orthanc/plugins/ entry is one).
// Empty if the library's own path cannot be found.
std::string DefaultGatewayScript();

}  // namespace aibridge
