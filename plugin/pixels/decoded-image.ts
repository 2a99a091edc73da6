/**
 * A decoded DICOM image: what an inference function needs from an instance.
 * Grayscale frames hold modality values (PS3.3 C.11.1: stored value x
 * RescaleSlope + RescaleIntercept, so Hounsfield units for CT), row-major,
 * index = row * columns + column. Colour frames hold 8-bit RGB, interleaved
 * (R,G,B per pixel), whatever the stored colour model (YBR_*, PALETTE COLOR).
 * MONOCHROME1 is reported, not inverted: values stay modality values.
 */

/** Per-frame geometry and value transforms (enhanced multi-frame images carry them per frame). */
export interface FrameGeometry {
  /** Row spacing, column spacing in mm (PixelSpacing, or the Pixel Measures macro). */
  readonly pixelSpacing?: readonly [number, number];
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  readonly windowCenter?: number;
  readonly windowWidth?: number;
  readonly imagePositionPatient?: readonly [number, number, number];
  readonly imageOrientationPatient?: readonly [number, number, number, number, number, number];
}

/** The header attributes annotation routes and measures on (de-identified values). */
export interface ImageHeader {
  readonly sopClassUid: string;
  readonly sopInstanceUid: string;
  readonly studyInstanceUid?: string;
  readonly seriesInstanceUid?: string;
  readonly modality?: string;
  readonly bodyPartExamined?: string;
  readonly studyDescription?: string;
  readonly seriesDescription?: string;
  readonly viewPosition?: string;
  readonly instanceNumber?: number;
  readonly sliceThickness?: number;
  readonly spacingBetweenSlices?: number;
  /** Projection radiography: spacing at the detector, when PixelSpacing is absent. */
  readonly imagerPixelSpacing?: readonly [number, number];
}

export type DecodedPixels =
  | { readonly kind: 'grayscale'; readonly frames: readonly Float32Array[] }
  | { readonly kind: 'rgb'; readonly frames: readonly Uint8Array[] };

export interface DecodedImage {
  readonly transferSyntaxUid: string;
  readonly rows: number;
  readonly columns: number;
  readonly numberOfFrames: number;
  readonly samplesPerPixel: number;
  /** As stored (e.g. YBR_FULL_422 even though `pixels` are RGB). */
  readonly photometricInterpretation: string;
  readonly bitsStored: number;
  /** Frame 1's values, for the common single-frame case. */
  readonly pixelSpacing?: readonly [number, number];
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  readonly windowCenter?: number;
  readonly windowWidth?: number;
  readonly frameGeometry: readonly FrameGeometry[];
  readonly header: ImageHeader;
  readonly pixels: DecodedPixels;
}
