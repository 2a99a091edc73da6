#include "dicom-document.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "dicom-apply.h"
#include "dicom-errors.h"
#include "dicom-inspect.h"
#include "dicom-io.h"
#include "dicom-napi.h"
#include "dicom-pixels.h"
#include "dicom-policy.h"
#include "dicom-routing.h"
#include "dicom-splice.h"
#include "dicom-values.h"

namespace aibridge {

namespace {

using namespace aibridge::dicom;

const napi_type_tag kDocumentTag = {0x3f1e2d3c4b5a6978ULL, 0x0a1b2c3d4e5f6a7bULL};

// One parsed instance. Single use: apply() rewrites the dataset in place (no copy of the
// pixel data) and releases it; inspect() after apply(), or a second apply(), throws.
class DicomDocument : public Napi::ObjectWrap<DicomDocument> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "DicomDocument",
                       {InstanceMethod<&DicomDocument::InspectJs>("inspect"),
                        InstanceMethod<&DicomDocument::RoutingJs>("routing"),
                        InstanceMethod<&DicomDocument::ApplyJs>("apply"),
                        InstanceMethod<&DicomDocument::ApplyToFileJs>("applyToFile"),
                        InstanceMethod<&DicomDocument::StoredPixelsJs>("storedPixels"),
                        InstanceMethod<&DicomDocument::ReplacePixelsJs>("replacePixels"),
                        InstanceMethod<&DicomDocument::DisposeJs>("dispose")});
  }

  explicit DicomDocument(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DicomDocument>(info) {}
  ~DicomDocument() override { Release(); }

  /** An instance read from a file: the header parsed, the pixel data left in the file to be spliced. */
  void AdoptFile(Napi::Env env, Parsed parsed, size_t bytes, int fd, uint64_t fileSize, std::optional<PixelSplice> splice) {
    Adopt(env, std::move(parsed), bytes, std::string(), fileSize);
    inputFd_ = fd;
    splice_ = std::move(splice);
  }

  // `sha256`: of the input bytes; '' for a file, hashed from its descriptor when routing() asks.
  void Adopt(Napi::Env env, Parsed parsed, size_t bytes, std::string sha256, uint64_t inputSize) {
    routing_.xfer = parsed.xfer;
    routing_.originalCharset = parsed.originalCharset;
    routing_.sha256 = std::move(sha256);
    routing_.sizeBytes = inputSize;
    parsed_ = std::move(parsed);
    env_ = env;
    externalBytes_ = static_cast<int64_t>(bytes);
    Napi::MemoryManagement::AdjustExternalMemory(env, externalBytes_);
  }

 private:
  Napi::Value InspectJs(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      const CompiledPolicy& policy = UnwrapPolicy(info[0]);
      return Inspect(info.Env(), *Dataset(), policy, parsed_.originalCharset, parsed_.undecodable);
    });
  }

  // The RoutingFacts of the original (plugin/core/routing-facts.ts), before apply() consumes it.
  // routing(false): no SHA-256 of a file input (sha256 ''): a caller that records no hash (the
  // deid command) is spared one pass over every byte of the file.
  Napi::Value RoutingJs(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      Dataset();  // throws once the document is applied or disposed
      const bool hash = info.Length() < 1 || !info[0].IsBoolean() || info[0].As<Napi::Boolean>().Value();
      if (hash && routing_.sha256.empty() && inputFd_ >= 0) routing_.sha256 = Sha256OfFile(inputFd_, routing_.sizeBytes);
      return Routing(info.Env(), *parsed_.file, routing_);
    });
  }

  Napi::Value ApplyJs(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      const CompiledPolicy& policy = UnwrapPolicy(info[0]);
      ApplyPlan plan = ReadPlan(info[1]);
      DcmDataset* ds = Dataset();
      // From here on the document is consumed, whatever happens.
      std::unique_ptr<DcmFileFormat> file = std::move(parsed_.file);
      ApplyToDataset(*ds, policy, plan, parsed_.undecodable);
      Napi::Object scan = ScanCategory(info.Env(), *ds);
      Napi::Value bytes = WritePart10(info.Env(), *file, parsed_.xfer);
      file.reset();
      Release();
      Napi::Object out = Napi::Object::New(info.Env());
      out.Set("bytes", bytes);
      out.Set("scan", scan);
      return out;
    });
  }

  // applyToFile(policy, plan, path): like apply, but the output goes to `path` (through a
  // temporary name) and an input opened from a file has its pixel data copied file to file.
  Napi::Value ApplyToFileJs(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      const CompiledPolicy& policy = UnwrapPolicy(info[0]);
      ApplyPlan plan = ReadPlan(info[1]);
      if (info.Length() < 3 || !info[2].IsString()) Fail(kBadPlan, "applyToFile expects an output path");
      const std::string path = info[2].As<Napi::String>().Utf8Value();
      DcmDataset* ds = Dataset();
      std::unique_ptr<DcmFileFormat> file = std::move(parsed_.file);
      ApplyToDataset(*ds, policy, plan, parsed_.undecodable);
      Napi::Object scan = ScanCategory(info.Env(), *ds);
      // Pixel data goes through only when the profile keeps it.
      const PixelSplice* splice =
          splice_ && policy.PublicAction(0x7FE0, 0x0010) == Action::Keep ? &*splice_ : nullptr;
      std::vector<uint8_t> header;
      uint8_t* data = nullptr;
      const size_t length = EncodePart10(*file, parsed_.xfer, [&](size_t size) {
        header.resize(size);
        return header.data();
      }, data);
      file.reset();
      const uint64_t written = WriteOutputFile(path, data, length, splice, inputFd_);
      Release();
      Napi::Object result = Napi::Object::New(info.Env());
      result.Set("sizeBytes", Napi::Number::New(info.Env(), static_cast<double>(written)));
      result.Set("pixelDataSpliced", Napi::Boolean::New(info.Env(), splice != nullptr));
      result.Set("scan", scan);
      return result;
    });
  }

  // Clean Pixel Data: the stored samples of every frame (plugin/deid/burned-in/stored-image.ts).
  Napi::Value StoredPixelsJs(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      if (splice_) Fail(kBadPlan, "storedPixels needs a document from parseDicom (the file's pixel data is not parsed)");
      return pixels::StoredPixelsJs(info.Env(), *Dataset(), parsed_.xfer);
    });
  }

  // The cleaned samples replace the pixel data; the output is then Explicit VR Little Endian.
  Napi::Value ReplacePixelsJs(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      if (splice_) Fail(kBadPlan, "replacePixels needs a document from parseDicom (the file's pixel data is not parsed)");
      pixels::ReplacePixelDataJs(info.Env(), *Dataset(), info[0]);
      parsed_.xfer = EXS_LittleEndianExplicit;
      return info.Env().Undefined();
    });
  }

  Napi::Value DisposeJs(const Napi::CallbackInfo& info) {
    parsed_.file.reset();
    Release();
    return info.Env().Undefined();
  }

  DcmDataset* Dataset() {
    if (!parsed_.file) Fail(kBadPlan, "the document was already applied or disposed (single use)");
    return parsed_.file->getDataset();
  }

  void Release() {
    parsed_.file.reset();
    if (inputFd_ >= 0) close(inputFd_);
    inputFd_ = -1;
    splice_.reset();
    if (externalBytes_ != 0 && env_ != nullptr) {
      Napi::MemoryManagement::AdjustExternalMemory(env_, -externalBytes_);
      externalBytes_ = 0;
    }
  }

  Parsed parsed_;
  RoutingInput routing_;
  napi_env env_ = nullptr;
  int64_t externalBytes_ = 0;
  int inputFd_ = -1;
  std::optional<PixelSplice> splice_;
};

