/** Typed fiducials that replace identifiers in text (DESIGN.md: `% PATIENT NAME %`, `% DATE %`). */
export const FIDUCIAL_KINDS = ['PATIENT NAME', 'ID', 'PERSON NAME', 'PHONE', 'ADDRESS', 'INSTITUTION', 'DATE'] as const;
export type FiducialKind = (typeof FIDUCIAL_KINDS)[number];

export function fiducial(kind: FiducialKind): string {
  return `% ${kind} %`;
}

/** When two hits overlap, the kind listed first in FIDUCIAL_KINDS names the merged hit. */
export function strongerKind(a: FiducialKind, b: FiducialKind): FiducialKind {
  return FIDUCIAL_KINDS.indexOf(a) <= FIDUCIAL_KINDS.indexOf(b) ? a : b;
}
