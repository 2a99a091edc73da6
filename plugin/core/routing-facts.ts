// The facts the pipeline routes on, read once, by the sealed worker's DCMTK
// parse of the original: the gateway and the `deid` command never parse an
// instance themselves (one parser on the hot path, issues 13 and 14).
//
// PHI zone: these carry the original UIDs. They travel worker → gateway only
// (the gateway records them on the job); nothing here goes to the annotator.

/**
 * Read from the original instance. An attribute the instance lacks is `''`
 * (text) or `null` (numbers): a missing Modality, SOP Class or Body Part is
 * not an error, it only decides that no model applies.
 */
export interface RoutingFacts {
  /**
   * (0008,0018) as written, even when it is not a valid UID: Orthanc 1.10 indexes the instance by
   * that value, and the worker remaps it to a valid 2.25 UID. Never `''`: the worker's parse refuses
   * an instance without one, as Orthanc does.
   */
  readonly sopInstanceUid: string;
  readonly seriesInstanceUid: string;
  readonly studyInstanceUid: string;
  readonly sopClassUid: string;
  readonly modality: string;
  readonly bodyPartExamined: string;
  /** Of the file as read (meta header), e.g. 1.2.840.10008.1.2.1. */
  readonly transferSyntaxUid: string;
  /** (0008,0005), every value in order; `[]` when absent (default repertoire). */
  readonly specificCharacterSet: readonly string[];
  readonly instanceNumber: number | null;
  readonly numberOfFrames: number | null;
  /** Images in Acquisition (0020,1002) or Number of Slices (0054,0081), when stated. */
  readonly expectedInstances: number | null;
  /** (0020,0032) x, y, z in mm. */
  readonly imagePositionPatient: readonly [number, number, number] | null;
  /** (0020,0037) row then column direction cosines. */
  readonly imageOrientationPatient: readonly [number, number, number, number, number, number] | null;
  readonly sliceThickness: number | null;
  readonly spacingBetweenSlices: number | null;
  /** SHA-256 (hex) of the original file's bytes, as the worker read them. */
  readonly sha256: string;
  readonly sizeBytes: number;
}

export function isRoutingFacts(value: unknown): value is RoutingFacts {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  const strings = ['sopInstanceUid', 'seriesInstanceUid', 'studyInstanceUid', 'sopClassUid', 'modality', 'bodyPartExamined', 'transferSyntaxUid', 'sha256'];
  return strings.every((key) => typeof v[key] === 'string') && Array.isArray(v['specificCharacterSet']) && typeof v['sizeBytes'] === 'number';
}
