#include "dicom-pixels.h"

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dccodec.h>
#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcpixseq.h>
#include <dcmtk/dcmdata/dcpxitem.h>
#include <dcmtk/dcmdata/dcrledrg.h>
#include <dcmtk/dcmdata/dctk.h>
#include <dcmtk/dcmimage/diregist.h>
#include <dcmtk/dcmimgle/dcmimage.h>
#include <dcmtk/dcmjpeg/djdecode.h>
#include <dcmtk/dcmjpls/djdecode.h>

#include <cstdint>
#include <cstring>
#include <exception>
#include <memory>
#include <mutex>
#include <new>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "dicom-io.h"
#include "dicom-pixels-detail.h"

namespace aibridge::pixels {

namespace detail {

// The annotator reads de-identified copies that the de-id worker has already parsed (with its
// nesting bounds), so a plain read is enough here.
Source Read(const uint8_t* data, size_t length) {
  if (length < 8) Fail(kCorrupt, "input is too short to be DICOM");
  Source s;
  s.file = std::make_unique<DcmFileFormat>();
  DcmInputBufferStream in;
  in.setBuffer(data, static_cast<offile_off_t>(length));
  in.setEos();
  s.file->transferInit();
  OFCondition cond = s.file->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  s.file->transferEnd();
  s.ds = s.file->getDataset();
  if (s.ds != nullptr) s.xfer = s.ds->getOriginalXfer();
  if (s.xfer != EXS_Unknown) s.xferUid = DcmXfer(s.xfer).getXferID();
  if (cond.bad() || s.ds == nullptr)
    Fail(kCorrupt, "the DICOM stream (transfer syntax " + s.xferUid + ") ends early or is damaged: " + cond.text());
  if (s.xfer == EXS_Unknown) Fail(kCorrupt, "input has no recognisable transfer syntax");
  return s;
}

std::string Trim(const OFString& v) {
  std::string s(v.c_str());
  while (!s.empty() && (s.back() == ' ' || s.back() == '\0')) s.pop_back();
  size_t start = 0;
  while (start < s.size() && s[start] == ' ') ++start;
  return s.substr(start);
}

std::optional<std::string> Text(DcmItem& item, const DcmTagKey& tag) {
  OFString v;
  if (item.findAndGetOFStringArray(tag, v, OFFalse).bad()) return std::nullopt;
  std::string t = Trim(v);
  if (t.empty()) return std::nullopt;
  return t;
}

std::optional<uint16_t> Us(DcmItem& item, const DcmTagKey& tag) {
  Uint16 v = 0;
  if (item.findAndGetUint16(tag, v, 0, OFFalse).bad()) return std::nullopt;
  return v;
}

std::vector<double> Numbers(DcmItem& item, const DcmTagKey& tag) {
  std::vector<double> out;
  DcmElement* e = nullptr;
  if (item.findAndGetElement(tag, e, OFFalse).bad() || e == nullptr) return out;
  const unsigned long vm = e->getVM();
  for (unsigned long i = 0; i < vm; ++i) {
    Float64 v = 0;
    if (e->getFloat64(v, i).bad()) return {};
    out.push_back(v);
  }
  return out;
}

// PS3.3 C.7.6.16: in enhanced multi-frame images the per-frame attributes sit in functional
// group macros; a Per-Frame item overrides the Shared one, and both override the top level.
std::vector<double> FrameNumbers(DcmDataset& ds, unsigned long frame, const DcmTagKey& macro, const DcmTagKey& tag) {
  DcmItem* group = nullptr;
  DcmItem* item = nullptr;
  if (ds.findAndGetSequenceItem(DCM_PerFrameFunctionalGroupsSequence, group, static_cast<signed long>(frame)).good() &&
      group != nullptr && group->findAndGetSequenceItem(macro, item, 0).good() && item != nullptr) {
    std::vector<double> v = Numbers(*item, tag);
    if (!v.empty()) return v;
  }
  if (ds.findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, group, 0).good() && group != nullptr &&
      group->findAndGetSequenceItem(macro, item, 0).good() && item != nullptr) {
    std::vector<double> v = Numbers(*item, tag);
    if (!v.empty()) return v;
  }
  return Numbers(ds, tag);
}


Layout ReadLayout(DcmDataset& ds, const std::string& xferUid) {
  Layout l;
  const auto rows = Us(ds, DCM_Rows);
  const auto columns = Us(ds, DCM_Columns);
  const auto bitsAllocated = Us(ds, DCM_BitsAllocated);
  if (!rows || !columns || !bitsAllocated || *rows == 0 || *columns == 0)
    Fail(kCorrupt, "the image pixel module (Rows, Columns, BitsAllocated) is missing or zero (transfer syntax " + xferUid + ")");
  l.rows = *rows;
  l.columns = *columns;
  l.bitsAllocated = *bitsAllocated;
  l.bitsStored = Us(ds, DCM_BitsStored).value_or(l.bitsAllocated);
  l.highBit = Us(ds, DCM_HighBit).value_or(static_cast<uint16_t>(l.bitsStored - 1));
  l.pixelRepresentation = Us(ds, DCM_PixelRepresentation).value_or(0);
  l.samplesPerPixel = Us(ds, DCM_SamplesPerPixel).value_or(1);
  l.planarConfiguration = Us(ds, DCM_PlanarConfiguration).value_or(0);
  Sint32 frames = 1;
  if (ds.findAndGetSint32(DCM_NumberOfFrames, frames, 0, OFFalse).good()) {
    if (frames < 1) Fail(kCorrupt, "NumberOfFrames is not a positive number (transfer syntax " + xferUid + ")");
    l.frames = static_cast<uint32_t>(frames);
  }
  // ACR-NEMA style files (no Photometric Interpretation) are grayscale.
  l.photometric = Text(ds, DCM_PhotometricInterpretation).value_or(l.samplesPerPixel == 1 ? "MONOCHROME2" : "RGB");
  if (l.bitsAllocated != 8 && l.bitsAllocated != 16 && l.bitsAllocated != 32)
    Fail(kUnsupportedLayout, "BitsAllocated " + std::to_string(l.bitsAllocated) + " is not supported (8, 16 or 32; transfer syntax " + xferUid + ")");
  if (l.bitsStored == 0 || l.bitsStored > l.bitsAllocated || l.highBit >= l.bitsAllocated || l.highBit + 1 < l.bitsStored)
    Fail(kCorrupt, "BitsStored/HighBit do not fit BitsAllocated (transfer syntax " + xferUid + ")");
  if (l.samplesPerPixel != 1 && l.samplesPerPixel != 3)
    Fail(kUnsupportedLayout, "SamplesPerPixel " + std::to_string(l.samplesPerPixel) + " is not supported (1 or 3; transfer syntax " + xferUid + ")");
  const uint64_t samples = uint64_t{l.rows} * l.columns * l.samplesPerPixel * l.frames;
  if (samples > kMaxSamples) Fail(kUnsupportedLayout, "the image has more than 2^28 samples (transfer syntax " + xferUid + ")");
  return l;
}

bool IsJpeg2000(E_TransferSyntax xfer) {
  return xfer == EXS_JPEG2000LosslessOnly || xfer == EXS_JPEG2000 || xfer == EXS_JPEG2000MulticomponentLosslessOnly ||
         xfer == EXS_JPEG2000Multicomponent;
}

uint32_t ReadLe32(const Uint8* p) {
  return static_cast<uint32_t>(p[0]) | (static_cast<uint32_t>(p[1]) << 8) | (static_cast<uint32_t>(p[2]) << 16) |
         (static_cast<uint32_t>(p[3]) << 24);
}

struct Fragment {
  const Uint8* data;
  uint32_t length;
  uint64_t offset;  // of its item tag, from the first fragment's item tag (Basic Offset Table origin)
};

// PS3.5 A.4: item 0 is the Basic Offset Table; frames are fragment runs. Without a table, a
// single-frame image is all fragments, else one fragment per frame, else a new frame starts
// at each fragment that opens with a JPEG 2000 SOC marker (FF4F).
std::vector<std::vector<uint8_t>> EncapsulatedFrames(DcmDataset& ds, const Source& s, const Layout& l) {
  DcmElement* element = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, element, OFFalse).bad() || element == nullptr)
    Fail(kNoPixelData, "the instance has no Pixel Data");
  auto* pixelData = static_cast<DcmPixelData*>(element);
  DcmPixelSequence* sequence = nullptr;
  if (pixelData->getEncapsulatedRepresentation(s.xfer, nullptr, sequence).bad() || sequence == nullptr)
    Fail(kCorrupt, "the encapsulated pixel data cannot be read (transfer syntax " + s.xferUid + ")");
  const unsigned long count = sequence->card();
  if (count < 2) Fail(kCorrupt, "the encapsulated pixel data has no fragment (transfer syntax " + s.xferUid + ")");
  std::vector<uint32_t> table;
  std::vector<Fragment> fragments;
  uint64_t offset = 0;
  for (unsigned long i = 0; i < count; ++i) {
    DcmPixelItem* item = nullptr;
    Uint8* bytes = nullptr;
    if (sequence->getItem(item, i).bad() || item == nullptr) Fail(kCorrupt, "unreadable pixel item (transfer syntax " + s.xferUid + ")");
    const uint32_t length = item->getLength();
    if (length > 0 && (item->getUint8Array(bytes).bad() || bytes == nullptr))
      Fail(kCorrupt, "unreadable pixel item (transfer syntax " + s.xferUid + ")");
    if (i == 0) {
      for (uint32_t at = 0; at + 4 <= length; at += 4) table.push_back(ReadLe32(bytes + at));
      continue;
    }
    fragments.push_back({bytes, length, offset});
    offset += uint64_t{8} + length;
  }
  std::vector<std::vector<uint8_t>> frames;
  auto startFrame = [&frames] { frames.emplace_back(); };
  auto append = [&frames](const Fragment& f) { frames.back().insert(frames.back().end(), f.data, f.data + f.length); };
  if (l.frames == 1) {
    startFrame();
    for (const Fragment& f : fragments) append(f);
  } else if (table.size() == l.frames) {
    size_t next = 0;
    for (const Fragment& f : fragments) {
      while (next < table.size() && f.offset >= table[next]) {
        startFrame();
        ++next;
      }
      if (frames.empty()) Fail(kCorrupt, "the Basic Offset Table does not start at the first fragment");
      append(f);
    }
  } else if (fragments.size() == l.frames) {
    for (const Fragment& f : fragments) {
      startFrame();
      append(f);
    }
  } else {
    for (const Fragment& f : fragments) {
      const bool soc = f.length >= 2 && f.data[0] == 0xFF && f.data[1] == 0x4F;
      if (soc || frames.empty()) startFrame();
      append(f);
    }
  }
  if (frames.size() != l.frames)
    Fail(kCorrupt, "found " + std::to_string(frames.size()) + " encoded frames, NumberOfFrames says " + std::to_string(l.frames) +
                       " (transfer syntax " + s.xferUid + ")");
  return frames;
}

