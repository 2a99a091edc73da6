// Pixel decoding for the annotator and for Clean Pixel Data in the de-id worker:
// Part 10 bytes in, per-frame stored values (grayscale) or 8-bit RGB (colour)
// out, with the header fields needed to turn them into modality values and
// millimetres. DCMTK decodes every transfer syntax Debian ships a codec for;
// JPEG 2000 frames are handed back still encoded (plugin/pixels decodes them).
#pragma once

#include <napi.h>

#include <dcmtk/config/osconfig.h>
#include <dcmtk/dcmdata/dctk.h>

namespace aibridge::pixels {

/** Registers decodeDicomPixels; registers DCMTK's JPEG, JPEG-LS and RLE decoders once. */
void RegisterPixels(Napi::Env env, Napi::Object exports);

/**
 * Clean Pixel Data, on an original already parsed by the de-id worker (with its nesting and
 * item bounds): decodes the pixel data in place (except JPEG 2000, returned still encoded)
 * and returns the STORED sample words of every frame as they sit after decoding, with the
 * layout and the attributes the cleaning needs. Frame lengths are checked exactly. Throws a
 * JS Error whose `code` is AIB_PIXELS_*.
 */
Napi::Value StoredPixelsJs(Napi::Env env, DcmDataset& ds, E_TransferSyntax xfer);

/**
 * Replaces the Pixel Data with native (uncompressed) samples and updates the Image Pixel
 * attributes and the lossy-compression history (BurnedInAnnotation is a marker of apply()). The dataset must then be
 * written as Explicit VR Little Endian. Throws a JS Error whose `code` is AIB_PIXELS_*.
 */
void ReplacePixelDataJs(Napi::Env env, DcmDataset& ds, const Napi::Value& replacement);

}  // namespace aibridge::pixels
