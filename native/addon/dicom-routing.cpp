#include "dicom-routing.h"

#include <openssl/evp.h>
#include <sys/mman.h>

#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "dicom-errors.h"
#include "dicom-values.h"

namespace aibridge::dicom {

namespace {

std::string Hex(const unsigned char* digest, unsigned length) {
  static const char kHex[] = "0123456789abcdef";
  std::string out;
  out.reserve(length * 2);
  for (unsigned i = 0; i < length; ++i) {
    out.push_back(kHex[digest[i] >> 4]);
    out.push_back(kHex[digest[i] & 0xF]);
  }
  return out;
}

std::string_view Top(DcmItem& item, const DcmTagKey& key) {
  DcmElement* e = nullptr;
  if (item.findAndGetElement(key, e, OFFalse).bad() || e == nullptr) return {};
  return TrimPadding(RawString(e));
}

// Backslash-separated values, each trimmed; empty values kept (position matters for DS triples).
std::vector<std::string_view> Values(std::string_view raw) {
  std::vector<std::string_view> out;
  if (raw.empty()) return out;
  size_t start = 0;
  while (true) {
    const size_t end = raw.find('\\', start);
    out.push_back(TrimPadding(raw.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start)));
    if (end == std::string_view::npos) return out;
    start = end + 1;
  }
}

// A DS or IS value as a finite number; false for empty or malformed text.
bool Number(std::string_view text, double& out) {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  if (text.empty() || text.size() > 64) return false;
  const std::string copy(text);
  char* end = nullptr;
  errno = 0;
  const double v = std::strtod(copy.c_str(), &end);
  if (end == copy.c_str() || errno != 0 || !std::isfinite(v)) return false;
  while (*end == ' ') ++end;
  if (*end != '\0') return false;
  out = v;
  return true;
}

Napi::Value NumberOrNull(Napi::Env env, DcmItem& item, const DcmTagKey& key) {
  const std::vector<std::string_view> values = Values(Top(item, key));
  double v = 0;
  if (values.empty() || !Number(values[0], v)) return env.Null();
  return Napi::Number::New(env, v);
}

// A positive whole count (IS/US), else null.
Napi::Value CountOrNull(Napi::Env env, DcmItem& item, const DcmTagKey& key) {
  DcmElement* e = nullptr;
  if (item.findAndGetElement(key, e, OFFalse).bad() || e == nullptr) return env.Null();
  double v = 0;
  if (e->ident() == EVR_US) {
    Uint16 n = 0;
    if (e->getUint16(n).bad()) return env.Null();
    v = n;
  } else {
    const std::vector<std::string_view> values = Values(TrimPadding(RawString(e)));
    if (values.empty() || !Number(values[0], v)) return env.Null();
  }
  if (v < 1 || v != std::floor(v) || v > 1e9) return env.Null();
  return Napi::Number::New(env, v);
}

// Exactly `n` numbers, else null (a vector with a missing component routes nothing).
Napi::Value VectorOrNull(Napi::Env env, DcmItem& item, const DcmTagKey& key, size_t n) {
  const std::vector<std::string_view> values = Values(Top(item, key));
  if (values.size() != n) return env.Null();
  Napi::Array out = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; ++i) {
    double v = 0;
    if (!Number(values[i], v)) return env.Null();
    out.Set(static_cast<uint32_t>(i), Napi::Number::New(env, v));
  }
  return out;
}

Napi::String Str(Napi::Env env, std::string_view v) { return Napi::String::New(env, v.data(), v.size()); }

}  // namespace

std::string Sha256Hex(const uint8_t* data, size_t length) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned size = 0;
  if (EVP_Digest(data, length, digest, &size, EVP_sha256(), nullptr) != 1) Fail(kWriteFailed, "SHA-256 of the input failed");
  return Hex(digest, size);
}