// The file stays open in the document: the splice copies from it at apply time.
Napi::Value OpenDicomFile(const Napi::CallbackInfo& info, Napi::FunctionReference& ctor) {
  if (info.Length() < 1 || !info[0].IsString()) Fail(kNotDicom, "openDicomFile expects a path");
  const std::string path = info[0].As<Napi::String>().Utf8Value();
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) Fail(kWriteFailed, std::string("cannot open the input: ") + std::strerror(errno));
  try {
    struct stat st {};
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) Fail(kNotDicom, "the input is not a regular file");
    SplitInput input = ReadForSplice(fd, static_cast<uint64_t>(st.st_size), "the input");
    Parsed parsed = ParseDicomBytes(input.bytes.data(), input.bytes.size());
    Napi::Object doc = ctor.New({});
    doc.TypeTag(&kDocumentTag);
    DicomDocument::Unwrap(doc)->AdoptFile(info.Env(), std::move(parsed), input.bytes.size(), fd, static_cast<uint64_t>(st.st_size),
                                          std::move(input.splice));
    return doc;
  } catch (...) {
    close(fd);
    throw;
  }
}

Napi::Value ShiftDicomDate(const Napi::CallbackInfo& info) {
  return Guard(info.Env(), [&]() -> Napi::Value {
    if (info.Length() < 3 || !info[0].IsString() || !info[1].IsString() || !info[2].IsNumber())
      Fail(kBadPlan, "shiftDicomDate expects (value: string, vr: 'DA' | 'DT', days: number)");
    std::string value = info[0].As<Napi::String>().Utf8Value();
    std::string vr = info[1].As<Napi::String>().Utf8Value();
    if (vr != "DA" && vr != "DT") Fail(kBadPlan, "shiftDicomDate: vr is not DA or DT");
    double days = info[2].As<Napi::Number>().DoubleValue();
    if (!(days >= -3650000 && days <= 3650000) || days != static_cast<double>(static_cast<int64_t>(days)))
      Fail(kBadPlan, "shiftDicomDate: days is not an integer within ±10000 years");
    std::string out;
    if (!ShiftDateMulti(value, vr == "DT", static_cast<int64_t>(days), out)) return info.Env().Null();
    return Napi::String::New(info.Env(), out);
  });
}

}  // namespace