void Decompress(DcmDataset& ds, const Source& s) {
  if (!DcmXfer(s.xfer).isEncapsulated()) return;
  if (!DcmCodecList::canChangeCoding(s.xfer, EXS_LittleEndianExplicit))
    Fail(kUnsupportedSyntax, "no decoder for transfer syntax " + s.xferUid);
  OFCondition cond = ds.chooseRepresentation(EXS_LittleEndianExplicit, nullptr);
  if (cond.bad() || !ds.hasRepresentation(EXS_LittleEndianExplicit, nullptr))
    Fail(kCorrupt, "the pixel data does not decode (transfer syntax " + s.xferUid + "): " + cond.text());
}

// Stored values → signed integers: PS3.5 8.1.1 (BitsStored bits ending at HighBit,
// two's complement when PixelRepresentation is 1).
Napi::Value StoredFrames(Napi::Env env, DcmDataset& ds, const Source& s, const Layout& l) {
  DcmElement* element = nullptr;
  if (ds.findAndGetElement(DCM_PixelData, element, OFFalse).bad() || element == nullptr)
    Fail(kNoPixelData, "the instance has no Pixel Data");
  const size_t perFrame = size_t{l.rows} * l.columns;
  const size_t needed = perFrame * l.frames;
  const unsigned shift = static_cast<unsigned>(l.highBit + 1 - l.bitsStored);
  const uint64_t mask = l.bitsStored == 32 ? 0xFFFFFFFFull : ((uint64_t{1} << l.bitsStored) - 1);
  const uint64_t sign = uint64_t{1} << (l.bitsStored - 1);
  const bool isSigned = l.pixelRepresentation == 1;
  auto convert = [&](uint64_t raw) -> int32_t {
    uint64_t v = (raw >> shift) & mask;
    if (isSigned && (v & sign) != 0) return static_cast<int32_t>(static_cast<int64_t>(v) - static_cast<int64_t>(mask) - 1);
    return static_cast<int32_t>(static_cast<int64_t>(v));
  };
  const std::string shortData = "the pixel data is shorter than Rows x Columns x NumberOfFrames (transfer syntax " + s.xferUid + ")";
  Napi::Array frames = Napi::Array::New(env, l.frames);
  if (l.bitsAllocated == 8) {
    Uint8* p = nullptr;
    if (element->getUint8Array(p).bad() || p == nullptr || element->getLength() < needed) Fail(kCorrupt, shortData);
    for (uint32_t f = 0; f < l.frames; ++f) {
      Napi::Int32Array out = Napi::Int32Array::New(env, perFrame);
      for (size_t i = 0; i < perFrame; ++i) out[i] = convert(p[f * perFrame + i]);
      frames.Set(f, out);
    }
  } else if (l.bitsAllocated == 16) {
    Uint16* p = nullptr;
    if (element->getUint16Array(p).bad() || p == nullptr || element->getLength() / 2 < needed) Fail(kCorrupt, shortData);
    for (uint32_t f = 0; f < l.frames; ++f) {
      Napi::Int32Array out = Napi::Int32Array::New(env, perFrame);
      for (size_t i = 0; i < perFrame; ++i) out[i] = convert(p[f * perFrame + i]);
      frames.Set(f, out);
    }
  } else {
    // 32-bit words arrive as pairs of host-order 16-bit words: only little endian keeps their order.
    if (s.xfer == EXS_BigEndianExplicit) Fail(kUnsupportedLayout, "BitsAllocated 32 in big endian is not supported");
    Uint8* p = nullptr;
    if (element->getUint8Array(p).bad() || p == nullptr || element->getLength() / 4 < needed) Fail(kCorrupt, shortData);
    for (uint32_t f = 0; f < l.frames; ++f) {
      Napi::Int32Array out = Napi::Int32Array::New(env, perFrame);
      for (size_t i = 0; i < perFrame; ++i) out[i] = convert(ReadLe32(p + 4 * (f * perFrame + i)));
      frames.Set(f, out);
    }
  }
  return frames;
}

