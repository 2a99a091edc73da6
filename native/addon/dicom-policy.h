// PolicyTable (docs/deid-engine.md) compiled once per worker into flat lookups.
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <vector>

namespace aibridge::dicom {

enum class Action : char { Remove = 'X', Empty = 'Z', Dummy = 'D', Keep = 'K', Clean = 'C', Uid = 'U' };

/** (0040,A730) Content Sequence: its items are SR content items (PS3.3 C.17.3). */
constexpr uint32_t kContentSequence = 0x0040A730;
/** (0040,A040) Value Type at the top level marks an SR document, whose root is itself a content item. */
constexpr uint32_t kValueType = 0x0040A040;

struct CompiledPolicy {
  std::unordered_map<uint32_t, Action> actions;
  /** Overrides inside SR content (the root of an SR document and ContentSequence items): PolicyTable.structuredContent. */
  std::unordered_map<uint32_t, Action> structuredActions;
  /** Overrides inside the items of a sequence the table gives D or Z (an identifying sequence): PolicyTable.identifyingItems. */
  std::unordered_map<uint32_t, Action> identifyingActions;
  Action defaultPublic = Action::Remove;
  std::vector<std::string> creatorsKept;
  /** key: (group << 8 | element low byte), value: creators whose element is kept */
  std::unordered_map<uint32_t, std::vector<std::string>> privateKept;
  int maxAgeYears = 89;
  /** The Basic Profile action of each Table E.1-1 row: for text that does not decode (absent: Remove). */
  std::unordered_map<uint32_t, Action> strictActions;

  /** What an element whose text does not decode gets: its row's Basic Profile action, never K or C. */
  Action StrictAction(uint16_t group, uint16_t element) const;

  /** Action of a public data element; repeating groups 50xx/60xx fall back to 5000/6000. */
  Action PublicAction(uint16_t group, uint16_t element, bool structured = false, bool identifying = false) const;
  bool CreatorKept(std::string_view creator) const;
  bool PrivateElementKept(uint16_t group, uint16_t element, std::string_view creator) const;
};

/**
 * Sets a walk flag while a sequence is walked, restored on scope exit: inside
 * SR content (a Content Sequence), or inside an identifying sequence (D or Z).
 */
class StructuredScope {
 public:
  StructuredScope(bool& flag, bool enter) : flag_(flag), saved_(flag) {
    if (enter) flag_ = true;
  }
  ~StructuredScope() { flag_ = saved_; }
  StructuredScope(const StructuredScope&) = delete;
  StructuredScope& operator=(const StructuredScope&) = delete;

 private:
  bool& flag_;
  bool saved_;
};

/** Validates a JS PolicyTable; throws DeidFailure(AIB_DEID_BAD_PLAN) naming the offending key. */
CompiledPolicy CompilePolicy(const Napi::Object& table);

/** Registers compilePolicy and the PolicyHandle class. */
void RegisterPolicy(Napi::Env env, Napi::Object exports);

/** The compiled policy behind a PolicyHandle created by compilePolicy, or throws AIB_DEID_BAD_PLAN. */
const CompiledPolicy& UnwrapPolicy(const Napi::Value& value);

}  // namespace aibridge::dicom
