#include "sdk-workers.h"

#include "log.h"
#include "sdk-dispatch.h"
#include "spool-instance.h"

namespace aibridge {

namespace {

// OrthancPluginErrorCode values used for answers we make up ourselves.
constexpr int32_t kInternalError = OrthancPluginErrorCode_InternalError;
constexpr int32_t kBadRequest = OrthancPluginErrorCode_BadRequest;

Json::Value ErrorResult(const Json::Value& id, int32_t code, const std::string& error) {
  Json::Value h(Json::objectValue);
  h["k"] = "result";
  h["id"] = id;
  h["ok"] = false;
  h["value"] = Json::nullValue;
  h["code"] = code;
  h["error"] = error;
  return h;
}

}  // namespace

SdkWorkers::SdkWorkers(OrthancPluginContext* context) : context_(context) {}

SdkWorkers::~SdkWorkers() { Stop(); }

void SdkWorkers::Start() {
  std::lock_guard<std::mutex> lock(mutex_);
  stopping_ = false;
  for (size_t i = threads_.size(); i < kThreads; i++) {
    threads_.emplace_back([this] { Loop(); });
  }
}

void SdkWorkers::Stop() {
  {
    std::lock_guard<std::mutex> lock(mutex_);
    stopping_ = true;
  }
  cv_.notify_all();
  for (std::thread& t : threads_) {
    if (t.joinable()) t.join();
  }
  threads_.clear();
  std::lock_guard<std::mutex> lock(mutex_);
  queue_.clear();
}

void SdkWorkers::Submit(const std::shared_ptr<Channel>& channel, Frame&& call) {
  const Json::Value id = call.header["id"];
  if (!id.isIntegral()) {
    LogError("call frame without an integer id; ignored");
    return;
  }
  {
    std::lock_guard<std::mutex> lock(mutex_);
    if (!stopping_ && queue_.size() < kMaxQueued) {
      queue_.push_back(Job{channel, std::move(call)});
      cv_.notify_one();
      return;
    }
  }
  channel->Send(ErrorResult(id, kInternalError, "plugin busy or stopping: SDK call refused"));
}

void SdkWorkers::Loop() {
  for (;;) {
    Job job;
    {
      std::unique_lock<std::mutex> lock(mutex_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      job = std::move(queue_.front());
      queue_.pop_front();
    }
    Execute(job);
  }
}

void SdkWorkers::Execute(Job& job) {
  const Json::Value& header = job.call.header;
  const Json::Value id = header["id"];
  if (job.channel->IsClosed()) return;  // nobody left to answer
  if (!header["fn"].isString()) {
    job.channel->Send(ErrorResult(id, kBadRequest, "call frame without a string fn"));
    return;
  }
  const std::string fn = header["fn"].asString();
  const Json::Value args = header["args"].isObject() ? header["args"] : Json::Value(Json::objectValue);

  SdkCallResult result;
  try {
    // The plugin's own call (spool-instance.h); every other name is an OrthancCPlugin.h function.
    if (fn == kSpoolDicomForInstance) SpoolDicomForInstance(context_, args, job.call.body, result);
    else DispatchSdkCall(context_, fn, args, job.call.body, result);
  } catch (const std::exception& e) {  // the dispatcher promises not to throw; belt and braces
    result = SdkCallResult();
    result.ok = false;
    result.code = kInternalError;
    result.error = std::string("SDK call ") + fn + " threw: " + e.what();
  } catch (...) {
    result = SdkCallResult();
    result.ok = false;
    result.code = kInternalError;
    result.error = "SDK call " + fn + " threw";
  }

  Json::Value reply(Json::objectValue);
  reply["k"] = "result";
  reply["id"] = id;
  reply["ok"] = result.ok;
  reply["value"] = result.value;
  if (!result.ok) {
    reply["code"] = result.code;
    reply["error"] = result.error;
  }
  if (result.hasBody && result.body.size() > kMaxBodyBytes) {
    job.channel->Send(ErrorResult(id, kInternalError,
                                  "result of " + fn + " is over the 1 GiB frame limit"));
    return;
  }
  if (!job.channel->Send(reply, result.hasBody ? result.body : std::string())) {
    // Header too large (e.g. a huge string value) or channel gone.
    if (!job.channel->IsClosed()) {
      job.channel->Send(ErrorResult(id, kInternalError, "result of " + fn + " could not be framed"));
    }
  }
}

}  // namespace aibridge
