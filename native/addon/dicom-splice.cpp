#include "dicom-splice.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "dicom-dataset.h"
#include "dicom-errors.h"

namespace aibridge::dicom {

namespace {

constexpr uint32_t kUndefined = 0xFFFFFFFFu;
constexpr uint32_t kPixelData = 0x7FE00010u;
constexpr uint32_t kItem = 0xFFFEE000u;
constexpr uint32_t kItemDelimiter = 0xFFFEE00Du;
constexpr uint32_t kSequenceDelimiter = 0xFFFEE0DDu;
constexpr size_t kFirstRead = 16 * 1024;

// The first bytes of the file, read on demand as the walk needs them.
class Window {
 public:
  Window(int fd, uint64_t size, std::vector<uint8_t>& buffer) : fd_(fd), size_(size), buffer_(buffer) {}

  bool Ensure(uint64_t end) {
    if (end > size_) return false;
    if (end <= buffer_.size()) return true;
    uint64_t target = std::min<uint64_t>(size_, std::max<uint64_t>(end, std::max<uint64_t>(kFirstRead, buffer_.size() * 2)));
    return Load(target);
  }

  bool Load(uint64_t target) {
    size_t have = buffer_.size();
    buffer_.resize(target);
    while (have < target) {
      ssize_t n = pread(fd_, buffer_.data() + have, target - have, static_cast<off_t>(have));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        buffer_.resize(have);
        return false;
      }
      have += static_cast<size_t>(n);
    }
    return true;
  }

  uint16_t U16(uint64_t at) const { return static_cast<uint16_t>(buffer_[at] | (buffer_[at + 1] << 8)); }
  uint32_t U32(uint64_t at) const {
    return static_cast<uint32_t>(buffer_[at]) | (static_cast<uint32_t>(buffer_[at + 1]) << 8) |
           (static_cast<uint32_t>(buffer_[at + 2]) << 16) | (static_cast<uint32_t>(buffer_[at + 3]) << 24);
  }
  uint32_t Tag(uint64_t at) const { return (static_cast<uint32_t>(U16(at)) << 16) | U16(at + 2); }
  const uint8_t* At(uint64_t at) const { return buffer_.data() + at; }
  uint64_t size() const { return size_; }

