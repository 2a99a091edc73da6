#include "dicom-io.h"

#include <dcmtk/dcmdata/dcistrmb.h>
#include <dcmtk/dcmdata/dcostrmb.h>
#include <dcmtk/dcmdata/dcspchrs.h>
#include <dcmtk/oflog/oflog.h>
#include <dcmtk/ofstd/ofconsol.h>

#include <cstring>
#include <exception>
#include <functional>
#include <pthread.h>
#include <mutex>
#include <ostream>
#include <streambuf>
#include <vector>

#include "dicom-charset.h"
#include "dicom-errors.h"
#include "dicom-values.h"

namespace aibridge::dicom {

namespace {

class NullBuffer : public std::streambuf {
 protected:
  int overflow(int c) override { return c == traits_type::eof() ? 0 : c; }
  std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

// Nesting depth, bounded: stops counting at limit + 1.
int Depth(DcmItem& item, int depth, int limit) {
  if (depth > limit) return depth;
  int deepest = depth;
  for (DcmObject* o = item.nextInContainer(nullptr); o != nullptr; o = item.nextInContainer(o)) {
    if (o->ident() != EVR_SQ) continue;
    auto* seq = static_cast<DcmSequenceOfItems*>(o);
    for (DcmObject* i = seq->nextInContainer(nullptr); i != nullptr; i = seq->nextInContainer(i)) {
      int d = Depth(*static_cast<DcmItem*>(i), depth + 1, limit);
      if (d > deepest) deepest = d;
      if (deepest > limit) return deepest;
    }
  }
  return deepest;
}

bool HasPreamble(const uint8_t* data, size_t length) {
  return length >= 132 && std::memcmp(data + 128, "DICM", 4) == 0;
}


}  // namespace

void PrepareDcmtk() {
  static std::once_flag once;
  std::call_once(once, [] {
    OFLog::configure(OFLogger::OFF_LOG_LEVEL);
    static NullBuffer nullBuffer;
    static std::ostream nullStream(&nullBuffer);
    ofConsole.setCout(&nullStream);
    ofConsole.setCerr(&nullStream);
    // The data dictionary is a file (/usr/share/libdcmtk*/dicom.dic): load it before the seal.
    (void)dcmDataDict.isDictionaryLoaded();
    // glibc's gconv modules are files: open every converter now, before the seal.
    WarmUpCharsets();
  });
}

namespace {

// Transfer syntaxes published after DCMTK 3.6.7, named in the refusal so an administrator knows what arrived.
std::string KnownSyntaxName(const std::string& uid) {
  static const std::pair<const char*, const char*> kNames[] = {
      {"1.2.840.10008.1.2.4.110", "JPEG XL Lossless"}, {"1.2.840.10008.1.2.4.111", "JPEG XL JPEG Recompression"},
      {"1.2.840.10008.1.2.4.112", "JPEG XL"}, {"1.2.840.10008.1.2.4.201", "HTJ2K Lossless"},
      {"1.2.840.10008.1.2.4.202", "HTJ2K Lossless RPCL"}, {"1.2.840.10008.1.2.4.203", "HTJ2K"},
      {"1.2.840.10008.1.2.4.204", "JPIP HTJ2K Referenced"}, {"1.2.840.10008.1.2.4.205", "JPIP HTJ2K Referenced Deflate"}};
  for (const auto& [known, name] : kNames)
    if (uid == known) return std::string(" (") + name + ")";
  return "";
}

// Nesting bound without parsing: every level needs one item tag (FFFE,E000), in either byte order.
size_t CountItemTags(const uint8_t* data, size_t length, size_t stopAt) {
  size_t count = 0;
  for (const char* pattern : {"\xFE\xFF\x00\xE0", "\xFF\xFE\xE0\x00"}) {
    const uint8_t* p = data;
    const uint8_t* end = data + length;
    while (count <= stopAt) {
      const void* hit = memmem(p, static_cast<size_t>(end - p), pattern, 4);
      if (hit == nullptr) break;
      ++count;
      p = static_cast<const uint8_t*>(hit) + 4;
    }
  }
  return count;
}

// DCMTK's reader (and the destructors) recurse once per nesting level, ~1.5 KiB of stack each.
constexpr size_t kInlineItemLimit = 1000;       // safe on any thread (Node workers have 4 MiB)
constexpr size_t kThreadItemLimit = 150000;     // fits the 256 MiB stack below
constexpr size_t kParseThreadStack = size_t{256} << 20;

// Reads the structure and checks the nesting; on failure the partial tree is destroyed here
// (on the same stack that could hold it).
void ReadStructure(const uint8_t* data, size_t length, Parsed& p) {
  p.file = std::make_unique<DcmFileFormat>();
  DcmInputBufferStream in;
  in.setBuffer(data, static_cast<offile_off_t>(length));
  in.setEos();
  p.file->transferInit();
  OFCondition cond = p.file->read(in, EXS_Unknown, EGL_noChange, DCM_MaxReadLength);
  p.file->transferEnd();
  DcmDataset* ds = p.file->getDataset();
  try {
    if (cond.bad()) {
      if (HasPreamble(data, length)) Fail(kTruncated, "the DICOM stream ends early or is damaged");
      Fail(kNotDicom, "input does not parse as DICOM");
    }
    if (ds == nullptr) Fail(kNotDicom, "input does not parse as DICOM");
    if (Depth(*ds, 0, kMaxDepth) > kMaxDepth)
      Fail(kNotDicom, "sequence nesting deeper than " + std::to_string(kMaxDepth) + " levels");
  } catch (...) {
    p.file.reset();
    throw;
  }
}

struct ThreadJob {
  const uint8_t* data;
  size_t length;
  Parsed* parsed;
  std::exception_ptr error;
};

void* RunReadStructure(void* arg) {
  auto* job = static_cast<ThreadJob*>(arg);
  try {
    ReadStructure(job->data, job->length, *job->parsed);
  } catch (...) {
    job->error = std::current_exception();
  }
  return nullptr;
}

void ReadStructureOnBigStack(const uint8_t* data, size_t length, Parsed& p) {
  ThreadJob job{data, length, &p, nullptr};
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setstacksize(&attr, kParseThreadStack);
  pthread_t thread;
  int rc = pthread_create(&thread, &attr, RunReadStructure, &job);
  pthread_attr_destroy(&attr);
  if (rc != 0) Fail(kNotDicom, "input nests too many sequence items to parse safely here");
  pthread_join(thread, nullptr);
  if (job.error) std::rethrow_exception(job.error);
}

}  // namespace

Parsed ParseDicomBytes(const uint8_t* data, size_t length) {
  if (length < 8) Fail(kNotDicom, "input is too short to be DICOM");
  Parsed p;
  const size_t items = length / 16 <= kInlineItemLimit ? 0 : CountItemTags(data, length, kThreadItemLimit);
  if (items > kThreadItemLimit) Fail(kNotDicom, "input has more than " + std::to_string(kThreadItemLimit) + " sequence items");
  if (items > kInlineItemLimit) ReadStructureOnBigStack(data, length, p);
  else ReadStructure(data, length, p);
  DcmDataset* ds = p.file->getDataset();
  p.xfer = ds->getOriginalXfer();
  if (p.xfer == EXS_Unknown) Fail(kNotDicom, "input has no recognisable transfer syntax");
  OFString metaXfer;
  if (p.file->getMetaInfo()->findAndGetOFString(DCM_TransferSyntaxUID, metaXfer).good()) p.metaXferUid = TrimPadding(metaXfer.c_str());
  // A syntax DCMTK 3.6.7 does not know (JPEG XL, HTJ2K, ...): it guesses an uncompressed one and
  // would write the encapsulated pixel data back under that wrong name.
  if (!p.metaXferUid.empty() && DcmXfer(p.metaXferUid.c_str()).getXfer() == EXS_Unknown)
    Fail(kUnknownTransferSyntax, "transfer syntax " + p.metaXferUid + KnownSyntaxName(p.metaXferUid) +
                                     " is not known to DCMTK 3.6.7: the copy cannot be written in it (Orthanc 1.10's /anonymize refuses it too)");
  // Orthanc 1.10 stores an instance whose SOP Instance UID is not a valid UID and indexes it by the
  // value as written; the worker does the same (the keyed remap makes it a valid 2.25 UID). Only an
  // absent or empty one is refused, as Orthanc refuses it ("Inexistent tag", "missing ... SOPInstanceUID").
  DcmElement* sopInstance = nullptr;
  if (ds->findAndGetElement(DCM_SOPInstanceUID, sopInstance, OFFalse).bad() || sopInstance == nullptr ||
      TrimPadding(RawString(sopInstance)).empty())
    Fail(kNotDicom, "input has no SOP Instance UID (0008,0018); Orthanc refuses such a file too, and the copy would have no identity to link to");
  DcmElement* charset = nullptr;
  if (ds->findAndGetElement(DCM_SpecificCharacterSet, charset, OFFalse).good() && charset != nullptr)
    p.originalCharset = std::string(TrimPadding(RawString(charset)));
  DecodeTextToUtf8(*ds, p.originalCharset, p.undecodable);
  return p;
}

size_t EncodePart10(DcmFileFormat& file, E_TransferSyntax xfer, const std::function<uint8_t*(size_t)>& allocate,
                    uint8_t*& data) {
  E_TransferSyntax oxfer = DcmXfer(xfer).isEncapsulated() ? xfer : EXS_LittleEndianExplicit;
  // A fresh file format: new meta header from the (already mapped) dataset, zero preamble
  // (the input's preamble may carry anything).
  DcmFileFormat out(file.getAndRemoveDataset(), OFFalse);
  DcmDataset* ds = out.getDataset();
  if (!ds->canWriteXfer(oxfer, xfer)) oxfer = xfer;  // e.g. a deflated SEG DCMTK cannot re-encode: keep its syntax
  if (!ds->canWriteXfer(oxfer, xfer)) Fail(kWriteFailed, "the dataset cannot be written in the output transfer syntax");
  if (out.validateMetaInfo(oxfer).bad()) Fail(kWriteFailed, "cannot build the file meta information");
  const size_t estimate = (static_cast<size_t>(out.calcElementLength(oxfer, EET_ExplicitLength)) + 132 + 4096 + 1) & ~size_t{1};
  data = allocate(estimate);
  DcmOutputBufferStream os(data, static_cast<offile_off_t>(estimate));
  out.transferInit();
  OFCondition cond = out.write(os, oxfer, EET_ExplicitLength, nullptr, EGL_withoutGL, EPD_withoutPadding, 0, 0, 0,
                               EWM_dontUpdateMeta);
  out.transferEnd();
  void* written = nullptr;
  offile_off_t length = 0;
  os.flushBuffer(written, length);
  if (cond == EC_StreamNotifyClient) Fail(kWriteFailed, "output larger than its computed length");
  if (cond.bad()) Fail(kWriteFailed, std::string("cannot encode the output: ") + cond.text());
  return static_cast<size_t>(length);
}

Napi::Value WritePart10(Napi::Env env, DcmFileFormat& file, E_TransferSyntax xfer) {
  Napi::Buffer<uint8_t> buffer;
  uint8_t* data = nullptr;
  const size_t length = EncodePart10(file, xfer, [&](size_t size) {
    buffer = Napi::Buffer<uint8_t>::New(env, size);
    return buffer.Data();
  }, data);
  if (length == buffer.Length()) return buffer;
  Napi::Function subarray = buffer.Get("subarray").As<Napi::Function>();
  return subarray.Call(buffer, {Napi::Number::New(env, 0), Napi::Number::New(env, static_cast<double>(length))});
}

}  // namespace aibridge::dicom
