#include "dicom-charset.h"

#include <iconv.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "dicom-errors.h"
#include "dicom-values.h"

namespace aibridge::dicom {

namespace {

// What a run of bytes is converted with.
enum Set : int {
  kAscii = 0, kJisRoman, kJisX0208, kJisX0212, kKatakana, kKsX1001, kGb2312,
  kLatin1, kLatin2, kLatin3, kLatin4, kCyrillic, kArabic, kGreek, kHebrew, kLatin5, kLatin9, kThai,
  kNone, kSetCount
};

// iconv source encoding per set (nullptr: handled without iconv).
const char* const kIconvName[kSetCount] = {
    nullptr, nullptr, "EUC-JP", "EUC-JP", "EUC-JP", "EUC-KR", "GB2312",
    "ISO-8859-1", "ISO-8859-2", "ISO-8859-3", "ISO-8859-4", "ISO-8859-5", "ISO-8859-6", "ISO-8859-7",
    "ISO-8859-8", "ISO-8859-9", "ISO-8859-15", "TIS-620", nullptr};

iconv_t& Converter(Set set) {
  thread_local iconv_t handles[kSetCount] = {};
  thread_local bool opened[kSetCount] = {};
  if (!opened[set]) {
    opened[set] = true;
    handles[set] = kIconvName[set] ? iconv_open("UTF-8", kIconvName[set]) : reinterpret_cast<iconv_t>(-1);
  }
  return handles[set];
}

struct Term {
  const char* name;
  Set g0;  // kNone: leaves G0
  Set g1;  // kNone: leaves G1
};

// PS3.3 Table C.12-3 / C.12-4 defined terms with code extensions.
const Term kTerms[] = {
    {"ISO 2022 IR 6", kAscii, kNone},     {"ISO 2022 IR 100", kAscii, kLatin1},
    {"ISO 2022 IR 101", kAscii, kLatin2}, {"ISO 2022 IR 109", kAscii, kLatin3},
    {"ISO 2022 IR 110", kAscii, kLatin4}, {"ISO 2022 IR 144", kAscii, kCyrillic},
    {"ISO 2022 IR 127", kAscii, kArabic}, {"ISO 2022 IR 126", kAscii, kGreek},
    {"ISO 2022 IR 138", kAscii, kHebrew}, {"ISO 2022 IR 148", kAscii, kLatin5},
    {"ISO 2022 IR 203", kAscii, kLatin9}, {"ISO 2022 IR 13", kJisRoman, kKatakana},
    {"ISO 2022 IR 166", kAscii, kThai},   {"ISO 2022 IR 87", kNone, kNone},
    {"ISO 2022 IR 159", kNone, kNone},    {"ISO 2022 IR 149", kNone, kNone},
    {"ISO 2022 IR 58", kNone, kNone},
};

class Decoder {
 public:
  explicit Decoder(std::string_view charset) {
    // Value 1 sets the initial state; the other values only declare what escapes may follow.
    size_t end = charset.find('\\');
    std::string_view first = TrimPadding(charset.substr(0, end));
    if (!first.empty()) {
      const Term* t = Find(first);
      if (t == nullptr) Fail(kUnsupportedCharset, "a character set term is not supported");
      if (t->g0 != kNone) initialG0_ = t->g0;
      if (t->g1 != kNone) initialG1_ = t->g1;
    }
    for (size_t start = end; start != std::string_view::npos;) {
      size_t next = charset.find('\\', start + 1);
      std::string_view term = TrimPadding(charset.substr(start + 1, next == std::string_view::npos ? next : next - start - 1));
      if (!term.empty() && Find(term) == nullptr) Fail(kUnsupportedCharset, "a character set term is not supported");
      start = next;
    }
  }

