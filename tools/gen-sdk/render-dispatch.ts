import { enumTypeName, numericType } from './c-types';
import type { ClassifiedFunction, GeneratedCall, ParamRole } from './classify';
import type { CodeModel, EnumModel } from './code-model';
import { publicMembers } from './render-enums';
import { banner } from './render-text';

// Fixed C++ helpers. Arguments are read with bool-returning helpers instead of
// exceptions: DispatchSdkCall must never throw, and the one try/catch at the
// top only has to catch what jsoncpp or the allocator might throw.
const PRELUDE = `
#include "../sdk-dispatch.h"

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <string>
#include <type_traits>
#include <unordered_map>

namespace aibridge {
namespace {

void Fail(SdkCallResult& out, OrthancPluginErrorCode code, const std::string& error) {
  out.ok = false;
  out.code = static_cast<int32_t>(code);
  out.error = error;
  out.value = Json::Value();
  out.body.clear();
  out.hasBody = false;
}

// An OrthancPluginErrorCode return other than Success: report Orthanc's own words.
void FailWithOrthancCode(OrthancPluginContext* context, SdkCallResult& out, OrthancPluginErrorCode code) {
  const char* description = OrthancPluginGetErrorDescription(context, code);
  Fail(out, code, description != NULL ? std::string(description)
                                      : "Orthanc error " + std::to_string(static_cast<int32_t>(code)));
}

bool FailArgument(SdkCallResult& out, const char* name, const char* problem) {
  Fail(out, OrthancPluginErrorCode_ParameterOutOfRange, std::string("argument \\"") + name + "\\" " + problem);
  return false;
}

// Rejects argument names the call does not have, so a typo on the TypeScript
// side is an error rather than a silently missing value.
bool CheckArgNames(const Json::Value& args, const char* const* names, std::size_t count, SdkCallResult& out) {
  if (args.isNull()) {
    return true;
  }
  if (!args.isObject()) {
    Fail(out, OrthancPluginErrorCode_ParameterOutOfRange, "args must be a JSON object");
    return false;
  }
  for (const std::string& key : args.getMemberNames()) {
    bool known = false;
    for (std::size_t i = 0; i < count; i++) {
      if (key == names[i]) {
        known = true;
        break;
      }
    }
    if (!known) {
      Fail(out, OrthancPluginErrorCode_ParameterOutOfRange, "unknown argument \\"" + key + "\\"");
      return false;
    }
  }
  return true;
}

bool CheckNoBody(const std::string& body, SdkCallResult& out) {
  if (!body.empty()) {
    Fail(out, OrthancPluginErrorCode_ParameterOutOfRange, "this call takes no body");
    return false;
  }
  return true;
}

template <typename T>
bool BodyFits(const std::string& body, const char* name, SdkCallResult& out) {
  if constexpr (sizeof(T) < sizeof(std::size_t)) {
    if (body.size() > static_cast<std::size_t>(std::numeric_limits<T>::max())) {
      return FailArgument(out, name, "is too large for its size parameter");
    }
  }
  return true;
}

bool ReadString(const Json::Value& args, const char* name, bool nullable, const char*& value, SdkCallResult& out) {
  if (!args.isMember(name)) {
    return FailArgument(out, name, "is missing");
  }
  const Json::Value& v = args[name];
  if (v.isNull()) {
    if (!nullable) {
      return FailArgument(out, name, "must be a string, not null");
    }
    value = NULL;
    return true;
  }
  if (!v.isString()) {
    return FailArgument(out, name, "must be a string");
  }
  const char* begin = NULL;
  const char* end = NULL;
  if (!v.getString(&begin, &end) || std::memchr(begin, 0, static_cast<std::size_t>(end - begin)) != NULL) {
    return FailArgument(out, name, "must not contain a NUL character");
  }
  value = v.asCString();
  return true;
}

template <typename T>
bool ReadInteger(const Json::Value& args, const char* name, T& value, SdkCallResult& out) {
  if (!args.isMember(name)) {
    return FailArgument(out, name, "is missing");
  }
  const Json::Value& v = args[name];
  if (!v.isIntegral()) {
    return FailArgument(out, name, "must be an integer");
  }
  if constexpr (std::is_signed<T>::value) {
    if (!v.isInt64()) {
      return FailArgument(out, name, "is out of range");
    }
    const Json::Int64 x = v.asInt64();
    if constexpr (sizeof(T) < sizeof(Json::Int64)) {
      if (x < static_cast<Json::Int64>(std::numeric_limits<T>::min()) ||
          x > static_cast<Json::Int64>(std::numeric_limits<T>::max())) {
        return FailArgument(out, name, "is out of range");
      }
    }
    value = static_cast<T>(x);
  } else {
    if (!v.isUInt64()) {
      return FailArgument(out, name, "is out of range");
    }
    const Json::UInt64 x = v.asUInt64();
    if constexpr (sizeof(T) < sizeof(Json::UInt64)) {
      if (x > static_cast<Json::UInt64>(std::numeric_limits<T>::max())) {
        return FailArgument(out, name, "is out of range");
      }
    }
    value = static_cast<T>(x);
  }
  return true;
}

template <typename T>
bool ReadReal(const Json::Value& args, const char* name, T& value, SdkCallResult& out) {
  if (!args.isMember(name)) {
    return FailArgument(out, name, "is missing");
  }
  const Json::Value& v = args[name];
  if (!v.isNumeric()) {
    return FailArgument(out, name, "must be a number");
  }
  const double x = v.asDouble();
  if (!(std::fabs(x) <= static_cast<double>(std::numeric_limits<T>::max()))) {
    return FailArgument(out, name, "is out of range");
  }
  value = static_cast<T>(x);
  return true;
}

bool ReadEnum(const Json::Value& args, const char* name, bool (*isValid)(int32_t), int32_t& value, SdkCallResult& out) {
  if (!ReadInteger<int32_t>(args, name, value, out)) {
    return false;
  }
  if (!isValid(value)) {
    return FailArgument(out, name, "is not a value of its enumeration");
  }
  return true;
}

// The OrthancPluginMemoryBuffer becomes the result frame body; Orthanc's copy is freed here.
void TakeBuffer(OrthancPluginContext* context, OrthancPluginErrorCode code, OrthancPluginMemoryBuffer& target,
                SdkCallResult& out) {
  if (code == OrthancPluginErrorCode_Success) {
    if (target.data != NULL && target.size > 0) {
      out.body.assign(static_cast<const char*>(target.data), target.size);
    }
    out.hasBody = true;
  } else {
    FailWithOrthancCode(context, out, code);
  }
  if (target.data != NULL) {
    OrthancPluginFreeMemoryBuffer(context, &target);
  }
}

// A char* return is Orthanc's allocation: copy it, then free it.
void TakeOwnedString(OrthancPluginContext* context, char* s, OrthancPluginErrorCode nullCode, const char* fn,
                     SdkCallResult& out) {
  if (s == NULL) {
    Fail(out, nullCode, std::string(fn) + " returned NULL");
    return;
  }
  try {
    out.value = Json::Value(s);
  } catch (...) {
    OrthancPluginFreeString(context, s);
    throw;
  }
  OrthancPluginFreeString(context, s);
}

// A const char* return belongs to Orthanc: copy it, never free it.
void CopyConstString(const char* s, OrthancPluginErrorCode nullCode, const char* fn, SdkCallResult& out) {
  if (s == NULL) {
    Fail(out, nullCode, std::string(fn) + " returned NULL");
    return;
  }
  out.value = Json::Value(s);
}
`;