// Colour (RGB, YBR_*, PALETTE COLOR) through dcmimage, which converts every colour model to
// RGB; output is 8 bits per sample, colour-by-pixel.
Napi::Value RgbFrames(Napi::Env env, DcmDataset& ds, const Source& s, const Layout& l) {
  DicomImage image(&ds, EXS_LittleEndianExplicit, CIF_MayDetachPixelData, 0, l.frames);
  if (image.getStatus() != EIS_Normal)
    Fail(kCorrupt, std::string("the colour image does not decode (transfer syntax ") + s.xferUid + "): " +
                       DicomImage::getString(image.getStatus()));
  if (image.isMonochrome()) Fail(kCorrupt, "a colour Photometric Interpretation decodes as monochrome");
  const unsigned long size = image.getOutputDataSize(8);
  if (size != size_t{l.rows} * l.columns * 3) Fail(kCorrupt, "the colour image size does not match Rows x Columns");
  Napi::Array frames = Napi::Array::New(env, l.frames);
  for (uint32_t f = 0; f < l.frames; ++f) {
    Napi::Uint8Array out = Napi::Uint8Array::New(env, size);
    if (image.getOutputData(out.Data(), size, 8, f, 0) == 0)
      Fail(kCorrupt, "frame " + std::to_string(f + 1) + " of the colour image does not decode (transfer syntax " + s.xferUid + ")");
    frames.Set(f, out);
  }
  return frames;
}

