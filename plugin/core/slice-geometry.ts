// Where one image sits in its series, as its header states it: the evidence
// (besides arrival times and counts) that a series forms a closed, contiguous
// volume (issue 14). None of it identifies anyone, and de-identification keeps
// it, so the annotator reads it from the de-identified copy for the gateway.
// (The sealed worker's RoutingFacts carry the same fields from the original;
// once every job records them, the gateway can take them from there.)

/** Each field is `null` when the header lacks it or states it unreadably. */
export interface SliceGeometry {
  /** Instance Number (0020,0013). */
  readonly instanceNumber: number | null;
  /** Image Position (Patient) (0020,0032): x, y, z of the first pixel, mm. */
  readonly imagePositionPatient: readonly [number, number, number] | null;
  /** Image Orientation (Patient) (0020,0037): row then column direction cosines. */
  readonly imageOrientationPatient: readonly [number, number, number, number, number, number] | null;
  /** Slice Thickness (0018,0050), mm. */
  readonly sliceThickness: number | null;
  /** Spacing Between Slices (0018,0088), mm. */
  readonly spacingBetweenSlices: number | null;
}

function finiteOrNull(value: unknown): value is number | null {
  return value === null || (typeof value === 'number' && Number.isFinite(value));
}

function vectorOrNull(value: unknown, length: number): boolean {
  return value === null || (Array.isArray(value) && value.length === length && value.every((v) => typeof v === 'number' && Number.isFinite(v)));
}

/** Checked on arrival: it crosses a process boundary (annotator → gateway). */
export function isSliceGeometry(value: unknown): value is SliceGeometry {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return finiteOrNull(v['instanceNumber']) && finiteOrNull(v['sliceThickness']) && finiteOrNull(v['spacingBetweenSlices']) &&
    vectorOrNull(v['imagePositionPatient'], 3) && vectorOrNull(v['imageOrientationPatient'], 6);
}
