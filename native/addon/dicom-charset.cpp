#include "dicom-charset.h"

#include <iconv.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "dicom-errors.h"
#include "dicom-values.h"

namespace aibridge::dicom {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";  // U+FFFD

// What a run of bytes is converted with.
enum Set : int {
  kAscii = 0, kJisRoman, kJisX0208, kJisX0212, kKatakana, kKsX1001, kGb2312,
  kLatin1, kLatin2, kLatin3, kLatin4, kCyrillic, kArabic, kGreek, kHebrew, kLatin5, kLatin9, kThai,
  kGb18030, kGbk, kNone, kSetCount
};

// iconv source encoding per set (nullptr: handled without iconv).
const char* const kIconvName[kSetCount] = {
    nullptr, nullptr, "EUC-JP", "EUC-JP", "EUC-JP", "EUC-KR", "GB2312",
    "ISO-8859-1", "ISO-8859-2", "ISO-8859-3", "ISO-8859-4", "ISO-8859-5", "ISO-8859-6", "ISO-8859-7",
    "ISO-8859-8", "ISO-8859-9", "ISO-8859-15", "TIS-620", "GB18030", "GBK", nullptr};

iconv_t Converter(Set set) {
  thread_local iconv_t handles[kSetCount] = {};
  thread_local bool opened[kSetCount] = {};
  if (!opened[set]) {
    opened[set] = true;
    handles[set] = kIconvName[set] ? iconv_open("UTF-8", kIconvName[set]) : reinterpret_cast<iconv_t>(-1);
  }
  return handles[set];
}

// Converts `in` with iconv, a byte that does not convert becoming U+FFFD. false if any did not.
bool ConvertLossy(Set set, std::string_view in, std::string& out) {
  iconv_t cd = Converter(set);
  if (cd == reinterpret_cast<iconv_t>(-1)) {
    for (size_t i = 0; i < in.size(); ++i) out.append(kReplacement);
    return in.empty();
  }
  iconv(cd, nullptr, nullptr, nullptr, nullptr);
  bool ok = true;
  char* src = const_cast<char*>(in.data());
  size_t left = in.size();
  while (left > 0) {
    const size_t base = out.size();
    out.resize(base + left * 4 + 16);
    char* dst = out.data() + base;
    size_t room = out.size() - base;
    const size_t r = iconv(cd, &src, &left, &dst, &room);
    const int error = errno;
    out.resize(out.size() - room);
    if (r != static_cast<size_t>(-1) || error == E2BIG) continue;
    ok = false;  // EILSEQ, or EINVAL (a character cut off at the end)
    out.append(kReplacement);
    ++src;
    --left;
    iconv(cd, nullptr, nullptr, nullptr, nullptr);
  }
  return ok;
}

struct Term {
  const char* name;
  Set g0;  // kNone: leaves G0
  Set g1;  // kNone: leaves G1
};

// PS3.3 Tables C.12-2 to C.12-5: the single-byte terms without code extensions set the same
// initial state as their ISO 2022 forms; the multi-byte ISO 2022 terms only declare escapes.
const Term kTerms[] = {
    {"ISO_IR 6", kAscii, kNone},          {"ISO 2022 IR 6", kAscii, kNone},
    {"ISO_IR 100", kAscii, kLatin1},      {"ISO 2022 IR 100", kAscii, kLatin1},
    {"ISO_IR 101", kAscii, kLatin2},      {"ISO 2022 IR 101", kAscii, kLatin2},
    {"ISO_IR 109", kAscii, kLatin3},      {"ISO 2022 IR 109", kAscii, kLatin3},
    {"ISO_IR 110", kAscii, kLatin4},      {"ISO 2022 IR 110", kAscii, kLatin4},
    {"ISO_IR 144", kAscii, kCyrillic},    {"ISO 2022 IR 144", kAscii, kCyrillic},
    {"ISO_IR 127", kAscii, kArabic},      {"ISO 2022 IR 127", kAscii, kArabic},
    {"ISO_IR 126", kAscii, kGreek},       {"ISO 2022 IR 126", kAscii, kGreek},
    {"ISO_IR 138", kAscii, kHebrew},      {"ISO 2022 IR 138", kAscii, kHebrew},
    {"ISO_IR 148", kAscii, kLatin5},      {"ISO 2022 IR 148", kAscii, kLatin5},
    {"ISO_IR 203", kAscii, kLatin9},      {"ISO 2022 IR 203", kAscii, kLatin9},
    {"ISO_IR 13", kJisRoman, kKatakana},  {"ISO 2022 IR 13", kJisRoman, kKatakana},
    {"ISO_IR 166", kAscii, kThai},        {"ISO 2022 IR 166", kAscii, kThai},
    {"ISO 2022 IR 87", kNone, kNone},     {"ISO 2022 IR 159", kNone, kNone},
    {"ISO 2022 IR 149", kNone, kNone},    {"ISO 2022 IR 58", kNone, kNone},
};

const Term* FindTerm(std::string_view name) {
  for (const Term& t : kTerms)
    if (name == t.name) return &t;
  return nullptr;
}

// One declared (0008,0005) value, ready to decode element values.
class TextDecoder {
 public:
  explicit TextDecoder(std::string_view charset) {
    const size_t end = charset.find('\\');
    const std::string_view first = TrimPadding(charset.substr(0, end));
    if (end == std::string_view::npos || TrimPadding(charset.substr(end + 1)).empty()) {
      // Single-valued terms without code extensions that are not single-byte sets.
      if (first == "ISO_IR 192") { mode_ = Mode::kUtf8; return; }
      if (first == "GB18030") { mode_ = Mode::kWhole; whole_ = kGb18030; return; }
      if (first == "GBK") { mode_ = Mode::kWhole; whole_ = kGbk; return; }
    }
    // Value 1 sets the initial state; the other values only declare what escapes may follow.
    // An unknown value 1 (Orthanc falls back to its default) leaves ASCII only: any other
    // byte does not decode.
    if (const Term* t = first.empty() ? nullptr : FindTerm(first)) {
      if (t->g0 != kNone) initialG0_ = t->g0;
      if (t->g1 != kNone) initialG1_ = t->g1;
    }
  }

