#include "dicom-inspect.h"

#include <string_view>
#include <unordered_set>
#include <vector>

#include "dicom-errors.h"
#include "dicom-values.h"

namespace aibridge::dicom {

namespace {

struct Collected {
  std::vector<std::string_view> uids;
  std::unordered_set<std::string_view> seenUids;
  struct Text { std::string path; const char* vr; std::string_view value; };
  std::vector<Text> texts;
  struct Identifier { std::string path; uint32_t tag; const char* vr; std::string_view value; };
  std::vector<Identifier> identifiers;
  struct Undecodable { std::string path; uint32_t tag; const char* vr; };
  std::vector<Undecodable> undecodable;
};

template <typename F>
void ForEachValue(std::string_view raw, F&& f) {
  size_t start = 0;
  while (true) {
    size_t end = raw.find('\\', start);
    std::string_view one = TrimPadding(raw.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (!one.empty()) f(one);
    if (end == std::string_view::npos) return;
    start = end + 1;
  }
}

class Walker {
 public:
  Walker(const CompiledPolicy& policy, Collected& out, bool structuredRoot, const UndecodableSet& undecodable)
      : policy_(policy), out_(out), structured_(structuredRoot), undecodable_(undecodable) {}

  // `reachable`: the element survives apply() (top level, or inside a kept sequence/kept private block).
  void Item(DcmItem& item, std::string& path, int depth, bool reachable) {
    if (depth > kMaxDepth) Fail(kNotDicom, "sequence nesting deeper than " + std::to_string(kMaxDepth) + " levels");
    const size_t base = path.size();
    for (DcmObject* o = item.nextInContainer(nullptr); o != nullptr; o = item.nextInContainer(o)) {
      auto* elem = static_cast<DcmElement*>(o);
      const DcmTagKey& tag = elem->getTag();
      if (tag.getElement() == 0) continue;
      path.resize(base);
      if (base != 0) path.push_back('.');
      AppendTag(path, tag);
      Element(elem, path, depth, reachable);
    }
    path.resize(base);
  }

 private:
  void Element(DcmElement* elem, std::string& path, int depth, bool reachable) {
    const DcmTag& tag = elem->getTag();
    const DcmEVR vr = elem->ident();
    const bool isPrivate = (tag.getGroup() & 1) != 0;
    const bool undecodable = !undecodable_.empty() && undecodable_.count(elem) != 0;
    if (undecodable) out_.undecodable.push_back({path, TagKey(tag), DcmVR(tag.getEVR()).getVRName()});
    bool childReachable = false;
    bool childIdentifying = false;
    if (isPrivate) {
      if (tag.getElement() <= 0xFF) return;  // creator / illegal: never values of interest
      const char* creator = tag.getPrivateCreator();
      childReachable = reachable && creator != nullptr && policy_.CreatorKept(creator) &&
                       policy_.PrivateElementKept(tag.getGroup(), tag.getElement(), creator);
      if (vr == EVR_PN) Identifiers(elem, path, vr);
    } else {
      const Action action = policy_.PublicAction(tag.getGroup(), tag.getElement(), structured_, identifying_);
      // Mirrors dicom-apply.cpp: the items of a D or Z sequence are walked with PolicyTable.identifyingItems first.
      childIdentifying = vr == EVR_SQ && (action == Action::Dummy || action == Action::Empty);
      const bool removedOrDummy = action == Action::Remove || action == Action::Empty || action == Action::Dummy;
      if (vr == EVR_PN || (removedOrDummy && IsIdentifierVr(vr))) Identifiers(elem, path, vr);
      if (reachable) {
        if (vr == EVR_UI && (action == Action::Uid || action == Action::Dummy || action == Action::Clean)) Uids(elem);
        if (action == Action::Clean && IsTextVr(vr) && !undecodable) {
          std::string_view raw = RawString(elem);
          out_.texts.push_back({path, DcmVR(tag.getEVR()).getVRName(), TrimPadding(raw)});
        }
      }
      // 'D' and 'Z' on a sequence keep its items, de-identified by the same table, so they are walked too.
      childReachable = reachable && (action == Action::Keep || action == Action::Clean || action == Action::Uid ||
                                     ((action == Action::Dummy || action == Action::Empty) && vr == EVR_SQ));
    }
    if (vr == EVR_SQ) {
      const StructuredScope scope(structured_, !isPrivate && TagKey(tag) == kContentSequence);
      const StructuredScope identifyingScope(identifying_, childIdentifying);
      ForEachItem(*static_cast<DcmSequenceOfItems*>(elem), path,
                  [&](DcmItem& item) { Item(item, path, depth + 1, childReachable); });
    }
  }

  void Identifiers(DcmElement* elem, const std::string& path, DcmEVR vr) {
    const char* vrName = DcmVR(vr).getVRName();
    const uint32_t key = TagKey(elem->getTag());
    ForEachValue(RawString(elem), [&](std::string_view v) { out_.identifiers.push_back({path, key, vrName, v}); });
  }

  void Uids(DcmElement* elem) {
    ForEachValue(RawString(elem), [&](std::string_view v) {
      if (out_.seenUids.insert(v).second) out_.uids.push_back(v);
    });
  }

  const CompiledPolicy& policy_;
  Collected& out_;
  bool structured_;
  const UndecodableSet& undecodable_;
  bool identifying_ = false;
};

Napi::String Str(Napi::Env env, std::string_view v) { return Napi::String::New(env, v.data(), v.size()); }

std::string_view Top(DcmDataset& ds, const DcmTagKey& key) {
  DcmElement* e = nullptr;
  if (ds.findAndGetElement(key, e, OFFalse).bad() || e == nullptr) return {};
  return TrimPadding(RawString(e));
}

// (0010,0021), else the Universal Entity ID of the first (0010,0024) item (PS3.3 C.24.2.1).
std::string_view Issuer(DcmDataset& ds) {
  std::string_view issuer = Top(ds, DCM_IssuerOfPatientID);
  if (!issuer.empty()) return issuer;
  DcmItem* qualifiers = nullptr;
  DcmElement* e = nullptr;
  if (ds.findAndGetSequenceItem(DCM_IssuerOfPatientIDQualifiersSequence, qualifiers, 0).good() && qualifiers != nullptr &&
      qualifiers->findAndGetElement(DCM_UniversalEntityID, e, OFFalse).good() && e != nullptr)
    return TrimPadding(RawString(e));
  return {};
}

}  // namespace

Napi::Object Inspect(Napi::Env env, DcmDataset& ds, const CompiledPolicy& policy, const std::string& originalCharset,
                     const UndecodableSet& undecodable) {
  Collected c;
  c.uids.reserve(16);
  c.identifiers.reserve(32);
  std::string path;
  path.reserve(128);
  Walker(policy, c, ds.tagExists(DcmTagKey(kValueType >> 16, kValueType & 0xFFFF)), undecodable).Item(ds, path, 0, true);

  Napi::Object result = Napi::Object::New(env);
  result.Set("specificCharacterSet", Str(env, originalCharset));
  result.Set("sopClassUid", Str(env, Top(ds, DCM_SOPClassUID)));
  result.Set("modality", Str(env, Top(ds, DCM_Modality)));
  // Clean Pixel Data is on for any image whose header admits burned-in annotation (PS3.3 C.7.6.1.1.11).
  result.Set("burnedInAnnotation", Str(env, Top(ds, DCM_BurnedInAnnotation)));
  result.Set("hasPixelData", Napi::Boolean::New(env, ds.tagExists(DCM_PixelData, OFFalse)));

  Napi::Object patient = Napi::Object::New(env);
  patient.Set("id", Str(env, Top(ds, DCM_PatientID)));
  patient.Set("issuer", Str(env, Issuer(ds)));
  patient.Set("name", Str(env, Top(ds, DCM_PatientName)));
  patient.Set("birthDate", Str(env, Top(ds, DCM_PatientBirthDate)));
  patient.Set("sex", Str(env, Top(ds, DCM_PatientSex)));
  patient.Set("age", Str(env, Top(ds, DCM_PatientAge)));
  Napi::Array otherIds = Napi::Array::New(env);
  uint32_t n = 0;
  ForEachValue(Top(ds, DCM_RETIRED_OtherPatientIDs), [&](std::string_view v) { otherIds.Set(n++, Str(env, v)); });
  DcmSequenceOfItems* others = nullptr;
  if (ds.findAndGetSequence(DCM_OtherPatientIDsSequence, others, OFFalse).good() && others != nullptr) {
    for (DcmObject* o = others->nextInContainer(nullptr); o != nullptr; o = others->nextInContainer(o)) {
      DcmElement* e = nullptr;
      if (static_cast<DcmItem*>(o)->findAndGetElement(DCM_PatientID, e, OFFalse).good() && e != nullptr) {
        std::string_view v = TrimPadding(RawString(e));
        if (!v.empty()) otherIds.Set(n++, Str(env, v));
      }
    }
  }
  patient.Set("otherIds", otherIds);
  result.Set("patient", patient);
  result.Set("accessionNumber", Str(env, Top(ds, DCM_AccessionNumber)));
  result.Set("studyDate", Str(env, Top(ds, DCM_StudyDate)));

  Napi::Array uids = Napi::Array::New(env, c.uids.size());
  for (uint32_t i = 0; i < c.uids.size(); ++i) uids.Set(i, Str(env, c.uids[i]));
  result.Set("uids", uids);

  Napi::Array texts = Napi::Array::New(env, c.texts.size());
  for (uint32_t i = 0; i < c.texts.size(); ++i) {
    Napi::Object t = Napi::Object::New(env);
    t.Set("path", Str(env, c.texts[i].path));
    t.Set("vr", Napi::String::New(env, c.texts[i].vr));
    t.Set("value", Str(env, c.texts[i].value));
    texts.Set(i, t);
  }
  result.Set("texts", texts);

  Napi::Array identifiers = Napi::Array::New(env, c.identifiers.size());
  for (uint32_t i = 0; i < c.identifiers.size(); ++i) {
    const auto& id = c.identifiers[i];
    DcmTag tag(static_cast<Uint16>(id.tag >> 16), static_cast<Uint16>(id.tag & 0xFFFF));
    const char* keyword = (id.tag >> 16) & 1 ? "" : tag.getTagName();
    Napi::Object o = Napi::Object::New(env);
    o.Set("path", Str(env, id.path));
    o.Set("keyword", Napi::String::New(env, keyword == nullptr || std::string_view(keyword) == DcmTag_ERROR_TagName ? "" : keyword));
    o.Set("vr", Napi::String::New(env, id.vr));
    o.Set("value", Str(env, id.value));
    identifiers.Set(i, o);
  }
  result.Set("identifiers", identifiers);

  Napi::Array undecodableOut = Napi::Array::New(env, c.undecodable.size());
  for (uint32_t i = 0; i < c.undecodable.size(); ++i) {
    const auto& u = c.undecodable[i];
    DcmTag tag(static_cast<Uint16>(u.tag >> 16), static_cast<Uint16>(u.tag & 0xFFFF));
    const char* keyword = (u.tag >> 16) & 1 ? "" : tag.getTagName();
    Napi::Object o = Napi::Object::New(env);
    o.Set("path", Str(env, u.path));
    o.Set("keyword", Napi::String::New(env, keyword == nullptr || std::string_view(keyword) == DcmTag_ERROR_TagName ? "" : keyword));
    o.Set("vr", Napi::String::New(env, u.vr));
    undecodableOut.Set(i, o);
  }
  result.Set("undecodable", undecodableOut);
  return result;
}

}  // namespace aibridge::dicom
