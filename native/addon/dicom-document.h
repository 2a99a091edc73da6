// DICOM byte work of de-identification (docs/deid-engine.md): parseDicom, compilePolicy,
// DicomDocument.inspect / apply. DCMTK dcmdata, memory only.
#pragma once

#include <napi.h>

namespace aibridge {

/** Adds parseDicom, compilePolicy and shiftDicomDate to the addon's exports. */
void RegisterDicom(Napi::Env env, Napi::Object exports);

}  // namespace aibridge
