// Scheduling class of the calling thread, for the annotator (issue 14): its
// inference must take only the CPU that Orthanc and de-identification leave,
// and niceness alone cannot say so, since the de-id workers already run at
// niceness 19 (AiBridge.Niceness).
#pragma once

#include <napi.h>

namespace aibridge {

/** Registers idleScheduling(): SCHED_IDLE for the calling thread and every thread it starts later. */
void RegisterScheduling(Napi::Env env, Napi::Object exports);

}  // namespace aibridge
