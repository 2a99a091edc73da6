#include "dicom-policy.h"

#include <algorithm>
#include <cctype>
#include <memory>

#include "dicom-errors.h"
#include "dicom-napi.h"

namespace aibridge::dicom {

namespace {

const napi_type_tag kPolicyTag = {0x6a1b2c3d4e5f6071ULL, 0x8293a4b5c6d7e8f9ULL};

bool ParseHex(std::string_view text, uint32_t& out) {
  if (text.empty() || text.size() > 8) return false;
  uint32_t v = 0;
  for (char c : text) {
    int d;
    if (c >= '0' && c <= '9') d = c - '0';
    else if (c >= 'a' && c <= 'f') d = c - 'a' + 10;
    else if (c >= 'A' && c <= 'F') d = c - 'A' + 10;
    else return false;
    v = (v << 4) | static_cast<uint32_t>(d);
  }
  out = v;
  return true;
}

bool ParseAction(const Napi::Value& v, Action& out) {
  if (!v.IsString()) return false;
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.size() != 1) return false;
  switch (s[0]) {
    case 'X': case 'Z': case 'D': case 'K': case 'C': case 'U':
      out = static_cast<Action>(s[0]);
      return true;
    default:
      return false;
  }
}

std::vector<std::string> StringArray(const Napi::Object& table, const char* key) {
  Napi::Value v = table.Get(key);
  if (v.IsUndefined()) return {};
  if (!v.IsArray()) Fail(kBadPlan, std::string("policy.") + key + " is not an array of strings");
  Napi::Array a = v.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); ++i) {
    Napi::Value e = a.Get(i);
    if (!e.IsString()) Fail(kBadPlan, std::string("policy.") + key + "[" + std::to_string(i) + "] is not a string");
    out.push_back(e.As<Napi::String>().Utf8Value());
  }
  return out;
}

class PolicyHandle : public Napi::ObjectWrap<PolicyHandle> {
 public:
  static Napi::Function Define(Napi::Env env) { return DefineClass(env, "PolicyHandle", {}); }
  explicit PolicyHandle(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PolicyHandle>(info) {}
  CompiledPolicy policy;
};

}  // namespace

Action CompiledPolicy::PublicAction(uint16_t group, uint16_t element, bool structured, bool identifying) const {
  if (identifying) {
    auto s = identifyingActions.find((static_cast<uint32_t>(group) << 16) | element);
    if (s != identifyingActions.end()) return s->second;
  }
  if (structured) {
    auto s = structuredActions.find((static_cast<uint32_t>(group) << 16) | element);
    if (s != structuredActions.end()) return s->second;
  }
  auto it = actions.find((static_cast<uint32_t>(group) << 16) | element);
  if (it != actions.end()) return it->second;
  if ((group & 0xFF01) == 0x5000 || (group & 0xFF01) == 0x6000) {
    it = actions.find((static_cast<uint32_t>(group & 0xFF00) << 16) | element);
    if (it != actions.end()) return it->second;
  }
  return defaultPublic;
}

Action CompiledPolicy::StrictAction(uint16_t group, uint16_t element) const {
  if (group & 1) return Action::Remove;
  auto it = strictActions.find((static_cast<uint32_t>(group) << 16) | element);
  if (it == strictActions.end() || it->second == Action::Keep || it->second == Action::Clean) return Action::Remove;
  return it->second;
}

bool CompiledPolicy::CreatorKept(std::string_view creator) const {
  return std::find(creatorsKept.begin(), creatorsKept.end(), creator) != creatorsKept.end();
}

bool CompiledPolicy::PrivateElementKept(uint16_t group, uint16_t element, std::string_view creator) const {
  auto it = privateKept.find((static_cast<uint32_t>(group) << 8) | (element & 0xFF));
  if (it == privateKept.end()) return false;
  return std::find(it->second.begin(), it->second.end(), creator) != it->second.end();
}