  // Decodes one element value into `out`; `pn`: ^ and = also reset the state. false: lossy.
  bool Decode(std::string_view in, bool pn, std::string& out) {
    out.clear();
    if (mode_ == Mode::kUtf8) return Utf8(in, out);
    if (mode_ == Mode::kWhole) return ConvertLossy(whole_, in, out);
    ok_ = true;
    out_ = &out;
    g0_ = initialG0_;
    g1_ = initialG1_;
    run_.clear();
    runSet_ = kAscii;
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const size_t n = in.size();
    for (size_t i = 0; i < n;) {
      const unsigned char c = p[i];
      if (c == 0x1B) {
        i = Escape(p, n, i);
        continue;
      }
      const bool multiG0 = g0_ == kJisX0208 || g0_ == kJisX0212;
      if (c < 0x80) {
        if (multiG0 && c > 0x20 && c < 0x7F) {
          if (i + 1 >= n) { Bad(); ++i; continue; }
          if (g0_ == kJisX0212) Emit(kJisX0212, 0x8F);
          Emit(g0_, static_cast<unsigned char>(c | 0x80));
          Emit(g0_, static_cast<unsigned char>(p[i + 1] | 0x80));
          i += 2;
          continue;
        }
        if (!multiG0 && (c == '\\' || c == '\r' || c == '\n' || c == '\f' || c == '\t' || (pn && (c == '^' || c == '=')))) {
          g0_ = initialG0_;
          g1_ = initialG1_;
        }
        Emit(kAscii, c);  // ASCII and JIS X 0201 Roman (yen/overline read as \ and ~)
        ++i;
        continue;
      }
      // GR: G1
      switch (g1_) {
        case kKatakana:
          Emit(kKatakana, 0x8E);
          Emit(kKatakana, c);
          ++i;
          break;
        case kKsX1001:
        case kGb2312:
          if (i + 1 >= n) { Bad(); ++i; break; }
          Emit(g1_, c);
          Emit(g1_, p[i + 1]);
          i += 2;
          break;
        case kNone:
        case kAscii:
          Bad();
          ++i;
          break;
        default:
          Emit(g1_, c);
          ++i;
      }
    }
    Flush();
    out_ = nullptr;
    return ok_;
  }

 private:
  enum class Mode { kRuns, kUtf8, kWhole };

  static bool Utf8(std::string_view in, std::string& out) {
    if (IsUtf8(in)) {
      out.assign(in);
      return true;
    }
    // Byte by byte: each maximal valid prefix is kept, each invalid byte replaced.
    for (size_t i = 0; i < in.size(); ++i) {
      size_t len = 1;
      const auto c = static_cast<unsigned char>(in[i]);
      if (c >= 0xF0) len = 4; else if (c >= 0xE0) len = 3; else if (c >= 0xC0) len = 2;
      if (c >= 0x80 && (len == 1 || i + len > in.size() || !IsUtf8(in.substr(i, len)))) {
        out.append(kReplacement);
        continue;
      }
      out.append(in.substr(i, len));
      i += len - 1;
    }
    return false;
  }