Napi::Value NumbersValue(Napi::Env env, const std::vector<double>& values) {
  Napi::Array a = Napi::Array::New(env, values.size());
  for (size_t i = 0; i < values.size(); ++i) a.Set(static_cast<uint32_t>(i), Napi::Number::New(env, values[i]));
  return a;
}

void SetText(Napi::Env env, Napi::Object& o, const char* key, DcmDataset& ds, const DcmTagKey& tag) {
  const auto v = Text(ds, tag);
  if (v) o.Set(key, Napi::String::New(env, *v));
}

void SetNumbers(Napi::Env env, Napi::Object& o, const char* key, const std::vector<double>& values) {
  if (!values.empty()) o.Set(key, NumbersValue(env, values));
}

Napi::Object FrameGeometry(Napi::Env env, DcmDataset& ds, uint32_t frame) {
  Napi::Object g = Napi::Object::New(env);
  SetNumbers(env, g, "pixelSpacing", FrameNumbers(ds, frame, DCM_PixelMeasuresSequence, DCM_PixelSpacing));
  SetNumbers(env, g, "rescaleSlope", FrameNumbers(ds, frame, DCM_PixelValueTransformationSequence, DCM_RescaleSlope));
  SetNumbers(env, g, "rescaleIntercept", FrameNumbers(ds, frame, DCM_PixelValueTransformationSequence, DCM_RescaleIntercept));
  SetNumbers(env, g, "windowCenter", FrameNumbers(ds, frame, DCM_FrameVOILUTSequence, DCM_WindowCenter));
  SetNumbers(env, g, "windowWidth", FrameNumbers(ds, frame, DCM_FrameVOILUTSequence, DCM_WindowWidth));
  SetNumbers(env, g, "imagePositionPatient", FrameNumbers(ds, frame, DCM_PlanePositionSequence, DCM_ImagePositionPatient));
  SetNumbers(env, g, "imageOrientationPatient", FrameNumbers(ds, frame, DCM_PlaneOrientationSequence, DCM_ImageOrientationPatient));
  return g;
}

