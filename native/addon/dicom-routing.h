// routing(): the RoutingFacts of plugin/core/routing-facts.ts, read from the one DCMTK parse
// of the original (issues 13, 14: the gateway and the CLI never parse an instance).
#pragma once

#include <napi.h>

#include <cstdint>
#include <string>

#include "dicom-dataset.h"

namespace aibridge::dicom {

/** SHA-256 (lower-case hex) of `length` bytes. */
std::string Sha256Hex(const uint8_t* data, size_t length);

/** SHA-256 (hex) of the whole regular file behind `fd` (`size` bytes), read through a private
    mapping so the bytes never pass through the JS heap. Throws DeidFailure(WRITE_FAILED). */
std::string Sha256OfFile(int fd, uint64_t size);

/** What routing() needs besides the dataset. */
struct RoutingInput {
  E_TransferSyntax xfer = EXS_Unknown;   // the syntax the dataset was read in
  std::string originalCharset;           // (0008,0005) as read, before the conversion to UTF-8
  std::string sha256;                    // of the input's bytes
  uint64_t sizeBytes = 0;
};

/** The RoutingFacts object; a missing attribute is '' or null, never an error. */
Napi::Object Routing(Napi::Env env, DcmFileFormat& file, const RoutingInput& input);

/** The ScanCategory (plugin/core/model-package/scan-category.ts) of a dataset: read from the
    de-identified dataset after apply, so the gateway chooses the model on the values the model
    will see (a description the profile removed chooses nothing), without parsing the copy again. */
Napi::Object ScanCategory(Napi::Env env, DcmItem& ds);

}  // namespace aibridge::dicom