function cppEnumValidator(e: EnumModel): string {
  const name = `Is${enumTypeName(e.name)}`;
  const values = [...new Set(publicMembers(e).map((m) => m.value))].sort((a, b) => a - b);
  if (e.name.endsWith('Flags')) {
    // A flags parameter is any bitwise OR of the members.
    const mask = values.reduce((acc, v) => acc | v, 0) >>> 0;
    return `bool ${name}(int32_t v) {\n  return v >= 0 && (static_cast<uint32_t>(v) & ~static_cast<uint32_t>(${mask}u)) == 0;\n}\n`;
  }
  return `bool ${name}(int32_t v) {\n  switch (v) {\n${values.map((v) => `    case ${v}:\n`).join('')}      return true;\n    default:\n      return false;\n  }\n}\n`;
}

// Header doc of a NULL-returning lookup ("The NULL value if the patient is
// non-existent") means "not found": answer UnknownResource (404), which the
// gateway does not retry; any other NULL is a plugin-level failure.
function nullCodeOf(call: GeneratedCall): string {
  return /\bNULL\b[^.]*\b(non-existent|not found|does not exist|unknown)\b/i.test(call.fn.doc.returns)
    ? 'OrthancPluginErrorCode_UnknownResource'
    : 'OrthancPluginErrorCode_Plugin';
}

