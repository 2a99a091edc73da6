#include "http-forward.h"

#include "bridge.h"
#include "log.h"

#include <json/json.h>

#include <algorithm>
#include <cctype>

namespace aibridge {

namespace {

// How long a request may wait for the gateway (configurable later).
constexpr std::chrono::seconds kHttpTimeout{60};

std::string Lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

void AnswerJson(OrthancPluginRestOutput* output, uint16_t status, const Json::Value& body) {
  OrthancPluginContext* context = GetContext();
  Json::StreamWriterBuilder builder;
  builder["indentation"] = "";
  const std::string text = Json::writeString(builder, body);
  if (status == 200) {
    OrthancPluginAnswerBuffer(context, output, text.data(), static_cast<uint32_t>(text.size()),
                              "application/json");
    return;
  }
  OrthancPluginSetHttpHeader(context, output, "Content-Type", "application/json");
  OrthancPluginSendHttpStatus(context, output, status, text.data(), static_cast<uint32_t>(text.size()));
}

Json::Value ErrorBody(const std::string& code, const std::string& message, const Json::Value& details) {
  Json::Value body(Json::objectValue);
  body["error"]["code"] = code;
  body["error"]["message"] = message;
  body["error"]["details"] = details.isNull() ? Json::Value(Json::objectValue) : details;
  return body;
}

// The 503 answer when the gateway cannot take the request.
void AnswerUnavailable(OrthancPluginRestOutput* output, bool lostConnection = false) {
  Bridge& bridge = TheBridge();
  if (!bridge.enabled || !bridge.supervisor) {
    AnswerJson(output, 503, ErrorBody("AIB_PLUGIN_DISABLED", "AiBridge.Enable is false in the Orthanc configuration",
                                      Json::Value()));
    return;
  }
  const SupervisorSnapshot s = bridge.supervisor->Snapshot();
  if (s.state == GatewayState::ConfigError) {
    AnswerJson(output, 503, ErrorBody(s.errorCode, s.errorMessage, s.errorDetails));
    return;
  }
  Json::Value details(Json::objectValue);
  details["state"] = GatewayStateName(s.state);
  details["restarts"] = s.restarts;
  if (s.hasExit) {
    details["lastExit"]["code"] = s.lastExitCode;
    details["lastExit"]["signal"] = s.lastExitSignal;
  }
  const std::string message =
      lostConnection ? "the connection to the ai-bridge gateway was lost while it handled this request"
                     : std::string("the ai-bridge gateway is not connected (state: ") + GatewayStateName(s.state) + ")";
  AnswerJson(output, 503, ErrorBody("AIB_GATEWAY_UNAVAILABLE", message, details));
}

const char* MethodName(OrthancPluginHttpMethod method) {
  switch (method) {
    case OrthancPluginHttpMethod_Get: return "GET";
    case OrthancPluginHttpMethod_Post: return "POST";
    case OrthancPluginHttpMethod_Put: return "PUT";
    case OrthancPluginHttpMethod_Delete: return "DELETE";
    default: return "GET";
  }
}

Json::Value BuildHttpFrame(const char* url, const OrthancPluginHttpRequest* request) {
  Json::Value frame(Json::objectValue);
  frame["k"] = "http";
  frame["method"] = MethodName(request->method);
  frame["path"] = url != nullptr ? url : "";
  Json::Value query(Json::objectValue);
  for (uint32_t i = 0; i < request->getCount; i++) {
    query[request->getKeys[i]] = request->getValues[i];
  }
  frame["query"] = query;
  Json::Value headers(Json::objectValue);
  for (uint32_t i = 0; i < request->headersCount; i++) {
    headers[Lower(request->headersKeys[i])] = request->headersValues[i];
  }
  frame["headers"] = headers;
  return frame;
}

const std::string* FindHeader(const HttpReply& reply, const std::string& lowerName) {
  for (const auto& h : reply.headers) {
    if (Lower(h.first) == lowerName) return &h.second;
  }
  return nullptr;
}

void SendReply(OrthancPluginRestOutput* output, const HttpReply& reply) {
  OrthancPluginContext* context = GetContext();
  const uint16_t status = static_cast<uint16_t>(reply.status);
  // Orthanc reserves these statuses for dedicated calls.
  if (status == 301) {
    const std::string* location = FindHeader(reply, "location");
    OrthancPluginRedirect(context, output, location != nullptr ? location->c_str() : "/");
    return;
  }
  if (status == 401) {
    const std::string* realm = FindHeader(reply, "www-authenticate");
    OrthancPluginSendUnauthorized(context, output, realm != nullptr ? realm->c_str() : "ai-bridge");
    return;
  }
  if (status == 405) {
    const std::string* allow = FindHeader(reply, "allow");
    OrthancPluginSendMethodNotAllowed(context, output, allow != nullptr ? allow->c_str() : "");
    return;
  }
  for (const auto& h : reply.headers) {
    const std::string name = Lower(h.first);
    // Framing headers are Orthanc's business; Content-Type travels apart.
    if (name == "content-type" || name == "content-length" || name == "transfer-encoding" ||
        name == "connection") {
      continue;
    }
    OrthancPluginSetHttpHeader(context, output, h.first.c_str(), h.second.c_str());
  }
  const std::string contentType = reply.contentType.empty() ? "application/octet-stream" : reply.contentType;
  if (status == 200) {
    OrthancPluginAnswerBuffer(context, output, reply.body.data(), static_cast<uint32_t>(reply.body.size()),
                              contentType.c_str());
  } else {
    OrthancPluginSetHttpHeader(context, output, "Content-Type", contentType.c_str());
    OrthancPluginSendHttpStatus(context, output, status, reply.body.data(),
                                static_cast<uint32_t>(reply.body.size()));
  }
}

}  // namespace

OrthancPluginErrorCode ForwardHttp(OrthancPluginRestOutput* output, const char* url,
                                   const OrthancPluginHttpRequest* request) {
  try {
    Bridge& bridge = TheBridge();
    std::shared_ptr<Channel> channel = bridge.enabled && bridge.supervisor
                                           ? bridge.supervisor->CurrentChannel()
                                           : std::shared_ptr<Channel>();
    if (!channel) {
      AnswerUnavailable(output);
      return OrthancPluginErrorCode_Success;
    }
    if (request->bodySize > kMaxBodyBytes) {
      Json::Value details(Json::objectValue);
      details["maxBytes"] = static_cast<Json::UInt64>(kMaxBodyBytes);
      AnswerJson(output, 413, ErrorBody("AIB_GATEWAY_REQUEST_TOO_LARGE", "the request body is over the 1 GiB frame limit",
                                        details));
      return OrthancPluginErrorCode_Success;
    }
    std::string body;
    if (request->body != nullptr && request->bodySize > 0) {
      body.assign(static_cast<const char*>(request->body), request->bodySize);
    }
    HttpReply reply;
    switch (channel->Http(BuildHttpFrame(url, request), body,
                          std::chrono::duration_cast<std::chrono::milliseconds>(kHttpTimeout), reply)) {
      case HttpOutcome::Replied:
        if (reply.status < 100 || reply.status > 599) {
          LogError("gateway answered " + std::string(url) + " with invalid status " + std::to_string(reply.status));
          Json::Value details(Json::objectValue);
          details["status"] = reply.status;
          AnswerJson(output, 502, ErrorBody("AIB_GATEWAY_BAD_REPLY", "the gateway answered with an invalid HTTP status",
                                            details));
        } else {
          SendReply(output, reply);
        }
        break;
      case HttpOutcome::Timeout: {
        LogWarning("gateway did not answer " + std::string(MethodName(request->method)) + " " + url + " within " +
                   std::to_string(kHttpTimeout.count()) + " s");
        Json::Value details(Json::objectValue);
        details["timeoutSeconds"] = static_cast<int>(kHttpTimeout.count());
        AnswerJson(output, 504, ErrorBody("AIB_GATEWAY_TIMEOUT", "the ai-bridge gateway did not answer in time",
                                          details));
        break;
      }
      case HttpOutcome::Disconnected:
        AnswerUnavailable(output, true);
        break;
    }
    return OrthancPluginErrorCode_Success;
  } catch (const std::exception& e) {
    LogError(std::string("cannot forward ") + (url != nullptr ? url : "?") + ": " + e.what());
    return OrthancPluginErrorCode_InternalError;
  } catch (...) {
    LogError(std::string("cannot forward ") + (url != nullptr ? url : "?"));
    return OrthancPluginErrorCode_InternalError;
  }
}

OrthancPluginErrorCode RedirectRoot(OrthancPluginRestOutput* output, const char*,
                                    const OrthancPluginHttpRequest*) {
  // Relative, so it keeps working behind a reverse proxy that adds a prefix.
  OrthancPluginRedirect(GetContext(), output, "ai-bridge/ui/");
  return OrthancPluginErrorCode_Success;
}

}  // namespace aibridge
