// Part 10 bytes in and out of DCMTK, memory only (the worker is sandboxed: no temp files).
#pragma once

#include <napi.h>

#include <functional>
#include <memory>
#include <string>

#include "dicom-dataset.h"

namespace aibridge::dicom {

struct Parsed {
  std::unique_ptr<DcmFileFormat> file;
  E_TransferSyntax xfer = EXS_Unknown;
  /** (0002,0010) as written in the meta header ('' without one); may name a syntax DCMTK does not know. */
  std::string metaXferUid;
  std::string originalCharset;
  /** Text elements not valid in their declared character set (dicom-charset.h). */
  UndecodableSet undecodable;
};

/** Silences DCMTK's loggers and console, loads the data dictionary and opens the
    character set converters now, before the worker seals itself. Idempotent. */
void PrepareDcmtk();

/** Parses Part 10 (with or without preamble/meta header) or a bare dataset, checks nesting,
    converts all text to UTF-8 (an element that does not decode is recorded, not refused).
    Throws DeidFailure (NOT_DICOM, TRUNCATED, UNKNOWN_TRANSFER_SYNTAX). */
Parsed ParseDicomBytes(const uint8_t* data, size_t length);

/** Encodes the dataset of `file` as Part 10 (as WritePart10) into memory from `allocate(estimate)`;
    `data` is that memory, the return value the encoded length. Takes the dataset out of `file`. */
size_t EncodePart10(DcmFileFormat& file, E_TransferSyntax xfer, const std::function<uint8_t*(size_t)>& allocate,
                    uint8_t*& data);

/** Writes `dataset` as Part 10 with a new meta header (Explicit VR LE, or `xfer` when the pixel
    data is encapsulated). Takes the dataset out of `file`. Throws DeidFailure(WRITE_FAILED). */
Napi::Value WritePart10(Napi::Env env, DcmFileFormat& file, E_TransferSyntax xfer);

}  // namespace aibridge::dicom
