// Small helpers shared by the dataset walks (inspect, apply, UTF-8 check).
#pragma once

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_set>

namespace aibridge::dicom {

/** Elements whose bytes were not valid in their declared character set (dicom-charset.h). */
using UndecodableSet = std::unordered_set<const DcmObject*>;

/** Sequence nesting accepted by the walks (and by parseDicom); DICOM SR rarely exceeds 20. */
inline constexpr int kMaxDepth = 64;

inline uint32_t TagKey(const DcmTagKey& t) { return (static_cast<uint32_t>(t.getGroup()) << 16) | t.getElement(); }

/** Raw value of a string element without copying (empty view for non-strings / no value). */
inline std::string_view RawString(DcmElement* e) {
  char* s = nullptr;
  Uint32 len = 0;
  if (e->getString(s, len).bad() || s == nullptr) return {};
  return std::string_view(s, len);
}

inline bool IsStringVr(DcmEVR vr) {
  switch (vr) {
    case EVR_AE: case EVR_AS: case EVR_CS: case EVR_DA: case EVR_DS: case EVR_DT: case EVR_IS: case EVR_LO:
    case EVR_LT: case EVR_PN: case EVR_SH: case EVR_ST: case EVR_TM: case EVR_UC: case EVR_UI: case EVR_UR:
    case EVR_UT:
      return true;
    default:
      return false;
  }
}

/** Free-text-like VRs: the ones 'C' (clean) hands to TypeScript and 'D' fills with ANONYMIZED. */
inline bool IsTextVr(DcmEVR vr) {
  switch (vr) {
    case EVR_AE: case EVR_CS: case EVR_LO: case EVR_LT: case EVR_PN: case EVR_SH: case EVR_ST: case EVR_UC:
    case EVR_UT:
      return true;
    default:
      return false;
  }
}

/** VRs whose X/Z/D values are reported as identifiers (blacklist source). */
inline bool IsIdentifierVr(DcmEVR vr) {
  switch (vr) {
    case EVR_AE: case EVR_LO: case EVR_LT: case EVR_PN: case EVR_SH: case EVR_ST: case EVR_UC: case EVR_UT:
      return true;
    default:
      return false;
  }
}

inline void AppendHex4(std::string& out, uint16_t v) {
  static const char kHex[] = "0123456789abcdef";
  for (int shift = 12; shift >= 0; shift -= 4) out.push_back(kHex[(v >> shift) & 0xF]);
}

/** Appends "ggggeeee" (and "[i]." before it when `path` is non-empty, done by the caller). */
inline void AppendTag(std::string& out, const DcmTagKey& t) {
  AppendHex4(out, t.getGroup());
  AppendHex4(out, t.getElement());
}

/**
 * Calls f(item) for each item of a sequence with `path` extended by "[i]"
 * (the location syntax of docs/deid-engine.md), restoring `path` afterwards.
 */
template <typename F>
void ForEachItem(DcmSequenceOfItems& seq, std::string& path, F&& f) {
  const size_t base = path.size();
  unsigned long index = 0;
  for (DcmObject* o = seq.nextInContainer(nullptr); o != nullptr; o = seq.nextInContainer(o), ++index) {
    path.resize(base);
    path.push_back('[');
    path.append(std::to_string(index));
    path.push_back(']');
    f(*static_cast<DcmItem*>(o));
  }
  path.resize(base);
}

inline bool IsPseudonymTarget(uint32_t key) {
  return key == 0x00100020 /* PatientID */ || key == 0x00100010 /* PatientName */ || key == 0x00080050 /* AccessionNumber */;
}

}  // namespace aibridge::dicom