void RegisterDicom(Napi::Env env, Napi::Object exports) {
  PrepareDcmtk();
  RegisterPolicy(env, exports);
  auto ctor = std::make_shared<Napi::FunctionReference>(Napi::Persistent(DicomDocument::Define(env)));
  exports.Set("parseDicom", Napi::Function::New(env, [ctor](const Napi::CallbackInfo& info) -> Napi::Value {
    return Guard(info.Env(), [&]() -> Napi::Value {
      if (info.Length() < 1 || !info[0].IsBuffer()) Fail(kNotDicom, "parseDicom expects a Buffer");
      Napi::Buffer<uint8_t> bytes = info[0].As<Napi::Buffer<uint8_t>>();
      Parsed parsed = ParseDicomBytes(bytes.Data(), bytes.Length());
      Napi::Object doc = ctor->New({});
      doc.TypeTag(&kDocumentTag);
      DicomDocument::Unwrap(doc)->Adopt(info.Env(), std::move(parsed), bytes.Length(), Sha256Hex(bytes.Data(), bytes.Length()),
                                        bytes.Length());
      return doc;
    });
  }, "parseDicom"));
  exports.Set("openDicomFile", Napi::Function::New(env, [ctor](const Napi::CallbackInfo& info) -> Napi::Value {
    return Guard(info.Env(), [&]() -> Napi::Value { return OpenDicomFile(info, *ctor); });
  }, "openDicomFile"));
  exports.Set("shiftDicomDate", Napi::Function::New(env, ShiftDicomDate, "shiftDicomDate"));
}

}  // namespace aibridge