 private:
  int fd_;
  uint64_t size_;
  std::vector<uint8_t>& buffer_;
};

bool IsLongVr(const uint8_t* vr) {
  static const char* const kLong[] = {"OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"};
  for (const char* v : kLong)
    if (vr[0] == v[0] && vr[1] == v[1]) return true;
  return false;
}

struct Header {
  uint32_t tag;
  uint32_t length;
  uint32_t size;  // bytes of tag + VR + length
  char vr[2];
};

bool ReadHeader(Window& w, uint64_t at, bool explicitVr, Header& h) {
  if (!w.Ensure(at + 8)) return false;
  h.tag = w.Tag(at);
  if ((h.tag >> 16) == 0xFFFE || !explicitVr) {
    h.length = w.U32(at + 4);
    h.size = 8;
    h.vr[0] = h.vr[1] = 0;
    return true;
  }
  const uint8_t* vr = w.At(at + 4);
  if (vr[0] < 'A' || vr[0] > 'Z' || vr[1] < 'A' || vr[1] > 'Z') return false;
  h.vr[0] = static_cast<char>(vr[0]);
  h.vr[1] = static_cast<char>(vr[1]);
  if (IsLongVr(vr)) {
    if (!w.Ensure(at + 12)) return false;
    h.length = w.U32(at + 8);
    h.size = 12;
  } else {
    h.length = w.U16(at + 6);
    h.size = 8;
  }
  return true;
}

bool SkipElements(Window& w, uint64_t& at, bool explicitVr, int depth, uint32_t until);

// After an undefined-length sequence header: its items, then the sequence delimiter.
bool SkipItems(Window& w, uint64_t& at, bool explicitVr, int depth) {
  if (depth > kMaxDepth) return false;
  for (;;) {
    Header h{};
    if (!ReadHeader(w, at, false, h)) return false;
    at += 8;
    if (h.tag == kSequenceDelimiter) return true;
    if (h.tag != kItem) return false;
    if (h.length != kUndefined) {
      at += h.length;
      continue;
    }
    if (!SkipElements(w, at, explicitVr, depth + 1, kItemDelimiter)) return false;
  }
}

// Elements of an undefined-length item up to and including its delimiter.
bool SkipElements(Window& w, uint64_t& at, bool explicitVr, int depth, uint32_t until) {
  for (;;) {
    Header h{};
    if (!ReadHeader(w, at, explicitVr, h)) return false;
    if (h.tag == until) {
      at += 8;
      return true;
    }
    at += h.size;
    if (h.length != kUndefined) {
      at += h.length;
      continue;
    }
    // Undefined length is a sequence here; an undefined-length UN holds Implicit VR content.
    if (explicitVr && !(h.vr[0] == 'S' && h.vr[1] == 'Q')) return false;
    if (!SkipItems(w, at, explicitVr, depth)) return false;
  }
}

enum class Encoding { ExplicitLittle, ImplicitLittle, Other };

// The Part 10 meta header: where the dataset starts and how it is encoded.
bool ReadMeta(Window& w, uint64_t& datasetStart, Encoding& encoding, bool& encapsulated) {
  if (!w.Ensure(132) || std::memcmp(w.At(128), "DICM", 4) != 0) return false;
  uint64_t at = 132;
  std::string syntax;
  for (;;) {
    // The dataset after the meta group may be Implicit VR: look at the group before the VR.
    if (!w.Ensure(at + 4)) return false;
    if (w.U16(at) != 0x0002) break;
    Header h{};
    if (!ReadHeader(w, at, true, h)) return false;
    if (h.length == kUndefined || !w.Ensure(at + h.size + h.length)) return false;
    if (h.tag == 0x00020010u) {
      syntax.assign(reinterpret_cast<const char*>(w.At(at + h.size)), h.length);
      while (!syntax.empty() && (syntax.back() == '\0' || syntax.back() == ' ')) syntax.pop_back();
    }
    at += h.size + h.length;
  }
  datasetStart = at;
  // Only syntaxes whose output keeps the pixel bytes as they are: native Little Endian
  // (written as Explicit VR LE) and the encapsulated ones DCMTK knows and writes unchanged.
  // Anything else (Big Endian, deflated, syntaxes newer than DCMTK) goes through the full parser.
  static const char* const kEncapsulated[] = {
      "1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70",
      "1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81", "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
      "1.2.840.10008.1.2.5"};
  encoding = Encoding::Other;
  encapsulated = false;
  if (syntax == "1.2.840.10008.1.2") encoding = Encoding::ImplicitLittle;
  else if (syntax == "1.2.840.10008.1.2.1") encoding = Encoding::ExplicitLittle;
  for (const char* uid : kEncapsulated) {
    if (syntax == uid) {
      encoding = Encoding::ExplicitLittle;
      encapsulated = true;
    }
  }
  return true;
}

void AppendLe(std::vector<uint8_t>& out, uint32_t value, int bytes) {
  for (int i = 0; i < bytes; ++i) out.push_back(static_cast<uint8_t>(value >> (8 * i)));
}

// Implicit VR input, Explicit VR output: tag, "OW", reserved, 32-bit length.
void FinishImplicitHeader(PixelSplice& splice) {
  if (splice.outputElementHeader.size() != 4) return;
  splice.outputElementHeader.push_back('O');
  splice.outputElementHeader.push_back('W');
  splice.outputElementHeader.push_back(0);
  splice.outputElementHeader.push_back(0);
  AppendLe(splice.outputElementHeader, static_cast<uint32_t>(splice.valueLength), 4);
}

std::optional<PixelSplice> Locate(Window& w) {
  uint64_t at = 0;
  Encoding encoding = Encoding::Other;
  bool encapsulatedSyntax = false;
  if (!ReadMeta(w, at, encoding, encapsulatedSyntax) || encoding == Encoding::Other) return std::nullopt;
  const bool explicitVr = encoding == Encoding::ExplicitLittle;
  while (at < w.size()) {
    Header h{};
    if (!ReadHeader(w, at, explicitVr, h)) return std::nullopt;
    if (h.tag > kPixelData || (h.tag >> 16) == 0xFFFE) return std::nullopt;
    if (h.tag == kPixelData) {
      PixelSplice s;
      s.elementOffset = at;
      s.valueOffset = at + h.size;
      if (explicitVr) {
        if (!((h.vr[0] == 'O' && h.vr[1] == 'B') || (h.vr[0] == 'O' && h.vr[1] == 'W'))) return std::nullopt;
        if ((h.length == kUndefined) != encapsulatedSyntax) return std::nullopt;
        if (h.length == kUndefined) {
          // Encapsulated: fragments and the sequence delimiter run to the end of the file
          // (ReadForSplice checks that the file really ends with the delimiter).
          s.encapsulated = true;
          s.valueLength = w.size() - s.valueOffset;
        } else {
          // An odd length is invalid; the full parser pads it, as DCMTK writes every value.
          if (s.valueOffset + h.length != w.size() || h.length % 2 != 0) return std::nullopt;
          s.valueLength = h.length;
        }
        s.outputElementHeader.assign(w.At(at), w.At(at) + 12);
        // Encapsulated pixel data is OB (PS3.5 A.4), whatever the input said; DCMTK writes it so.
        if (s.encapsulated) s.outputElementHeader[5] = 'B';
      } else {
        if (h.length == kUndefined || s.valueOffset + h.length != w.size() || h.length % 2 != 0) return std::nullopt;
        s.valueLength = h.length;
        // Implicit VR native pixel data is OW (PS3.5 A.1), which is what DCMTK writes for it too.
        s.outputElementHeader = {0xE0, 0x7F, 0x10, 0x00};
        FinishImplicitHeader(s);
      }
      return s;
    }
    at += h.size;
    if (h.length != kUndefined) {
      at += h.length;
      continue;
    }
    if (explicitVr && !(h.vr[0] == 'S' && h.vr[1] == 'Q')) return std::nullopt;
    if (!SkipItems(w, at, explicitVr, 1)) return std::nullopt;
  }
  return std::nullopt;
}

bool EndsWithSequenceDelimiter(int fd, uint64_t size) {
  static const uint8_t kDelimiter[8] = {0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0};
  uint8_t tail[8];
  if (size < 8) return false;
  ssize_t n = pread(fd, tail, 8, static_cast<off_t>(size - 8));
  return n == 8 && std::memcmp(tail, kDelimiter, 8) == 0;
}

void WriteAll(int fd, const uint8_t* data, size_t length) {
  while (length > 0) {
    ssize_t n = write(fd, data, length);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) Fail(kWriteFailed, std::string("cannot write the output: ") + std::strerror(errno));
    data += n;
    length -= static_cast<size_t>(n);
  }
}

