// Shared by the two pixel paths of the addon: decodeDicomPixels for the annotator
// (dicom-pixels.cpp) and Clean Pixel Data in the de-id worker (dicom-clean-pixels.cpp).
#pragma once

#include <napi.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstdint>
#include <exception>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace aibridge::pixels::detail {

inline constexpr const char* kCorrupt = "AIB_PIXELS_CORRUPT";
inline constexpr const char* kUnsupportedSyntax = "AIB_PIXELS_UNSUPPORTED_SYNTAX";
inline constexpr const char* kUnsupportedLayout = "AIB_PIXELS_UNSUPPORTED_LAYOUT";
inline constexpr const char* kNoPixelData = "AIB_PIXELS_NO_PIXEL_DATA";

// One decoded image may not exceed this many samples (1 GiB as Int32): a forged Rows x Columns x
// NumberOfFrames must not make the annotator allocate without bound.
inline constexpr uint64_t kMaxSamples = uint64_t{1} << 28;

class PixelFailure : public std::exception {
 public:
  PixelFailure(const char* code, std::string message) : code_(code), message_(std::move(message)) {}
  const char* code() const noexcept { return code_; }
  const char* what() const noexcept override { return message_.c_str(); }

 private:
  const char* code_;
  std::string message_;
};

[[noreturn]] inline void Fail(const char* code, std::string message) { throw PixelFailure(code, std::move(message)); }

struct Source {
  std::unique_ptr<DcmFileFormat> file;
  DcmDataset* ds = nullptr;
  E_TransferSyntax xfer = EXS_Unknown;
  std::string xferUid = "unknown";
};

struct Layout {
  uint32_t rows = 0;
  uint32_t columns = 0;
  uint32_t frames = 1;
  uint32_t samplesPerPixel = 1;
  std::string photometric;
  uint16_t bitsAllocated = 0;
  uint16_t bitsStored = 0;
  uint16_t highBit = 0;
  uint16_t pixelRepresentation = 0;
  uint16_t planarConfiguration = 0;
};

std::optional<std::string> Text(DcmItem& item, const DcmTagKey& tag);
std::optional<uint16_t> Us(DcmItem& item, const DcmTagKey& tag);
/** The Image Pixel module, checked (sizes, bit depths, the 2^28-sample bound). Throws PixelFailure. */
Layout ReadLayout(DcmDataset& ds, const std::string& xferUid);
bool IsJpeg2000(E_TransferSyntax xfer);
/** The encoded frames of encapsulated pixel data (PS3.5 A.4), one buffer per frame. */
std::vector<std::vector<uint8_t>> EncapsulatedFrames(DcmDataset& ds, const Source& s, const Layout& l);
/** Decodes encapsulated pixel data in place to Explicit VR Little Endian (DCMTK codecs). */
void Decompress(DcmDataset& ds, const Source& s);
void SetText(Napi::Env env, Napi::Object& o, const char* key, DcmDataset& ds, const DcmTagKey& tag);
Napi::Object FrameGeometry(Napi::Env env, DcmDataset& ds, uint32_t frame);
[[noreturn]] void ThrowJs(Napi::Env env, const char* code, const std::string& message);
Napi::Value GuardedDecode(const Napi::CallbackInfo& info);

}  // namespace aibridge::pixels::detail
