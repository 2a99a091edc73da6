#include "config.h"

#include <json/json.h>

#include <dlfcn.h>
#include <limits.h>
#include <stdlib.h>

#include <memory>

namespace aibridge {

namespace {

void Fail(BridgeConfig& config, const std::string& code, const std::string& key,
          const std::string& message) {
  config.errorCode = code;
  config.errorKey = key;
  config.errorMessage = message;
}

// Reads a non-empty string key; absent keeps the default.
void ReadString(const Json::Value& section, const char* key, std::string& target,
                BridgeConfig& config) {
  if (!config.ok() || !section.isMember(key)) return;
  const Json::Value& v = section[key];
  const std::string name = std::string("AiBridge.") + key;
  if (!v.isString() || v.asString().empty()) {
    Fail(config, "AIB_CONFIG_BAD_VALUE", name,
         "configuration key " + name + " must be a non-empty string");
    return;
  }
  target = v.asString();
}

}  // namespace

BridgeConfig ParseBridgeConfig(const std::string& orthancConfigJson,
                               const std::string& defaultGatewayScript) {
  BridgeConfig config;
  config.gatewayScript = defaultGatewayScript;
  try {
    Json::CharReaderBuilder builder;
    std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
    Json::Value root;
    std::string errors;
    const char* begin = orthancConfigJson.data();
    if (!reader->parse(begin, begin + orthancConfigJson.size(), &root, &errors) ||
        !root.isObject()) {
      Fail(config, "AIB_CONFIG_INVALID_JSON", "",
           "Orthanc configuration is not a JSON object");
      return config;
    }
    if (!root.isMember("AiBridge")) return config;
    const Json::Value& section = root["AiBridge"];
    if (!section.isObject()) {
      Fail(config, "AIB_CONFIG_BAD_VALUE", "AiBridge", "AiBridge must be a JSON object");
      return config;
    }
    if (section.isMember("Enable")) {
      if (!section["Enable"].isBool()) {
        Fail(config, "AIB_CONFIG_BAD_VALUE", "AiBridge.Enable",
             "configuration key AiBridge.Enable must be a boolean");
        return config;
      }
      config.enable = section["Enable"].asBool();
    }
    ReadString(section, "NodeCommand", config.nodeCommand, config);
    ReadString(section, "GatewayScript", config.gatewayScript, config);
    if (config.ok() && config.gatewayScript.empty()) {
      Fail(config, "AIB_CONFIG_BAD_VALUE", "AiBridge.GatewayScript",
           "cannot locate the plugin library to derive AiBridge.GatewayScript; set it");
    }
  } catch (const std::exception& e) {
    Fail(config, "AIB_CONFIG_INVALID_JSON", "", std::string("cannot read configuration: ") + e.what());
  }
  return config;
}

std::string DefaultGatewayScript() {
  Dl_info info;
  // Any symbol of this library will do; dladdr names the file it came from.
  if (dladdr(reinterpret_cast<void*>(&DefaultGatewayScript), &info) == 0 ||
      info.dli_fname == nullptr) {
    return "";
  }
  // Orthanc loads the path it was given; Debian installs plugins as links in
  // /usr/share/orthanc/plugins/ to the file in its package's own folder
  // (/usr/lib/orthanc-ai-bridge/build/Release/ for ours), so the package
  // root is found from the link's target.
  char target[PATH_MAX];
  std::string so(realpath(info.dli_fname, target) != nullptr ? target : info.dli_fname);
  const size_t slash = so.rfind('/');
  const std::string dir = slash == std::string::npos ? "." : so.substr(0, slash);
  const std::string rootGuess = dir + "/../..";
  char resolved[PATH_MAX];
  if (realpath(rootGuess.c_str(), resolved) == nullptr) {
    return rootGuess + "/dist/plugin/gateway/main.js";
  }
  const std::string root(resolved);
  return (root == "/" ? "" : root) + "/dist/plugin/gateway/main.js";
}

}  // namespace aibridge
