/**
 * Where a frame lies along the slice normal (PS3.3 C.7.6.2.1.1: the normal is
 * the cross product of the row and column direction cosines), and how thick a
 * slab each slice stands for when areas are summed into a volume. Spacing can
 * vary within a series (gantry tilt, variable spacing), so each slice gets half
 * the distance to each neighbour.
 */
import type { FrameGeometry, ImageHeader } from '../pixels';

export function positionAlongNormal(geometry: FrameGeometry): number | undefined {
  const o = geometry.imageOrientationPatient;
  const p = geometry.imagePositionPatient;
  if (!o || !p) return undefined;
  const n = [o[1] * o[5] - o[2] * o[4], o[2] * o[3] - o[0] * o[5], o[0] * o[4] - o[1] * o[3]] as const;
  return p[0] * n[0] + p[1] * n[1] + p[2] * n[2];
}

/** Slab thickness (mm) per slice, in the order given; undefined when positions are missing. */
export function slabThicknesses(positions: readonly (number | undefined)[], header: ImageHeader): number[] | undefined {
  if (positions.length < 2) {
    const t = header.spacingBetweenSlices ?? header.sliceThickness;
    return t === undefined || positions.length === 0 ? undefined : [t];
  }
  if (positions.some((p) => p === undefined)) return undefined;
  const order = positions.map((p, i) => [p ?? 0, i] as const).sort((a, b) => a[0] - b[0]);
  const thickness = new Array<number>(positions.length).fill(0);
  order.forEach(([p, i], k) => {
    const before = k > 0 ? p - (order[k - 1]?.[0] ?? p) : undefined;
    const after = k < order.length - 1 ? (order[k + 1]?.[0] ?? p) - p : undefined;
    thickness[i] = before === undefined ? (after ?? 0) : after === undefined ? before : (before + after) / 2;
  });
  return thickness;
}
