// apply(): rewrites the dataset in place according to the compiled policy and the plan.
#pragma once

#include <napi.h>

#include <string>
#include <unordered_map>
#include <vector>

#include "dicom-dataset.h"
#include "dicom-policy.h"

namespace aibridge::dicom {

struct MethodCode {
  std::string value, scheme, meaning;
};

struct ApplyPlan {
  std::string patientId, patientName, accessionNumber;
  int64_t dateShiftDays = 0;
  std::unordered_map<std::string, std::string> uidMap;
  std::unordered_map<std::string, std::string> texts;
  std::string patientIdentityRemoved;
  std::string deidentificationMethod;
  std::vector<MethodCode> methodCodes;
  std::string longitudinalTemporalInformationModified;
  /** Clean Pixel Data's verdict on (0028,0301); empty: the kept value stays as it is. */
  std::string burnedInAnnotation;
};

/** Validates and copies a JS ApplyPlan; throws DeidFailure(AIB_DEID_BAD_PLAN) naming the key. */
ApplyPlan ReadPlan(const Napi::Value& value);

/** Applies the actions to every element (any depth), then writes the markers and
    SpecificCharacterSet = ISO_IR 192 at top level. Modifies `dataset` in place. An element in
    `undecodable` gets its row's strict action (CompiledPolicy::StrictAction) instead. */
void ApplyToDataset(DcmDataset& dataset, const CompiledPolicy& policy, const ApplyPlan& plan, const UndecodableSet& undecodable);

}  // namespace aibridge::dicom
