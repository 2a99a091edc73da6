// Entry point of aibridge_addon.node, loaded by the sealed de-identification worker
// (plugin/deid) and by the annotator (plugin/pixels). Each concern registers its own functions.
#include <napi.h>

#include "seal.h"
#include "dicom-document.h"
#include "dicom-pixels.h"
#include "scheduling.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  aibridge::RegisterSeal(env, exports);
  aibridge::RegisterDicom(env, exports);
  aibridge::pixels::RegisterPixels(env, exports);
  aibridge::RegisterScheduling(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(aibridge_addon, Init)
