// Pixel decoding for the annotator (and, later, pixel OCR in the de-id worker):
// Part 10 bytes in, per-frame stored values (grayscale) or 8-bit RGB (colour)
// out, with the header fields needed to turn them into modality values and
// millimetres. DCMTK decodes every transfer syntax Debian ships a codec for;
// JPEG 2000 frames are handed back still encoded (plugin/pixels decodes them).
#pragma once

#include <napi.h>

namespace aibridge::pixels {

/** Registers decodeDicomPixels; registers DCMTK's JPEG, JPEG-LS and RLE decoders once. */
void RegisterPixels(Napi::Env env, Napi::Object exports);

}  // namespace aibridge::pixels
