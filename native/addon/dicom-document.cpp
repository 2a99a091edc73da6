#include "dicom-document.h"

#include <memory>
#include <string>

#include "dicom-apply.h"
#include "dicom-errors.h"
#include "dicom-inspect.h"
#include "dicom-io.h"
#include "dicom-napi.h"
#include "dicom-policy.h"
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
                        InstanceMethod<&DicomDocument::ApplyJs>("apply"),
                        InstanceMethod<&DicomDocument::DisposeJs>("dispose")});
  }

  explicit DicomDocument(const Napi::CallbackInfo& info) : Napi::ObjectWrap<DicomDocument>(info) {}
  ~DicomDocument() override { Release(); }

  void Adopt(Napi::Env env, Parsed parsed, size_t bytes) {
    parsed_ = std::move(parsed);
    env_ = env;
    externalBytes_ = static_cast<int64_t>(bytes);
    Napi::MemoryManagement::AdjustExternalMemory(env, externalBytes_);
  }

 private:
  Napi::Value InspectJs(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      const CompiledPolicy& policy = UnwrapPolicy(info[0]);
      return Inspect(info.Env(), *Dataset(), policy, parsed_.originalCharset);
    });
  }

  Napi::Value ApplyJs(const Napi::CallbackInfo& info) {
    return Guard(info.Env(), [&]() -> Napi::Value {
      const CompiledPolicy& policy = UnwrapPolicy(info[0]);
      ApplyPlan plan = ReadPlan(info[1]);
      DcmDataset* ds = Dataset();
      // From here on the document is consumed, whatever happens.
      std::unique_ptr<DcmFileFormat> file = std::move(parsed_.file);
      ApplyToDataset(*ds, policy, plan);
      Napi::Value out = WritePart10(info.Env(), *file, parsed_.xfer);
      file.reset();
      Release();
      return out;
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
    if (externalBytes_ != 0 && env_ != nullptr) {
      Napi::MemoryManagement::AdjustExternalMemory(env_, -externalBytes_);
      externalBytes_ = 0;
    }
  }

  Parsed parsed_;
  napi_env env_ = nullptr;
  int64_t externalBytes_ = 0;
};

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
      DicomDocument::Unwrap(doc)->Adopt(info.Env(), std::move(parsed), bytes.Length());
      return doc;
    });
  }, "parseDicom"));
  exports.Set("shiftDicomDate", Napi::Function::New(env, ShiftDicomDate, "shiftDicomDate"));
}

}  // namespace aibridge