std::string Sha256OfFile(int fd, uint64_t size) {
  if (size == 0) return Sha256Hex(nullptr, 0);
  void* mapped = mmap(nullptr, static_cast<size_t>(size), PROT_READ, MAP_PRIVATE, fd, 0);
  if (mapped == MAP_FAILED) Fail(kWriteFailed, std::string("cannot map the input: ") + std::strerror(errno));
  // One sequential pass: tell the kernel to read ahead.
  (void)madvise(mapped, static_cast<size_t>(size), MADV_SEQUENTIAL);
  try {
    std::string hex = Sha256Hex(static_cast<const uint8_t*>(mapped), static_cast<size_t>(size));
    munmap(mapped, static_cast<size_t>(size));
    return hex;
  } catch (...) {
    munmap(mapped, static_cast<size_t>(size));
    throw;
  }
}

Napi::Object Routing(Napi::Env env, DcmFileFormat& file, const RoutingInput& input) {
  DcmDataset& ds = *file.getDataset();
  Napi::Object out = Napi::Object::New(env);
  // As written, valid or not: Orthanc 1.10 indexes an instance by that value, and the worker maps
  // it to a valid 2.25 UID like any other (issue 13). The parse refuses an instance without one.
  out.Set("sopInstanceUid", Str(env, Top(ds, DCM_SOPInstanceUID)));
  out.Set("seriesInstanceUid", Str(env, Top(ds, DCM_SeriesInstanceUID)));
  out.Set("studyInstanceUid", Str(env, Top(ds, DCM_StudyInstanceUID)));
  out.Set("sopClassUid", Str(env, Top(ds, DCM_SOPClassUID)));
  out.Set("modality", Str(env, Top(ds, DCM_Modality)));
  out.Set("bodyPartExamined", Str(env, Top(ds, DCM_BodyPartExamined)));
  // As the file declares it; a file without meta header: the syntax DCMTK detected.
  std::string_view declared = Top(*file.getMetaInfo(), DCM_TransferSyntaxUID);
  const char* detected = DcmXfer(input.xfer).getXferID();
  out.Set("transferSyntaxUid", Str(env, !declared.empty() ? declared : std::string_view(detected == nullptr ? "" : detected)));
  // Parsing keeps the original (0008,0005) in Parsed::originalCharset; the dataset's own value is UTF-8 by now.
  Napi::Array charsets = Napi::Array::New(env);
  uint32_t n = 0;
  for (std::string_view term : Values(TrimPadding(input.originalCharset))) charsets.Set(n++, Str(env, term));
  out.Set("specificCharacterSet", charsets);
  out.Set("instanceNumber", NumberOrNull(env, ds, DCM_InstanceNumber));
  out.Set("numberOfFrames", CountOrNull(env, ds, DCM_NumberOfFrames));
  Napi::Value expected = CountOrNull(env, ds, DCM_ImagesInAcquisition);
  if (expected.IsNull()) expected = CountOrNull(env, ds, DCM_NumberOfSlices);
  out.Set("expectedInstances", expected);
  out.Set("imagePositionPatient", VectorOrNull(env, ds, DCM_ImagePositionPatient, 3));
  out.Set("imageOrientationPatient", VectorOrNull(env, ds, DCM_ImageOrientationPatient, 6));
  out.Set("sliceThickness", NumberOrNull(env, ds, DCM_SliceThickness));
  out.Set("spacingBetweenSlices", NumberOrNull(env, ds, DCM_SpacingBetweenSlices));
  out.Set("sha256", Napi::String::New(env, input.sha256));
  out.Set("sizeBytes", Napi::Number::New(env, static_cast<double>(input.sizeBytes)));
  return out;
}

Napi::Object ScanCategory(Napi::Env env, DcmItem& ds) {
  Napi::Object out = Napi::Object::New(env);
  out.Set("modality", Str(env, Top(ds, DCM_Modality)));
  out.Set("bodyPartExamined", Str(env, Top(ds, DCM_BodyPartExamined)));
  out.Set("studyDescription", Str(env, Top(ds, DCM_StudyDescription)));
  out.Set("seriesDescription", Str(env, Top(ds, DCM_SeriesDescription)));
  out.Set("viewPosition", Str(env, Top(ds, DCM_ViewPosition)));
  return out;
}

}  // namespace aibridge::dicom
