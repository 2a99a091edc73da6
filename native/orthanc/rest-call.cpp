#include "rest-call.h"

#include <cstring>
#include <memory>
#include <vector>

namespace aibridge {

namespace {

void Refuse(SdkCallResult& out, const std::string& error) {
  out.ok = false;
  out.code = OrthancPluginErrorCode_ParameterOutOfRange;
  out.error = "CallRestApi: " + error;
}

bool ParseMethod(const std::string& name, OrthancPluginHttpMethod& method) {
  if (name == "GET") method = OrthancPluginHttpMethod_Get;
  else if (name == "POST") method = OrthancPluginHttpMethod_Post;
  else if (name == "PUT") method = OrthancPluginHttpMethod_Put;
  else if (name == "DELETE") method = OrthancPluginHttpMethod_Delete;
  else return false;
  return true;
}

}  // namespace

void CallRestApi(OrthancPluginContext* context, const Json::Value& args, const std::string& body, SdkCallResult& out) {
  try {
    out = SdkCallResult();
    OrthancPluginHttpMethod method;
    if (!args["method"].isString() || !ParseMethod(args["method"].asString(), method)) {
      Refuse(out, "method must be GET, POST, PUT or DELETE");
      return;
    }
    if (!args["uri"].isString() || args["uri"].asString().empty() || args["uri"].asString()[0] != '/') {
      Refuse(out, "uri must be an absolute path");
      return;
    }
    Json::Value headers(Json::objectValue);
    if (args.isMember("headers")) {
      Json::CharReaderBuilder builder;
      std::string errors;
      const std::string text = args["headers"].isString() ? args["headers"].asString() : std::string();
      std::unique_ptr<Json::CharReader> reader(builder.newCharReader());
      if (!reader->parse(text.data(), text.data() + text.size(), &headers, &errors) || !headers.isObject()) {
        Refuse(out, "headers must be a JSON object of strings, encoded as a string");
        return;
      }
    }
    std::vector<std::string> keys;
    std::vector<std::string> values;
    for (const std::string& name : headers.getMemberNames()) {
      if (!headers[name].isString()) {
        Refuse(out, "header " + name + " is not a string");
        return;
      }
      keys.push_back(name);
      values.push_back(headers[name].asString());
    }
    std::vector<const char*> keyPointers;
    std::vector<const char*> valuePointers;
    for (size_t i = 0; i < keys.size(); i++) {
      keyPointers.push_back(keys[i].c_str());
      valuePointers.push_back(values[i].c_str());
    }
    if (body.size() > UINT32_MAX) {
      Refuse(out, "body over 4 GiB");
      return;
    }
    const bool afterPlugins = args["afterPlugins"].isIntegral() && args["afterPlugins"].asInt() != 0;

    OrthancPluginMemoryBuffer answer;
    answer.data = nullptr;
    answer.size = 0;
    uint16_t status = 0;
    const OrthancPluginErrorCode code = OrthancPluginCallRestApi(
        context, &answer, nullptr, &status, method, args["uri"].asCString(), static_cast<uint32_t>(keys.size()),
        keys.empty() ? nullptr : keyPointers.data(), keys.empty() ? nullptr : valuePointers.data(), body.data(),
        static_cast<uint32_t>(body.size()), afterPlugins ? 1 : 0);
    if (answer.data != nullptr && answer.size > 0) out.body.assign(static_cast<const char*>(answer.data), answer.size);
    if (answer.data != nullptr) OrthancPluginFreeMemoryBuffer(context, &answer);
    out.hasBody = true;
    if (code != OrthancPluginErrorCode_Success && status == 0) {
      out.ok = false;
      out.code = code;
      const char* description = OrthancPluginGetErrorDescription(context, code);
      out.error = std::string("CallRestApi ") + args["uri"].asString() + ": " + (description != nullptr ? description : "error");
      return;
    }
    // An HTTP error status is an answer, not a failure of the call: the caller reads it.
    out.value = Json::Value(static_cast<int>(status == 0 ? 200 : status));
  } catch (const std::exception& e) {
    out = SdkCallResult();
    out.ok = false;
    out.code = OrthancPluginErrorCode_InternalError;
    out.error = std::string("CallRestApi threw: ") + e.what();
  }
}

}  // namespace aibridge
