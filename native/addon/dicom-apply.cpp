#include "dicom-apply.h"

#include <string_view>

#include "dicom-errors.h"
#include "dicom-markers.h"
#include "dicom-values.h"

namespace aibridge::dicom {

namespace {

std::string RequiredString(const Napi::Object& o, const char* key, const char* where) {
  Napi::Value v = o.Get(key);
  if (!v.IsString()) Fail(kBadPlan, std::string(where) + "." + key + " is not a string");
  return v.As<Napi::String>().Utf8Value();
}

Napi::Object RequiredObject(const Napi::Object& o, const char* key, const char* where) {
  Napi::Value v = o.Get(key);
  if (!v.IsObject() || v.IsArray()) Fail(kBadPlan, std::string(where) + "." + key + " is not an object");
  return v.As<Napi::Object>();
}

std::unordered_map<std::string, std::string> StringRecord(const Napi::Object& o, const char* where) {
  std::unordered_map<std::string, std::string> out;
  Napi::Array keys = o.GetPropertyNames();
  out.reserve(keys.Length() * 2);
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string key = keys.Get(i).ToString().Utf8Value();
    Napi::Value v = o.Get(key);
    if (!v.IsString()) Fail(kBadPlan, std::string(where) + " entry #" + std::to_string(i) + " is not a string");
    out.emplace(std::move(key), v.As<Napi::String>().Utf8Value());
  }
  return out;
}

class Applier {
 public:
  Applier(const CompiledPolicy& policy, const ApplyPlan& plan, bool structuredRoot, const UndecodableSet& undecodable)
      : policy_(policy), plan_(plan), structured_(structuredRoot), undecodable_(undecodable) {
    scratch_.reserve(256);
    removals_.resize(kMaxDepth + 2);  // never reallocated: frames hold references
  }

