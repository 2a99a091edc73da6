// Entry point of aibridge_addon.node, loaded only by the sealed de-identification
// worker (plugin/deid). Each concern registers its own functions.
#include <napi.h>

#include "seal.h"
#include "dicom-document.h"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  aibridge::RegisterSeal(env, exports);
  aibridge::RegisterDicom(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(aibridge_addon, Init)
