// Pixel data passes through de-identification untouched (PixelData is kept by
// every profile), so for an instance on disk only the header is parsed and
// rewritten; the pixel bytes go from the input file to the output file in the
// kernel (copy_file_range), never through DCMTK or the JS heap.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace aibridge::dicom {

/** Where the top-level Pixel Data element of a Part 10 file lies, when it can be copied as is. */
struct PixelSplice {
  /** Offset of the element's tag; the header (meta + dataset) is the bytes before it. */
  uint64_t elementOffset = 0;
  /** The element as it must appear in the output: tag, VR and length (12 bytes, Explicit VR LE). */
  std::vector<uint8_t> outputElementHeader;
  /** Bytes copied verbatim after outputElementHeader: the value (native) or the fragments and delimiter (encapsulated). */
  uint64_t valueOffset = 0;
  uint64_t valueLength = 0;
  bool encapsulated = false;
};

/** The input file: its header bytes, and how to splice its pixel data (absent → parse the whole file). */
struct SplitInput {
  std::vector<uint8_t> bytes;
  std::optional<PixelSplice> splice;
};

/**
 * Reads `fd` (`size` bytes). When the file is Part 10 in Little Endian (explicit or
 * implicit, native or encapsulated) and its last element is a top-level Pixel Data whose
 * length is consistent with the file, returns only the bytes before that element plus the
 * splice; otherwise the whole file and no splice. Never fails on odd input: whatever it
 * cannot prove is left to the full parser.
 */
SplitInput ReadForSplice(int fd, uint64_t size, const std::string& name);

/**
 * Writes `header` then (when given) the spliced pixel element from `inputFd` to `path`
 * through a temporary name in the same folder, renamed when complete; on any failure the
 * temporary file is removed and DeidFailure(WRITE_FAILED) is thrown. Returns bytes written.
 */
uint64_t WriteOutputFile(const std::string& path, const uint8_t* header, size_t headerLength,
                         const PixelSplice* splice, int inputFd);

}  // namespace aibridge::dicom
