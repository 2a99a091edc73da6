// ISO 2022 code extensions (PS3.3 C.12.1.1.2, PS3.5 6.1.2.5) decoded to UTF-8 without DCMTK:
// DCMTK built on glibc iconv refuses ISO 2022 IR 87/159/13/58 ("not supported by the utilized
// character set conversion library"). Escape sequences switch G0/G1; each run of one character
// set is converted with glibc iconv (EUC-JP, EUC-KR, GB2312, ISO 8859-n).
#pragma once

#include <string>
#include <string_view>

#include "dicom-dataset.h"

namespace aibridge::dicom {

/** True if `specificCharacterSet` uses ISO 2022 code extensions (any term "ISO 2022 IR n"). */
bool UsesCodeExtensions(std::string_view specificCharacterSet);

/** Converts every text element (SH, LO, ST, LT, UC, UT, PN; any depth) of `dataset` to UTF-8.
    Throws DeidFailure(UNSUPPORTED_CHARSET) on an unknown term or escape sequence. */
void ConvertIso2022ToUtf8(DcmDataset& dataset, std::string_view specificCharacterSet);

/** Opens the iconv converters used above (called before the worker seals itself). */
void WarmUpIso2022();

}  // namespace aibridge::dicom
