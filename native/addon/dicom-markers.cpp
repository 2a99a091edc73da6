#include "dicom-markers.h"

#include "dicom-errors.h"

namespace aibridge::dicom {

namespace {

std::string MarkerString(const Napi::Object& o, const char* key, const std::string& where) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) Fail(kBadPlan, where + "." + key + " is not a string");
  return v.As<Napi::String>().Utf8Value();
}

void Put(DcmItem& item, const DcmTagKey& key, const std::string& value) {
  if (item.putAndInsertString(key, value.c_str(), static_cast<Uint32>(value.size()), OFTrue).bad())
    Fail(kWriteFailed, "cannot write a de-identification marker");
}

}  // namespace

bool IsMarker(uint32_t key) {
  return key == 0x00120062 || key == 0x00120063 || key == 0x00120064 || key == 0x00280303;
}

void ReadMarkers(const Napi::Object& markers, ApplyPlan& plan) {
  plan.patientIdentityRemoved = MarkerString(markers, "patientIdentityRemoved", "plan.markers");
  if (plan.patientIdentityRemoved != "YES") Fail(kBadPlan, "plan.markers.patientIdentityRemoved is not 'YES'");
  plan.deidentificationMethod = MarkerString(markers, "deidentificationMethod", "plan.markers");
  plan.longitudinalTemporalInformationModified =
      MarkerString(markers, "longitudinalTemporalInformationModified", "plan.markers");
  const std::string& l = plan.longitudinalTemporalInformationModified;
  if (l != "MODIFIED" && l != "UNMODIFIED" && l != "REMOVED")
    Fail(kBadPlan, "plan.markers.longitudinalTemporalInformationModified is not MODIFIED, UNMODIFIED or REMOVED");
  const Napi::Value burnedIn = markers.Get("burnedInAnnotation");
  if (!burnedIn.IsUndefined()) {
    plan.burnedInAnnotation = MarkerString(markers, "burnedInAnnotation", "plan.markers");
    if (plan.burnedInAnnotation != "YES" && plan.burnedInAnnotation != "NO")
      Fail(kBadPlan, "plan.markers.burnedInAnnotation is not YES or NO");
  }
  Napi::Value codes = markers.Get("methodCodes");
  if (!codes.IsArray()) Fail(kBadPlan, "plan.markers.methodCodes is not an array");
  Napi::Array a = codes.As<Napi::Array>();
  for (uint32_t i = 0; i < a.Length(); ++i) {
    std::string where = "plan.markers.methodCodes[" + std::to_string(i) + "]";
    Napi::Value c = a.Get(i);
    if (!c.IsObject()) Fail(kBadPlan, where + " is not an object");
    Napi::Object code = c.As<Napi::Object>();
    MethodCode m{MarkerString(code, "value", where), MarkerString(code, "scheme", where), MarkerString(code, "meaning", where)};
    if (m.value.empty() || m.scheme.empty() || m.meaning.empty()) Fail(kBadPlan, where + " has an empty field");
    plan.methodCodes.push_back(std::move(m));
  }
}

void WriteMarkers(DcmDataset& ds, const ApplyPlan& plan) {
  Put(ds, DCM_SpecificCharacterSet, "ISO_IR 192");
  Put(ds, DCM_PatientIdentityRemoved, plan.patientIdentityRemoved);
  if (!plan.deidentificationMethod.empty()) Put(ds, DCM_DeidentificationMethod, plan.deidentificationMethod);
  if (!plan.methodCodes.empty()) {
    auto* seq = new DcmSequenceOfItems(DCM_DeidentificationMethodCodeSequence);
    if (ds.insert(seq, OFTrue).bad()) {
      delete seq;
      Fail(kWriteFailed, "cannot write a de-identification marker");
    }
    for (const MethodCode& m : plan.methodCodes) {
      auto* item = new DcmItem();
      if (seq->append(item).bad()) {
        delete item;
        Fail(kWriteFailed, "cannot write a de-identification marker");
      }
      Put(*item, DCM_CodeValue, m.value);
      Put(*item, DCM_CodingSchemeDesignator, m.scheme);
      Put(*item, DCM_CodeMeaning, m.meaning);
    }
  }
  Put(ds, DCM_LongitudinalTemporalInformationModified, plan.longitudinalTemporalInformationModified);
  if (!plan.burnedInAnnotation.empty()) Put(ds, DCM_BurnedInAnnotation, plan.burnedInAnnotation);
}

}  // namespace aibridge::dicom
