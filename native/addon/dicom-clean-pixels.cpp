// Clean Pixel Data in the de-id worker: the stored samples of every frame of a parsed
// original out (dicom-pixels.h StoredPixelsJs), cleaned native samples back in
// (ReplacePixelDataJs). Decoding shares dicom-pixels.cpp's layout checks and codecs.
#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <new>
#include <string>
#include <vector>

#include "dicom-pixels-detail.h"
#include "dicom-pixels.h"

namespace aibridge::pixels {

namespace {

using namespace detail;

// The attributes a decoder reads, cloned with the Pixel Data into a scratch dataset: decoding
// there leaves the original untouched (DCMTK's decoders rewrite PhotometricInterpretation and
// the lossy attributes of the dataset they decode), so an instance that needs no box keeps its
// pixel data and header exactly.
const DcmTagKey kDecodeContext[] = {DCM_SOPClassUID, DCM_Rows, DCM_Columns, DCM_BitsAllocated, DCM_BitsStored,
                                    DCM_HighBit, DCM_PixelRepresentation, DCM_SamplesPerPixel,
                                    DCM_PlanarConfiguration, DCM_PhotometricInterpretation, DCM_NumberOfFrames,
                                    DCM_PixelData};

std::unique_ptr<DcmDataset> DecodeCopy(DcmDataset& ds, const Source& s) {
  auto work = std::make_unique<DcmDataset>();
  for (const DcmTagKey& tag : kDecodeContext) {
    DcmElement* e = nullptr;
    if (ds.findAndGetElement(tag, e, OFFalse).bad() || e == nullptr) continue;
    auto* copy = static_cast<DcmElement*>(e->clone());
    if (work->insert(copy, OFTrue).bad()) {
      delete copy;
      Fail(kCorrupt, "cannot copy the pixel data for decoding (transfer syntax " + s.xferUid + ")");
    }
  }
  Source w;
  w.ds = work.get();
  w.xfer = s.xfer;
  w.xferUid = s.xferUid;
  Decompress(*work, w);
  return work;
}

Napi::Value PaletteLut(Napi::Env env, DcmDataset& ds, const DcmTagKey& descriptorTag, const DcmTagKey& dataTag,
                       const DcmTagKey& segmentedTag, const char* colour) {
  if (ds.tagExists(segmentedTag, OFFalse))
    Fail(kUnsupportedLayout, std::string("a segmented ") + colour + " palette cannot be cleaned");
  DcmElement* descriptor = nullptr;
  DcmElement* data = nullptr;
  if (ds.findAndGetElement(descriptorTag, descriptor, OFFalse).bad() || descriptor == nullptr ||
      descriptor->getVM() != 3 || ds.findAndGetElement(dataTag, data, OFFalse).bad() || data == nullptr)
    Fail(kCorrupt, std::string("the ") + colour + " palette of a PALETTE COLOR image is missing or malformed");
  Napi::Object lut = Napi::Object::New(env);
  Napi::Array d = Napi::Array::New(env, 3);
  for (uint32_t i = 0; i < 3; ++i) {
    // PS3.3 C.7.6.3.1.5: the first-mapped value is US or SS depending on Pixel Representation.
    Uint16 u = 0;
    if (descriptor->getUint16(u, i).bad()) {
      Sint16 v = 0;
      if (descriptor->getSint16(v, i).bad()) Fail(kCorrupt, std::string("the ") + colour + " palette descriptor is unreadable");
      u = static_cast<Uint16>(v);
    }
    d.Set(i, Napi::Number::New(env, u));
  }
  lut.Set("descriptor", d);
  Uint16* words = nullptr;
  if (data->getUint16Array(words).bad() || words == nullptr) Fail(kCorrupt, std::string("the ") + colour + " palette data is unreadable");
  const size_t count = data->getLength() / 2;
  Napi::Uint16Array out = Napi::Uint16Array::New(env, count);
  std::memcpy(out.Data(), words, count * 2);
  lut.Set("data", out);
  return lut;
}

Napi::Value StoredPixels(Napi::Env env, DcmDataset& ds, E_TransferSyntax xfer) {
  Source s;
  s.ds = &ds;
  s.xfer = xfer;
  if (xfer != EXS_Unknown) s.xferUid = DcmXfer(xfer).getXferID();
  if (!ds.tagExists(DCM_PixelData, OFFalse)) {
    if (ds.tagExists(DCM_FloatPixelData, OFFalse) || ds.tagExists(DCM_DoubleFloatPixelData, OFFalse))
      Fail(kUnsupportedLayout, "float pixel data cannot be cleaned (transfer syntax " + s.xferUid + ")");
    Fail(kNoPixelData, "the instance has no Pixel Data");
  }
  const Layout l = ReadLayout(ds, s.xferUid);
  if (l.bitsAllocated == 32) Fail(kUnsupportedLayout, "BitsAllocated 32 cannot be cleaned (8 or 16; transfer syntax " + s.xferUid + ")");
  Napi::Object o = Napi::Object::New(env);
  o.Set("transferSyntaxUid", Napi::String::New(env, s.xferUid));
  o.Set("rows", Napi::Number::New(env, l.rows));
  o.Set("columns", Napi::Number::New(env, l.columns));
  o.Set("numberOfFrames", Napi::Number::New(env, l.frames));
  o.Set("samplesPerPixel", Napi::Number::New(env, l.samplesPerPixel));
  o.Set("bitsAllocated", Napi::Number::New(env, l.bitsAllocated));
  o.Set("bitsStored", Napi::Number::New(env, l.bitsStored));
  o.Set("highBit", Napi::Number::New(env, l.highBit));
  o.Set("pixelRepresentation", Napi::Number::New(env, l.pixelRepresentation));
  o.Set("storedPhotometricInterpretation", Napi::String::New(env, l.photometric));
  SetText(env, o, "modality", ds, DCM_Modality);
  SetText(env, o, "manufacturer", ds, DCM_Manufacturer);
  SetText(env, o, "manufacturerModelName", ds, DCM_ManufacturerModelName);
  SetText(env, o, "burnedInAnnotation", ds, DCM_BurnedInAnnotation);
  SetText(env, o, "lossyImageCompression", ds, DCM_LossyImageCompression);
  Napi::Array geometry = Napi::Array::New(env, l.frames);
  for (uint32_t f = 0; f < l.frames; ++f) geometry.Set(f, FrameGeometry(env, ds, f));
  o.Set("frameGeometry", geometry);
  if (l.photometric == "PALETTE COLOR") {
    Napi::Object palette = Napi::Object::New(env);
    palette.Set("red", PaletteLut(env, ds, DCM_RedPaletteColorLookupTableDescriptor, DCM_RedPaletteColorLookupTableData,
                                  DCM_SegmentedRedPaletteColorLookupTableData, "red"));
    palette.Set("green", PaletteLut(env, ds, DCM_GreenPaletteColorLookupTableDescriptor, DCM_GreenPaletteColorLookupTableData,
                                    DCM_SegmentedGreenPaletteColorLookupTableData, "green"));
    palette.Set("blue", PaletteLut(env, ds, DCM_BluePaletteColorLookupTableDescriptor, DCM_BluePaletteColorLookupTableData,
                                   DCM_SegmentedBluePaletteColorLookupTableData, "blue"));
    o.Set("palette", palette);
  }
  if (IsJpeg2000(s.xfer)) {
    const std::vector<std::vector<uint8_t>> encoded = EncapsulatedFrames(ds, s, l);
    Napi::Array frames = Napi::Array::New(env, encoded.size());
    for (size_t f = 0; f < encoded.size(); ++f)
      frames.Set(static_cast<uint32_t>(f), Napi::Buffer<uint8_t>::Copy(env, encoded[f].data(), encoded[f].size()));
    o.Set("encoding", Napi::String::New(env, "jpeg2000"));
    o.Set("photometricInterpretation", Napi::String::New(env, l.photometric));
    o.Set("planarConfiguration", Napi::Number::New(env, l.planarConfiguration));
    o.Set("frames", frames);
    return o;
  }
  const bool encapsulated = DcmXfer(s.xfer).isEncapsulated();
  std::unique_ptr<DcmDataset> work = encapsulated ? DecodeCopy(ds, s) : nullptr;
  DcmDataset& decoded = work ? *work : ds;
  // A decoder may have converted YBR to RGB or upsampled 4:2:2 and said so in the header.
  std::string photometric = Text(decoded, DCM_PhotometricInterpretation).value_or(l.photometric);
  const uint16_t planar = Us(decoded, DCM_PlanarConfiguration).value_or(l.planarConfiguration);
  // PS3.3 C.7.6.3.1.2: native YBR_FULL_422 stores two luminance and two chroma samples per pair of pixels.
  const bool subsampled = !encapsulated && photometric == "YBR_FULL_422";
  if (subsampled && (l.columns % 2 != 0 || l.samplesPerPixel != 3))
    Fail(kCorrupt, "YBR_FULL_422 needs an even number of columns and three samples (transfer syntax " + s.xferUid + ")");
  if (encapsulated && photometric == "YBR_FULL_422") photometric = "YBR_FULL";
  const size_t bytesPerSample = l.bitsAllocated / 8;
  const size_t frameSamples = subsampled ? size_t{l.rows} * l.columns * 2 : size_t{l.rows} * l.columns * l.samplesPerPixel;
  const size_t frameBytes = frameSamples * bytesPerSample;
  const size_t needed = frameBytes * l.frames;
  DcmElement* element = nullptr;
  if (decoded.findAndGetElement(DCM_PixelData, element, OFFalse).bad() || element == nullptr)
    Fail(kNoPixelData, "the instance has no Pixel Data");
  const uint8_t* bytes = nullptr;
  if (bytesPerSample == 1) {
    Uint8* p = nullptr;
    if (element->getUint8Array(p).bad()) p = nullptr;
    bytes = p;
  } else {
    Uint16* p = nullptr;
    if (element->getUint16Array(p).bad()) p = nullptr;
    bytes = reinterpret_cast<const uint8_t*>(p);
  }
  const size_t length = element->getLength();
  if (bytes == nullptr || length < needed)
    Fail(kCorrupt, "the pixel data holds " + std::to_string(length) + " bytes, " + std::to_string(l.frames) + " frame(s) of " +
                       std::to_string(frameBytes) + " need " + std::to_string(needed) + " (transfer syntax " + s.xferUid + ")");
  // Native pixel data must be exactly the frames (plus the pad byte to an even length): anything
  // else means the layout is not what the header says, and boxes would land in the wrong place.
  if (!encapsulated && length > needed + 1)
    Fail(kCorrupt, "the pixel data holds " + std::to_string(length) + " bytes, more than " + std::to_string(l.frames) +
                       " frame(s) of " + std::to_string(frameBytes) + " (transfer syntax " + s.xferUid + ")");
  Napi::Array frames = Napi::Array::New(env, l.frames);
  for (uint32_t f = 0; f < l.frames; ++f)
    frames.Set(f, Napi::Buffer<uint8_t>::Copy(env, bytes + size_t{f} * frameBytes, frameBytes));
  o.Set("encoding", Napi::String::New(env, "native"));
  o.Set("photometricInterpretation", Napi::String::New(env, photometric));
  o.Set("planarConfiguration", Napi::Number::New(env, planar));
  o.Set("frames", frames);
  return o;
}

uint16_t ReplacementNumber(const Napi::Object& r, const char* key) {
  Napi::Value v = r.Get(key);
  if (!v.IsNumber()) Fail(kCorrupt, std::string("replacePixels: ") + key + " is not a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 65535) || d != static_cast<double>(static_cast<uint16_t>(d)))
    Fail(kCorrupt, std::string("replacePixels: ") + key + " is out of range");
  return static_cast<uint16_t>(d);
}

std::string ReplacementString(const Napi::Object& r, const char* key) {
  Napi::Value v = r.Get(key);
  if (!v.IsString()) Fail(kCorrupt, std::string("replacePixels: ") + key + " is not a string");
  return v.As<Napi::String>().Utf8Value();
}

void PutString(DcmDataset& ds, const DcmTagKey& tag, const std::string& value) {
  if (ds.putAndInsertString(tag, value.c_str(), OFTrue).bad()) Fail(kCorrupt, "cannot write the cleaned image's header");
}

void PutUs(DcmDataset& ds, const DcmTagKey& tag, uint16_t value) {
  if (ds.putAndInsertUint16(tag, value, 0, OFTrue).bad()) Fail(kCorrupt, "cannot write the cleaned image's header");
}

void ReplacePixelData(DcmDataset& ds, const Napi::Value& value) {
  if (!value.IsObject()) Fail(kCorrupt, "replacePixels expects an object");
  const Napi::Object r = value.As<Napi::Object>();
  const Napi::Value dataValue = r.Get("data");
  if (!dataValue.IsBuffer()) Fail(kCorrupt, "replacePixels: data is not a Buffer");
  const Napi::Buffer<uint8_t> data = dataValue.As<Napi::Buffer<uint8_t>>();
  const uint16_t bitsAllocated = ReplacementNumber(r, "bitsAllocated");
  if (bitsAllocated != 8 && bitsAllocated != 16) Fail(kCorrupt, "replacePixels: bitsAllocated is not 8 or 16");
  if (bitsAllocated == 16 && data.Length() % 2 != 0) Fail(kCorrupt, "replacePixels: 16-bit data of odd length");
  const uint16_t samplesPerPixel = ReplacementNumber(r, "samplesPerPixel");
  const std::string photometric = ReplacementString(r, "photometricInterpretation");

  auto* pixelData = new DcmPixelData(DcmTag(DCM_PixelData, bitsAllocated == 8 ? EVR_OB : EVR_OW));
  OFCondition put;
  if (bitsAllocated == 8) {
    put = pixelData->putUint8Array(data.Data(), static_cast<unsigned long>(data.Length()));
  } else {
    std::vector<Uint16> words(data.Length() / 2);
    std::memcpy(words.data(), data.Data(), data.Length());
    put = pixelData->putUint16Array(words.data(), static_cast<unsigned long>(words.size()));
  }
  if (put.bad() || ds.insert(pixelData, OFTrue).bad()) {
    delete pixelData;
    Fail(kCorrupt, "cannot store the cleaned pixel data");
  }
  // An offset table describes the encapsulated frames that are gone.
  delete ds.remove(DcmTagKey(0x7FE0, 0x0001));
  delete ds.remove(DcmTagKey(0x7FE0, 0x0002));
  PutUs(ds, DCM_BitsAllocated, bitsAllocated);
  PutUs(ds, DCM_BitsStored, ReplacementNumber(r, "bitsStored"));
  PutUs(ds, DCM_HighBit, ReplacementNumber(r, "highBit"));
  PutUs(ds, DCM_SamplesPerPixel, samplesPerPixel);
  PutString(ds, DCM_PhotometricInterpretation, photometric);
  if (samplesPerPixel > 1) PutUs(ds, DCM_PlanarConfiguration, ReplacementNumber(r, "planarConfiguration"));
  else delete ds.remove(DCM_PlanarConfiguration);
  const Napi::Value lossy = r.Get("lossy");
  if (lossy.IsObject()) {
    // PS3.3 C.7.6.1.1.5: once lossy, always marked lossy; an existing method and ratio are history, kept.
    const Napi::Object l = lossy.As<Napi::Object>();
    PutString(ds, DCM_LossyImageCompression, "01");
    if (!ds.tagExistsWithValue(DCM_LossyImageCompressionMethod, OFFalse) && l.Get("method").IsString())
      PutString(ds, DCM_LossyImageCompressionMethod, l.Get("method").As<Napi::String>().Utf8Value());
    if (!ds.tagExistsWithValue(DCM_LossyImageCompressionRatio, OFFalse) && l.Get("ratio").IsString())
      PutString(ds, DCM_LossyImageCompressionRatio, l.Get("ratio").As<Napi::String>().Utf8Value());
  }
}

template <typename F>
auto GuardPixels(Napi::Env env, F&& body) -> decltype(body()) {
  try {
    return body();
  } catch (const Napi::Error&) {
    throw;
  } catch (const PixelFailure& failure) {
    ThrowJs(env, failure.code(), failure.what());
  } catch (const std::bad_alloc&) {
    ThrowJs(env, kCorrupt, "out of memory while decoding the pixel data");
  } catch (const std::exception& e) {
    ThrowJs(env, kCorrupt, std::string("internal error while decoding the pixel data: ") + e.what());
  }
}

}  // namespace

Napi::Value StoredPixelsJs(Napi::Env env, DcmDataset& ds, E_TransferSyntax xfer) {
  return GuardPixels(env, [&] { return StoredPixels(env, ds, xfer); });
}

void ReplacePixelDataJs(Napi::Env env, DcmDataset& ds, const Napi::Value& replacement) {
  GuardPixels(env, [&] { ReplacePixelData(ds, replacement); });
}

}  // namespace aibridge::pixels