  // Decodes one element value; `pn`: ^ and = also reset the state.
  void Decode(std::string_view in, bool pn, std::string& out) {
    out.clear();
    g0_ = initialG0_;
    g1_ = initialG1_;
    run_.clear();
    runSet_ = kAscii;
    const auto* p = reinterpret_cast<const unsigned char*>(in.data());
    const size_t n = in.size();
    for (size_t i = 0; i < n;) {
      unsigned char c = p[i];
      if (c == 0x1B) {
        i = Escape(p, n, i);
        continue;
      }
      const bool multiG0 = g0_ == kJisX0208 || g0_ == kJisX0212;
      if (c < 0x80) {
        if (multiG0 && c > 0x20 && c < 0x7F) {
          if (i + 1 >= n) Fail(kUnsupportedCharset, "text is not valid in its declared character set");
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
          if (i + 1 >= n) Fail(kUnsupportedCharset, "text is not valid in its declared character set");
          Emit(g1_, c);
          Emit(g1_, p[i + 1]);
          i += 2;
          break;
        case kNone:
        case kAscii:
          Fail(kUnsupportedCharset, "text is not valid in its declared character set");
        default:
          Emit(g1_, c);
          ++i;
      }
    }
    Flush(out);
    out_ = nullptr;
  }

  void Bind(std::string& out) { out_ = &out; }

 private:
  static const Term* Find(std::string_view name) {
    for (const Term& t : kTerms)
      if (name == t.name) return &t;
    return nullptr;
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
    Fail(kUnsupportedCharset, "an ISO 2022 escape sequence is not supported");
  }

  void Emit(Set set, unsigned char byte) {
    if (set != runSet_) {
      Flush(*out_);
      runSet_ = set;
    }
    run_.push_back(static_cast<char>(byte));
  }

  void Flush(std::string& out) {
    if (run_.empty()) return;
    if (kIconvName[runSet_] == nullptr) {
      out.append(run_);
    } else {
      iconv_t cd = Converter(runSet_);
      if (cd == reinterpret_cast<iconv_t>(-1)) Fail(kUnsupportedCharset, "a character set converter is not available");
      iconv(cd, nullptr, nullptr, nullptr, nullptr);
      char* src = run_.data();
      size_t srcLeft = run_.size();
      const size_t base = out.size();
      out.resize(base + run_.size() * 4 + 8);
      char* dst = out.data() + base;
      size_t dstLeft = out.size() - base;
      if (iconv(cd, &src, &srcLeft, &dst, &dstLeft) == static_cast<size_t>(-1))
        Fail(kUnsupportedCharset, "text is not valid in its declared character set");
      out.resize(out.size() - dstLeft);
    }
    run_.clear();
  }

  Set initialG0_ = kAscii, initialG1_ = kNone;
  Set g0_ = kAscii, g1_ = kNone;
  Set runSet_ = kAscii;
  std::string run_;
  std::string* out_ = nullptr;
};

bool Converted(DcmEVR vr) {
  switch (vr) {
    case EVR_SH: case EVR_LO: case EVR_ST: case EVR_LT: case EVR_UC: case EVR_UT: case EVR_PN:
      return true;
    default:
      return false;
  }
}

void ConvertItem(DcmItem& item, Decoder& decoder, std::string& scratch, int depth) {
  if (depth > kMaxDepth) Fail(kNotDicom, "sequence nesting deeper than " + std::to_string(kMaxDepth) + " levels");
  for (DcmObject* o = item.nextInContainer(nullptr); o != nullptr; o = item.nextInContainer(o)) {
    const DcmEVR vr = o->ident();
    if (vr == EVR_SQ) {
      auto* seq = static_cast<DcmSequenceOfItems*>(o);
      for (DcmObject* i = seq->nextInContainer(nullptr); i != nullptr; i = seq->nextInContainer(i))
        ConvertItem(*static_cast<DcmItem*>(i), decoder, scratch, depth + 1);
      continue;
    }
    if (!Converted(vr)) continue;
    auto* elem = static_cast<DcmElement*>(o);
    std::string_view raw = RawString(elem);
    bool plain = true;
    for (unsigned char c : raw) plain = plain && c != 0x1B && c < 0x80;
    if (plain) continue;
    decoder.Bind(scratch);
    decoder.Decode(raw, vr == EVR_PN, scratch);
    if (elem->putString(scratch.data(), static_cast<Uint32>(scratch.size())).bad())
      Fail(kUnsupportedCharset, "cannot store converted text");
  }
}

}  // namespace

bool UsesCodeExtensions(std::string_view cs) { return cs.find("ISO 2022") != std::string_view::npos; }

void ConvertIso2022ToUtf8(DcmDataset& dataset, std::string_view specificCharacterSet) {
  Decoder decoder(specificCharacterSet);
  std::string scratch;
  scratch.reserve(256);
  ConvertItem(dataset, decoder, scratch, 0);
  if (dataset.putAndInsertString(DCM_SpecificCharacterSet, "ISO_IR 192").bad())
    Fail(kUnsupportedCharset, "cannot store converted text");
}

void WarmUpIso2022() {
  for (int s = 0; s < kSetCount; ++s) (void)Converter(static_cast<Set>(s));
}

}  // namespace aibridge::dicom