Napi::Value Decode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() != 1 || !info[0].IsBuffer()) {
    Napi::TypeError::New(env, "decodeDicomPixels(bytes: Buffer)").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  Napi::Buffer<uint8_t> bytes = info[0].As<Napi::Buffer<uint8_t>>();
  Source s = Read(bytes.Data(), bytes.Length());
  DcmDataset& ds = *s.ds;
  if (!ds.tagExists(DCM_PixelData, OFFalse)) {
    if (ds.tagExists(DCM_FloatPixelData, OFFalse) || ds.tagExists(DCM_DoubleFloatPixelData, OFFalse))
      Fail(kUnsupportedLayout, "float pixel data is not supported");
    Fail(kNoPixelData, "the instance has no Pixel Data");
  }
  const Layout l = ReadLayout(ds, s.xferUid);
  Napi::Object o = Napi::Object::New(env);
  o.Set("transferSyntaxUid", Napi::String::New(env, s.xferUid));
  o.Set("rows", Napi::Number::New(env, l.rows));
  o.Set("columns", Napi::Number::New(env, l.columns));
  o.Set("numberOfFrames", Napi::Number::New(env, l.frames));
  o.Set("samplesPerPixel", Napi::Number::New(env, l.samplesPerPixel));
  o.Set("photometricInterpretation", Napi::String::New(env, l.photometric));
  o.Set("bitsAllocated", Napi::Number::New(env, l.bitsAllocated));
  o.Set("bitsStored", Napi::Number::New(env, l.bitsStored));
  o.Set("pixelRepresentation", Napi::Number::New(env, l.pixelRepresentation));
  SetText(env, o, "sopClassUid", ds, DCM_SOPClassUID);
  SetText(env, o, "sopInstanceUid", ds, DCM_SOPInstanceUID);
  SetText(env, o, "studyInstanceUid", ds, DCM_StudyInstanceUID);
  SetText(env, o, "seriesInstanceUid", ds, DCM_SeriesInstanceUID);
  SetText(env, o, "modality", ds, DCM_Modality);
  SetText(env, o, "bodyPartExamined", ds, DCM_BodyPartExamined);
  SetText(env, o, "studyDescription", ds, DCM_StudyDescription);
  SetText(env, o, "seriesDescription", ds, DCM_SeriesDescription);
  SetText(env, o, "viewPosition", ds, DCM_ViewPosition);
  SetNumbers(env, o, "instanceNumber", Numbers(ds, DCM_InstanceNumber));
  SetNumbers(env, o, "imagerPixelSpacing", Numbers(ds, DCM_ImagerPixelSpacing));
  SetNumbers(env, o, "sliceThickness", Numbers(ds, DCM_SliceThickness));
  SetNumbers(env, o, "spacingBetweenSlices", Numbers(ds, DCM_SpacingBetweenSlices));
  Napi::Array geometry = Napi::Array::New(env, l.frames);
  for (uint32_t f = 0; f < l.frames; ++f) geometry.Set(f, FrameGeometry(env, ds, f));
  o.Set("frameGeometry", geometry);
  if (IsJpeg2000(s.xfer)) {
    // Debian's DCMTK has no JPEG 2000 codec: plugin/pixels decodes these frames (OpenJPEG, wasm).
    const std::vector<std::vector<uint8_t>> encoded = EncapsulatedFrames(ds, s, l);
    Napi::Array frames = Napi::Array::New(env, encoded.size());
    for (size_t f = 0; f < encoded.size(); ++f)
      frames.Set(static_cast<uint32_t>(f), Napi::Buffer<uint8_t>::Copy(env, encoded[f].data(), encoded[f].size()));
    o.Set("encoding", Napi::String::New(env, "jpeg2000"));
    o.Set("frames", frames);
    return o;
  }
  Decompress(ds, s);
  const bool grayscale = l.samplesPerPixel == 1 && (l.photometric == "MONOCHROME1" || l.photometric == "MONOCHROME2");
  if (l.samplesPerPixel == 1 && !grayscale && l.photometric != "PALETTE COLOR")
    Fail(kUnsupportedLayout, "Photometric Interpretation " + l.photometric + " with one sample is not supported");
  o.Set("encoding", Napi::String::New(env, grayscale ? "stored" : "rgb8"));
  o.Set("frames", grayscale ? StoredFrames(env, ds, s, l) : RgbFrames(env, ds, s, l));
  return o;
}

[[noreturn]] void ThrowJs(Napi::Env env, const char* code, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  throw error;
}

Napi::Value GuardedDecode(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  try {
    return Decode(info);
  } catch (const Napi::Error&) {
    throw;
  } catch (const PixelFailure& failure) {
    ThrowJs(env, failure.code(), failure.what());
  } catch (const std::bad_alloc&) {
    ThrowJs(env, kCorrupt, "out of memory while decoding the pixel data");
  } catch (const std::exception& e) {
    ThrowJs(env, kCorrupt, std::string("internal error while decoding the pixel data: ") + e.what());
  } catch (...) {
    ThrowJs(env, kCorrupt, "internal error while decoding the pixel data");
  }
}

}  // namespace detail

void RegisterPixels(Napi::Env env, Napi::Object exports) {
  static std::once_flag once;
  std::call_once(once, [] {
    aibridge::dicom::PrepareDcmtk();
    DJDecoderRegistration::registerCodecs();
    DJLSDecoderRegistration::registerCodecs();
    DcmRLEDecoderRegistration::registerCodecs();
  });
  exports.Set("decodeDicomPixels", Napi::Function::New(env, detail::GuardedDecode, "decodeDicomPixels"));
}

}  // namespace aibridge::pixels
