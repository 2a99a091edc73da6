// De-identification markers (PS3.15 E.1.1 step 4, PS3.3 C.12.1): written at top level after apply().
#pragma once

#include <napi.h>

#include "dicom-apply.h"

namespace aibridge::dicom {

bool IsMarker(uint32_t key);
void ReadMarkers(const Napi::Object& markers, ApplyPlan& plan);
void WriteMarkers(DcmDataset& dataset, const ApplyPlan& plan);

}  // namespace aibridge::dicom
