import type { ImageRegion } from '../../core/findings';

export type GraphicType = 'POINT' | 'POLYLINE' | 'ELLIPSE';

/** GraphicType and flat GraphicData (column,row pairs) for a region, as both SCOORD and GSPS graphics take them. */
export interface RegionGraphic {
  readonly graphicType: GraphicType;
  readonly graphicData: readonly number[];
}

export function regionPoints(region: ImageRegion): readonly (readonly [number, number])[] {
  switch (region.kind) {
    case 'polygon':
    case 'polyline':
      return region.points;
    case 'ellipse':
      return [...region.majorAxis, ...region.minorAxis];
    case 'point':
      return [region.point];
  }
}

/**
 * PS3.3 C.18.6.1.2 (SCOORD) and C.10.5.1.2 (GSPS): neither has a polygon type;
 * a closed polygon is a POLYLINE whose last point repeats the first. An
 * ELLIPSE is the two end points of the major axis, then of the minor axis.
 */
export function regionGraphic(region: ImageRegion): RegionGraphic {
  const points = regionPoints(region);
  const closed = region.kind === 'polygon' ? [...points, points[0] ?? [0, 0]] : points;
  const graphicType: GraphicType = region.kind === 'point' ? 'POINT' : region.kind === 'ellipse' ? 'ELLIPSE' : 'POLYLINE';
  return { graphicType, graphicData: closed.flatMap(([column, row]) => [column, row]) };
}

/**
 * Why a region cannot be drawn on an image of rows×columns, or undefined.
 * PS3.3 C.10.5.1.2: PIXEL coordinates run from (0,0), the top-left corner of
 * the top-left pixel, to (columns,rows), the bottom-right corner of the last.
 */
export function regionProblem(region: ImageRegion, rows: number, columns: number): string | undefined {
  const points = regionPoints(region);
  if (region.kind === 'polygon' && points.length < 3) return 'a polygon needs at least 3 points';
  if (region.kind === 'polyline' && points.length < 2) return 'a polyline needs at least 2 points';
  for (const [column, row] of points) {
    if (!Number.isFinite(column) || !Number.isFinite(row)) return 'a coordinate is not a finite number';
    if (column < 0 || column > columns || row < 0 || row > rows) {
      return `point (${column},${row}) lies outside the ${columns}x${rows} image`;
    }
  }
  return undefined;
}

/** Where a region's label goes: its top-most point (then left-most), which every region kind has. */
export function labelAnchor(region: ImageRegion): readonly [number, number] {
  let best: readonly [number, number] | undefined;
  for (const point of regionPoints(region)) {
    if (best === undefined || point[1] < best[1] || (point[1] === best[1] && point[0] < best[0])) best = point;
  }
  return best ?? [0, 0];
}
