#include "scheduling.h"

#include <sched.h>

#include <cerrno>
#include <cstring>
#include <string>

namespace aibridge {

namespace {

// SCHED_IDLE (Linux 2.6.23): the kernel runs the thread only with the weight of
// far below niceness 19, so it yields to every ordinary thread on its CPU but is
// never starved outright. Linux scheduling attributes belong to threads: this
// one, and the threads it creates afterwards (onnxruntime's pool, libuv's), which
// inherit them. Answers the error text, or '' when applied.
Napi::Value IdleScheduling(const Napi::CallbackInfo& info) {
  sched_param param{};
  param.sched_priority = 0;
  if (sched_setscheduler(0, SCHED_IDLE, &param) != 0) {
    return Napi::String::New(info.Env(), std::string("sched_setscheduler(SCHED_IDLE): ") + std::strerror(errno));
  }
  return Napi::String::New(info.Env(), "");
}

}  // namespace

void RegisterScheduling(Napi::Env env, Napi::Object exports) {
  exports.Set("idleScheduling", Napi::Function::New(env, IdleScheduling, "idleScheduling"));
}

}  // namespace aibridge