namespace {

void CompileActions(const Napi::Object& table, const char* name, std::unordered_map<uint32_t, Action>& into) {
  const std::string field = std::string("policy.") + name;
  Napi::Value value = table.Get(name);
  if (!value.IsObject() || value.IsArray()) Fail(kBadPlan, field + " is not an object");
  Napi::Object actions = value.As<Napi::Object>();
  Napi::Array keys = actions.GetPropertyNames();
  into.reserve(keys.Length() * 2);
  for (uint32_t i = 0; i < keys.Length(); ++i) {
    std::string key = keys.Get(i).ToString().Utf8Value();
    uint32_t tag;
    if (key.size() != 8 || !ParseHex(key, tag)) Fail(kBadPlan, field + " key '" + key + "' is not 8 hex digits ggggeeee");
    if ((tag >> 16) & 1) Fail(kBadPlan, field + " key '" + key + "' is a private tag (use privateKept)");
    Action a;
    if (!ParseAction(actions.Get(key), a)) Fail(kBadPlan, field + "['" + key + "'] is not one of X Z D K C U");
    into.emplace(tag, a);
  }
}

}  // namespace

CompiledPolicy CompilePolicy(const Napi::Object& table) {
  CompiledPolicy p;
  CompileActions(table, "actions", p.actions);
  if (table.Has("structuredContent") && !table.Get("structuredContent").IsUndefined()) {
    CompileActions(table, "structuredContent", p.structuredActions);
  }
  if (table.Has("identifyingItems") && !table.Get("identifyingItems").IsUndefined()) {
    CompileActions(table, "identifyingItems", p.identifyingActions);
  }
  if (table.Has("strictActions") && !table.Get("strictActions").IsUndefined()) {
    CompileActions(table, "strictActions", p.strictActions);
  }
  Action d;
  if (!ParseAction(table.Get("defaultPublic"), d) || (d != Action::Remove && d != Action::Keep))
    Fail(kBadPlan, "policy.defaultPublic is not 'X' or 'K'");
  p.defaultPublic = d;
  p.creatorsKept = StringArray(table, "privateCreatorsKept");
  for (const std::string& key : StringArray(table, "privateKept")) {
    size_t first = key.find(',');
    size_t last = key.rfind(',');
    uint32_t group, element;
    if (first != 4 || last == first || last + 3 != key.size() || !ParseHex(std::string_view(key).substr(0, 4), group) ||
        !ParseHex(std::string_view(key).substr(last + 1), element) || (group & 1) == 0)
      Fail(kBadPlan, "policy.privateKept entry '" + key + "' is not 'gggg,CREATOR,ee' with an odd group");
    p.privateKept[(group << 8) | element].push_back(key.substr(first + 1, last - first - 1));
  }
  Napi::Value age = table.Get("maxAgeYears");
  if (!age.IsNumber()) Fail(kBadPlan, "policy.maxAgeYears is not a number");
  double years = age.As<Napi::Number>().DoubleValue();
  if (!(years >= 0 && years <= 998) || years != static_cast<int>(years))
    Fail(kBadPlan, "policy.maxAgeYears is not an integer in 0..998");
  p.maxAgeYears = static_cast<int>(years);
  return p;
}

const CompiledPolicy& UnwrapPolicy(const Napi::Value& value) {
  if (!value.IsObject()) Fail(kBadPlan, "policy is not a PolicyHandle from compilePolicy()");
  Napi::Object obj = value.As<Napi::Object>();
  if (!obj.CheckTypeTag(&kPolicyTag)) Fail(kBadPlan, "policy is not a PolicyHandle from compilePolicy()");
  return PolicyHandle::Unwrap(obj)->policy;
}

void RegisterPolicy(Napi::Env env, Napi::Object exports) {
  // The constructor lives only in this closure: JS cannot create an untagged handle.
  auto ctor = std::make_shared<Napi::FunctionReference>(Napi::Persistent(PolicyHandle::Define(env)));
  exports.Set("compilePolicy", Napi::Function::New(env, [ctor](const Napi::CallbackInfo& info) -> Napi::Value {
    return Guard(info.Env(), [&]() -> Napi::Value {
      if (info.Length() < 1 || !info[0].IsObject()) Fail(kBadPlan, "compilePolicy expects a PolicyTable object");
      CompiledPolicy compiled = CompilePolicy(info[0].As<Napi::Object>());
      Napi::Object handle = ctor->New({});
      handle.TypeTag(&kPolicyTag);
      PolicyHandle::Unwrap(handle)->policy = std::move(compiled);
      return handle;
    });
  }, "compilePolicy"));
}

}  // namespace aibridge::dicom