function readArg(p: ParamRole): string {
  const v = `arg_${p.name}`;
  switch (p.role) {
    case 'string':
      return `  const char* ${v} = NULL;\n  if (!ReadString(args, "${p.name}", ${p.nullable ? 'true' : 'false'}, ${v}, out)) {\n    return;\n  }\n`;
    case 'number': {
      const reader = numericType(p.cType)?.integer === true ? 'ReadInteger' : 'ReadReal';
      return `  ${p.cType} ${v} = 0;\n  if (!${reader}<${p.cType}>(args, "${p.name}", ${v}, out)) {\n    return;\n  }\n`;
    }
    case 'enum':
      return `  int32_t ${v} = 0;\n  if (!ReadEnum(args, "${p.name}", &Is${enumTypeName(p.enumModel.name)}, ${v}, out)) {\n    return;\n  }\n`;
    case 'body':
      return '';
    case 'bodySize':
      return `  if (!BodyFits<${p.cType}>(body, "${p.name}", out)) {\n    return;\n  }\n`;
    case 'context':
    case 'target':
      return '';
  }
}

function passArg(p: ParamRole): string {
  switch (p.role) {
    case 'context':
      return 'context';
    case 'target':
      return '&target';
    case 'string':
    case 'number':
      return `arg_${p.name}`;
    case 'enum':
      return `static_cast<${p.enumModel.name}>(arg_${p.name})`;
    case 'body':
      return 'body.data()';
    case 'bodySize':
      return `static_cast<${p.cType}>(body.size())`;
  }
}

