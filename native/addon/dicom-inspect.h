// inspect(): what TypeScript needs to build an ApplyPlan (docs/deid-engine.md, InspectResult).
#pragma once

#include <napi.h>

#include "dicom-dataset.h"
#include "dicom-policy.h"

namespace aibridge::dicom {

/** Walks `dataset` (any depth) and returns the InspectResult object. Elements in `undecodable`
    are listed as such and never offered as text to clean (apply() gives them the strict action). */
Napi::Object Inspect(Napi::Env env, DcmDataset& dataset, const CompiledPolicy& policy, const std::string& originalCharset,
                     const UndecodableSet& undecodable);

}  // namespace aibridge::dicom