  size_t Escape(const unsigned char* p, size_t n, size_t i) {
    auto is = [&](const char* seq) {
      size_t len = std::char_traits<char>::length(seq);
      return i + 1 + len <= n && std::memcmp(p + i + 1, seq, len) == 0 ? len + 1 : 0;
    };
    struct Seq { const char* bytes; bool g1; Set set; };
    static const Seq kSeqs[] = {
        {"(B", false, kAscii}, {"(J", false, kJisRoman}, {"$B", false, kJisX0208}, {"$@", false, kJisX0208},
        {"$(D", false, kJisX0212}, {")I", true, kKatakana}, {"$)C", true, kKsX1001}, {"$)A", true, kGb2312},
        {"-A", true, kLatin1}, {"-B", true, kLatin2}, {"-C", true, kLatin3}, {"-D", true, kLatin4},
        {"-L", true, kCyrillic}, {"-G", true, kArabic}, {"-F", true, kGreek}, {"-H", true, kHebrew},
        {"-M", true, kLatin5}, {"-b", true, kLatin9}, {"-T", true, kThai}};
    for (const Seq& s : kSeqs) {
      if (size_t len = is(s.bytes)) {
        (s.g1 ? g1_ : g0_) = s.set;
        return i + len;
      }
    }
    Bad();  // an escape sequence no defined term uses
    return i + 1;
  }

  void Emit(Set set, unsigned char byte) {
    if (set != runSet_) {
      Flush();
      runSet_ = set;
    }
    run_.push_back(static_cast<char>(byte));
  }

  void Bad() {
    Flush();
    out_->append(kReplacement);
    ok_ = false;
  }

  void Flush() {
    if (run_.empty()) return;
    if (kIconvName[runSet_] == nullptr) out_->append(run_);
    else if (!ConvertLossy(runSet_, run_, *out_)) ok_ = false;
    run_.clear();
  }

  Mode mode_ = Mode::kRuns;
  Set whole_ = kNone;
  Set initialG0_ = kAscii, initialG1_ = kNone;
  Set g0_ = kAscii, g1_ = kNone;
  Set runSet_ = kAscii;
  bool ok_ = true;
  std::string run_;
  std::string* out_ = nullptr;
};

// The VRs whose values Specific Character Set applies to (PS3.5 6.1.2.3); every other string
// VR is the default repertoire, where a byte above 0x7F does not decode either.
bool Extended(DcmEVR vr) {
  switch (vr) {
    case EVR_SH: case EVR_LO: case EVR_ST: case EVR_LT: case EVR_UC: case EVR_UT: case EVR_PN:
      return true;
    default:
      return false;
  }
}

void Put(DcmElement* elem, const std::string& value) {
  if (elem->putString(value.data(), static_cast<Uint32>(value.size())).bad())
    Fail(kUnsupportedCharset, "cannot store converted text");
}

void DecodeItem(DcmItem& item, TextDecoder& inherited, UndecodableSet& undecodable, std::string& scratch, int depth) {
  if (depth > kMaxDepth) Fail(kNotDicom, "sequence nesting deeper than " + std::to_string(kMaxDepth) + " levels");
  // PS3.5 6.1.2.5.3 / PS3.3 C.12.1.1.2: an item may declare its own character set.
  TextDecoder* decoder = &inherited;
  std::unique_ptr<TextDecoder> own;
  DcmElement* charset = nullptr;
  if (depth > 0 && item.findAndGetElement(DCM_SpecificCharacterSet, charset, OFFalse).good() && charset != nullptr) {
    own = std::make_unique<TextDecoder>(RawString(charset));
    decoder = own.get();
  }
  for (DcmObject* o = item.nextInContainer(nullptr); o != nullptr; o = item.nextInContainer(o)) {
    const DcmEVR vr = o->ident();
    if (vr == EVR_SQ) {
      auto* seq = static_cast<DcmSequenceOfItems*>(o);
      for (DcmObject* i = seq->nextInContainer(nullptr); i != nullptr; i = seq->nextInContainer(i))
        DecodeItem(*static_cast<DcmItem*>(i), *decoder, undecodable, scratch, depth + 1);
      continue;
    }
    if (!IsStringVr(vr)) continue;
    auto* elem = static_cast<DcmElement*>(o);
    const std::string_view raw = RawString(elem);
    bool plain = true;
    for (unsigned char c : raw) plain = plain && c != 0x1B && c < 0x80;
    if (plain) continue;
    bool ok;
    if (Extended(vr)) {
      ok = decoder->Decode(raw, vr == EVR_PN, scratch);
    } else {
      scratch.clear();
      for (unsigned char c : raw) c < 0x80 && c != 0x1B ? scratch.push_back(static_cast<char>(c)) : (void)scratch.append(kReplacement);
      ok = false;
    }
    if (!ok) undecodable.insert(o);
    Put(elem, scratch);
  }
}

}  // namespace

void DecodeTextToUtf8(DcmDataset& dataset, std::string_view specificCharacterSet, UndecodableSet& undecodable) {
  TextDecoder decoder(specificCharacterSet);
  std::string scratch;
  scratch.reserve(256);
  DecodeItem(dataset, decoder, undecodable, scratch, 0);
  if (dataset.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192").bad())
    Fail(kUnsupportedCharset, "cannot store converted text");
}

void WarmUpCharsets() {
  for (int s = 0; s < kSetCount; ++s) (void)Converter(static_cast<Set>(s));
}

}  // namespace aibridge::dicom
