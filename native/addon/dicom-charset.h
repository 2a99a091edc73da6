// Text of every character set Orthanc reads, decoded to UTF-8 without DCMTK's converter:
// DCMTK built on glibc iconv refuses ISO 2022 IR 87/159/13/58 ("not supported by the utilized
// character set conversion library") and fails a whole dataset on one bad byte. Here each
// element is decoded on its own (PS3.3 C.12.1.1.2, PS3.5 6.1.2.5): escape sequences switch
// G0/G1, each run of one character set goes through glibc iconv (EUC-JP, EUC-KR, GB2312,
// ISO 8859-n, TIS-620), GB18030/GBK values go through iconv whole, ISO_IR 192 is validated.
// An element that does not decode is not an error: it gets a lossy value (U+FFFD for each
// byte that does not decode) and is recorded, so that apply() gives it the strictest action
// of its Table E.1-1 row and no undecoded byte reaches the output (issue 13).
#pragma once

#include <string_view>

#include "dicom-dataset.h"

namespace aibridge::dicom {

/** Decodes every string element of `dataset` (any depth; an item's own (0008,0005) applies to
    that item) to UTF-8 in place and sets (0008,0005) to ISO_IR 192. An unknown term, an
    unknown escape sequence or an invalid byte makes the element undecodable (added to
    `undecodable`, lossy value), never a failure of the instance. */
void DecodeTextToUtf8(DcmDataset& dataset, std::string_view specificCharacterSet, UndecodableSet& undecodable);

/** Opens the iconv converters used above (called before the worker seals itself). */
void WarmUpCharsets();

}  // namespace aibridge::dicom