  void Item(DcmItem& item, std::string& path, int depth) {
    if (depth > kMaxDepth) Fail(kNotDicom, "sequence nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    std::vector<DcmObject*>& remove = removals_[depth];
    remove.clear();
    const size_t base = path.size();
    for (DcmObject* o = item.nextInContainer(nullptr); o != nullptr; o = item.nextInContainer(o)) {
      auto* elem = static_cast<DcmElement*>(o);
      path.resize(base);
      if (base != 0) path.push_back('.');
      AppendTag(path, elem->getTag());
      if (!Element(elem, path, depth)) remove.push_back(o);
    }
    path.resize(base);
    for (DcmObject* o : removals_[depth]) delete item.remove(o);
    removals_[depth].clear();
  }

 private:
  // false: remove the element.
  bool Element(DcmElement* elem, std::string& path, int depth) {
    const DcmTag& tag = elem->getTag();
    const uint16_t group = tag.getGroup(), element = tag.getElement();
    if (element == 0x0000) return false;                 // group lengths: recomputed or omitted
    if (group < 0x0008) return false;                     // meta (0002) or illegal groups inside a dataset
    // Text that does not decode cannot be kept or cleaned: the strictest action of its row.
    if (!undecodable_.empty() && undecodable_.count(elem) != 0) return Strict(elem, group, element, path);
    if (group & 1) return PrivateElement(elem, path, depth);
    const uint32_t key = TagKey(tag);
    if (key == 0x00080005) return depth == 0;             // SpecificCharacterSet: rewritten at top level
    if (IsMarker(key)) return false;                      // written fresh after the walk
    const DcmEVR vr = elem->ident();
    const Action action = policy_.PublicAction(group, element, structured_, identifying_);
    const StructuredScope scope(structured_, key == kContentSequence);
    // D and Z keep a sequence's items as the dummy value; what identifies inside them (codes of a person or institution) must not follow.
    const StructuredScope identifyingScope(identifying_, vr == EVR_SQ && (action == Action::Dummy || action == Action::Empty));
    switch (action) {
      case Action::Remove:
        return false;
      case Action::Empty:
        if (IsPseudonymTarget(key)) return Put(elem, Pseudonym(key));
        // PS3.15 E.1.1 Z allows "a non-zero length value that may be a dummy":
        // for a sequence, its items de-identified by the same table. An empty
        // sequence would make a Type 3 sequence invalid (no items is not allowed).
        if (vr == EVR_SQ) return Keep(elem, vr, path, depth);
        elem->clear();
        return true;
      case Action::Dummy:
        // PS3.15 E.1.1 D: a non-zero-length value. For a sequence that is its
        // items, each de-identified by the same table (docs/deid-engine.md).
        if (vr == EVR_SQ) return Keep(elem, vr, path, depth);
        return Dummy(elem, vr, key, path);
      case Action::Keep:
        return Keep(elem, vr, path, depth);
      case Action::Clean:
        if (IsTextVr(vr)) {
          auto it = plan_.texts.find(path);
          if (it == plan_.texts.end()) Fail(kBadPlan, "plan.texts has no entry for path " + path);
          return Put(elem, it->second);
        }
        if (vr == EVR_UI) return MapUids(elem, path);
        return Keep(elem, vr, path, depth);
      case Action::Uid:
        if (vr == EVR_UI) return MapUids(elem, path);
        if (vr == EVR_SQ) return Keep(elem, vr, path, depth);
        return false;                                     // 'U' on a non-UID element: never pass it through
    }
    return false;
  }

  bool Strict(DcmElement* elem, uint16_t group, uint16_t element, const std::string& path) {
    const uint32_t key = (static_cast<uint32_t>(group) << 16) | element;
    if (IsPseudonymTarget(key)) return Put(elem, Pseudonym(key));
    switch (policy_.StrictAction(group, element)) {
      case Action::Empty:
        elem->clear();
        return true;
      case Action::Dummy:
        return Dummy(elem, elem->ident(), key, path);
      case Action::Uid:
        if (elem->ident() == EVR_UI) return MapUids(elem, path);
        return false;
      default:
        return false;
    }
  }

  bool PrivateElement(DcmElement* elem, std::string& path, int depth) {
    const DcmTag& tag = elem->getTag();
    const uint16_t element = tag.getElement();
    if (element < 0x0010) return false;
    if (element <= 0x00FF) {                              // private creator reservation
      std::string_view creator = TrimPadding(RawString(elem));
      return !creator.empty() && policy_.CreatorKept(creator);
    }
    const char* creator = tag.getPrivateCreator();
    if (creator == nullptr || !policy_.CreatorKept(creator) ||
        !policy_.PrivateElementKept(tag.getGroup(), element, creator))
      return false;
    return Keep(elem, elem->ident(), path, depth);
  }

  bool Keep(DcmElement* elem, DcmEVR vr, std::string& path, int depth) {
    switch (vr) {
      case EVR_SQ:
        ForEachItem(*static_cast<DcmSequenceOfItems*>(elem), path, [&](DcmItem& item) { Item(item, path, depth + 1); });
        return true;
      case EVR_DA:
      case EVR_DT:
        if (plan_.dateShiftDays == 0) return true;
        if (!ShiftDateMulti(RawString(elem), vr == EVR_DT, plan_.dateShiftDays, scratch_)) scratch_.clear();
        return Put(elem, scratch_);
      case EVR_AS:
        if (CapAge(RawString(elem), policy_.maxAgeYears, scratch_)) return Put(elem, scratch_);
        return true;
      default:
        return true;
    }
  }

  bool Dummy(DcmElement* elem, DcmEVR vr, uint32_t key, const std::string& path) {
    if (IsPseudonymTarget(key)) return Put(elem, Pseudonym(key));
    switch (vr) {
      case EVR_SQ:
      case EVR_AT: case EVR_UR: case EVR_OB: case EVR_OD: case EVR_OF: case EVR_OL: case EVR_OV: case EVR_OW:
      case EVR_UN: case EVR_ox: case EVR_px: case EVR_PixelData: case EVR_OverlayData:
        elem->clear();
        return true;
      case EVR_UI: return MapUids(elem, path);
      case EVR_DA: return Put(elem, "19000101");
      case EVR_DT: return Put(elem, "19000101000000");
      case EVR_TM: return Put(elem, "000000");
      case EVR_AS: return Put(elem, "000Y");
      case EVR_DS: case EVR_IS: case EVR_US: case EVR_SS: case EVR_UL: case EVR_SL: case EVR_FL: case EVR_FD:
      case EVR_SV: case EVR_UV: case EVR_xs: case EVR_up: case EVR_lt:
        return Put(elem, "0");
      default:
        if (IsStringVr(vr)) return Put(elem, "ANONYMIZED");
        elem->clear();
        return true;
    }
  }

  bool MapUids(DcmElement* elem, const std::string& path) {
    std::string_view raw = RawString(elem);
    scratch_.clear();
    size_t start = 0;
    while (true) {
      size_t end = raw.find('\\', start);
      std::string_view one = TrimPadding(raw.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
      if (!one.empty()) {
        // unordered_map<string> lookup needs a string key; UIDs are ≤ 64 bytes (small-string).
        auto it = plan_.uidMap.find(std::string(one));
        if (it == plan_.uidMap.end()) Fail(kBadPlan, "a UID at path " + path + " is missing from plan.uidMap");
        scratch_.append(it->second);
      }
      if (end == std::string_view::npos) break;
      scratch_.push_back('\\');
      start = end + 1;
    }
    return Put(elem, scratch_);
  }

  const std::string& Pseudonym(uint32_t key) const {
    if (key == 0x00100020) return plan_.patientId;
    if (key == 0x00100010) return plan_.patientName;
    return plan_.accessionNumber;
  }

  static bool Put(DcmElement* elem, std::string_view value) {
    if (elem->putString(value.data(), static_cast<Uint32>(value.size())).bad())
      Fail(kWriteFailed, "cannot set the value of (" + TagText(elem->getTag()) + ")");
    return true;
  }

  static std::string TagText(const DcmTagKey& t) {
    std::string s;
    AppendHex4(s, t.getGroup());
    s.push_back(',');
    AppendHex4(s, t.getElement());
    return s;
  }

  const CompiledPolicy& policy_;
  const ApplyPlan& plan_;
  bool structured_;
  const UndecodableSet& undecodable_;
  bool identifying_ = false;
  std::string scratch_;
  std::vector<std::vector<DcmObject*>> removals_;
};

}  // namespace

ApplyPlan ReadPlan(const Napi::Value& value) {
  if (!value.IsObject()) Fail(kBadPlan, "plan is not an object");
  Napi::Object o = value.As<Napi::Object>();
  ApplyPlan plan;
  Napi::Object replacements = RequiredObject(o, "replacements", "plan");
  plan.patientId = RequiredString(replacements, "patientId", "plan.replacements");
  plan.patientName = RequiredString(replacements, "patientName", "plan.replacements");
  plan.accessionNumber = RequiredString(replacements, "accessionNumber", "plan.replacements");
  Napi::Value shift = o.Get("dateShiftDays");
  if (!shift.IsNumber()) Fail(kBadPlan, "plan.dateShiftDays is not a number");
  double days = shift.As<Napi::Number>().DoubleValue();
  if (!(days >= -3650000 && days <= 3650000) || days != static_cast<double>(static_cast<int64_t>(days)))
    Fail(kBadPlan, "plan.dateShiftDays is not an integer within ±10000 years");
  plan.dateShiftDays = static_cast<int64_t>(days);
  plan.uidMap = StringRecord(RequiredObject(o, "uidMap", "plan"), "plan.uidMap");
  for (const auto& entry : plan.uidMap)
    if (!IsValidUid(entry.second)) Fail(kBadPlan, "plan.uidMap maps a UID to a value that is not a valid UID");
  plan.texts = StringRecord(RequiredObject(o, "texts", "plan"), "plan.texts");
  ReadMarkers(RequiredObject(o, "markers", "plan"), plan);
  return plan;
}

void ApplyToDataset(DcmDataset& dataset, const CompiledPolicy& policy, const ApplyPlan& plan, const UndecodableSet& undecodable) {
  std::string path;
  path.reserve(128);
  Applier(policy, plan, dataset.tagExists(DcmTagKey(kValueType >> 16, kValueType & 0xFFFF)), undecodable).Item(dataset, path, 0);
  WriteMarkers(dataset, plan);
}

}  // namespace aibridge::dicom