void CopyRange(int in, uint64_t offset, uint64_t length, int out) {
  loff_t from = static_cast<loff_t>(offset);
  uint64_t left = length;
  bool kernelCopy = true;
  std::vector<uint8_t> buffer;
  while (left > 0) {
    if (kernelCopy) {
      ssize_t n = copy_file_range(in, &from, out, nullptr, left, 0);
      if (n > 0) {
        left -= static_cast<uint64_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL || errno == EOPNOTSUPP)) {
        kernelCopy = false;  // across file systems, or a kernel without it: copy through memory
        continue;
      }
      if (n == 0) Fail(kTruncated, "the input file became shorter while it was copied");
      Fail(kWriteFailed, std::string("cannot copy the pixel data: ") + std::strerror(errno));
    }
    if (buffer.empty()) buffer.resize(1 << 20);
    ssize_t n = pread(in, buffer.data(), std::min<uint64_t>(left, buffer.size()), from);
    if (n < 0 && errno == EINTR) continue;
    if (n == 0) Fail(kTruncated, "the input file became shorter while it was copied");
    if (n < 0) Fail(kWriteFailed, std::string("cannot read the pixel data: ") + std::strerror(errno));
    WriteAll(out, buffer.data(), static_cast<size_t>(n));
    from += n;
    left -= static_cast<uint64_t>(n);
  }
}

}  // namespace

SplitInput ReadForSplice(int fd, uint64_t size, const std::string& name) {
  SplitInput input;
  Window window(fd, size, input.bytes);
  if (!window.Load(std::min<uint64_t>(size, kFirstRead)) && input.bytes.size() < std::min<uint64_t>(size, kFirstRead))
    Fail(kWriteFailed, "cannot read " + name + ": " + std::strerror(errno));
  input.splice = Locate(window);
  if (input.splice && input.splice->encapsulated && !EndsWithSequenceDelimiter(fd, size)) input.splice.reset();
  if (input.splice) {
    input.bytes.resize(input.splice->elementOffset);
  } else if (!window.Load(size)) {
    Fail(kWriteFailed, "cannot read " + name + ": " + std::strerror(errno));
  }
  return input;
}

uint64_t WriteOutputFile(const std::string& path, const uint8_t* header, size_t headerLength,
                         const PixelSplice* splice, int inputFd) {
  const std::string temporary = path + ".tmp." + std::to_string(getpid());
  int out = open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (out < 0) Fail(kWriteFailed, std::string("cannot create the output: ") + std::strerror(errno));
  try {
    WriteAll(out, header, headerLength);
    uint64_t total = headerLength;
    if (splice != nullptr) {
      if (splice->outputElementHeader.size() != 12) Fail(kWriteFailed, "pixel data element header incomplete");
      WriteAll(out, splice->outputElementHeader.data(), 12);
      CopyRange(inputFd, splice->valueOffset, splice->valueLength, out);
      total += 12 + splice->valueLength;
    }
    if (close(out) != 0) {
      out = -1;
      Fail(kWriteFailed, std::string("cannot finish the output: ") + std::strerror(errno));
    }
    out = -1;
    if (rename(temporary.c_str(), path.c_str()) != 0)
      Fail(kWriteFailed, std::string("cannot rename the output into place: ") + std::strerror(errno));
    return total;
  } catch (...) {
    if (out >= 0) close(out);
    unlink(temporary.c_str());
    throw;
  }
}

}  // namespace aibridge::dicom