function renderHandler(call: GeneratedCall): string {
  const argNames = call.params.filter((p) => p.role === 'string' || p.role === 'number' || p.role === 'enum').map((p) => p.name);
  const hasBody = call.params.some((p) => p.role === 'body');
  let out = `// ${call.fn.name}\n`;
  out += `void Call_${call.wire}(OrthancPluginContext* context, const Json::Value& args, const std::string& body, SdkCallResult& out) {\n`;
  if (argNames.length > 0) {
    out += `  static const char* const kArgs[] = {${argNames.map((n) => `"${n}"`).join(', ')}};\n`;
    out += `  if (!CheckArgNames(args, kArgs, ${argNames.length}, out)) {\n    return;\n  }\n`;
  } else {
    out += '  if (!CheckArgNames(args, NULL, 0, out)) {\n    return;\n  }\n';
  }
  if (!hasBody) out += '  if (!CheckNoBody(body, out)) {\n    return;\n  }\n';
  out += call.params.map(readArg).join('');
  const invoke = `${call.fn.name}(${call.params.map(passArg).join(', ')})`;
  const nullCode = nullCodeOf(call);
  switch (call.result.role) {
    case 'void':
      out += `  ${invoke};\n`;
      break;
    case 'errorCode':
      out += `  const OrthancPluginErrorCode code = ${invoke};\n`;
      out += '  if (code != OrthancPluginErrorCode_Success) {\n    FailWithOrthancCode(context, out, code);\n  }\n';
      break;
    case 'buffer':
      out += '  OrthancPluginMemoryBuffer target;\n  target.data = NULL;\n  target.size = 0;\n';
      out += `  const OrthancPluginErrorCode code = ${invoke};\n`;
      out += '  TakeBuffer(context, code, target, out);\n';
      break;
    case 'ownedString':
      out += `  TakeOwnedString(context, ${invoke}, ${nullCode}, "${call.fn.name}", out);\n`;
      break;
    case 'constString':
      out += `  CopyConstString(${invoke}, ${nullCode}, "${call.fn.name}", out);\n`;
      break;
    case 'number': {
      const n = numericType(call.result.cType);
      const json =
        n?.integer !== true ? 'static_cast<double>' : call.result.cType.startsWith('u') ? 'static_cast<Json::UInt64>' : 'static_cast<Json::Int64>';
      out += `  out.value = Json::Value(${json}(${invoke}));\n`;
      break;
    }
    case 'enum':
      out += `  out.value = Json::Value(static_cast<Json::Int>(${invoke}));\n`;
      break;
  }
  out += '}\n';
  return out;
}

/** native/orthanc/generated/dispatch.cpp */
export function renderDispatch(model: CodeModel, classified: readonly ClassifiedFunction[], modelSha256: string): string {
  const calls = classified.flatMap((c) => (c.classification.status === 'generated' ? [c.classification.call] : []));
  const enums = new Map<string, EnumModel>();
  for (const call of calls) for (const p of call.params) if (p.role === 'enum') enums.set(p.enumModel.name, p.enumModel);
  let out = `${banner(modelSha256)}\n`;
  out += `// Executes the gateway's \`call\` frames against OrthancCPlugin.h ${model.header.sdkVersion} (docs/wire-protocol.md "SDK calls").\n`;
  out += PRELUDE;
  for (const e of [...enums.values()].sort((a, b) => (a.name < b.name ? -1 : 1))) out += `\n${cppEnumValidator(e)}`;
  for (const call of calls) out += `\n${renderHandler(call)}`;
  out += '\nusing Handler = void (*)(OrthancPluginContext*, const Json::Value&, const std::string&, SdkCallResult&);\n\n';
  out += 'const std::unordered_map<std::string, Handler>& Handlers() {\n';
  out += '  static const std::unordered_map<std::string, Handler> handlers = {\n';
  for (const call of calls) out += `      {"${call.wire}", &Call_${call.wire}},\n`;
  out += '  };\n  return handlers;\n}\n\n';
  out += `// Last resort for an exception: assigning the message may itself throw (bad_alloc).
void FailNoThrow(SdkCallResult& out, const char* message) noexcept {
  out.ok = false;
  out.code = static_cast<int32_t>(OrthancPluginErrorCode_InternalError);
  try {
    out.error = message;
  } catch (...) {
    // Keep ok=false and the code; the message is lost.
  }
}

}  // namespace

void DispatchSdkCall(OrthancPluginContext* context,
                     const std::string& fn,
                     const Json::Value& args,
                     const std::string& body,
                     SdkCallResult& out) {
  try {
    out = SdkCallResult();
    const std::unordered_map<std::string, Handler>& handlers = Handlers();
    const std::unordered_map<std::string, Handler>::const_iterator it = handlers.find(fn);
    if (it == handlers.end()) {
      Fail(out, OrthancPluginErrorCode_NotImplemented, "unknown SDK function \\"" + fn + "\\"");
      return;
    }
    it->second(context, args, body, out);
  } catch (const std::exception& e) {
    FailNoThrow(out, e.what());
  } catch (...) {
    FailNoThrow(out, "unknown exception");
  }
}

}  // namespace aibridge
`;
  return out;
}
