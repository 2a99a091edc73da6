/**
 * From a segmentation model's output on one frame to the regions the
 * manifest reports (manifest.regions): threshold, connected components,
 * hole filling, edge-touching removal, minimum size, restriction to an
 * earlier region, right/left split. All at model resolution; outlines and
 * measurements are mapped back to the image's pixels and millimetres.
 */
import type { CodedConcept } from '../core/findings';
import type { FrameGeometry } from '../pixels';
import type { ManifestSide, ModelManifest, RegionRecipe } from '../core/model-package/model-manifest';
import { components, emptyMask, fillHoles, intersect, keepLabels, largestLabel, thresholdChannel, type BinaryMask } from './binary-mask';
import { simplifyClosed, traceBoundary } from './contour';

export interface SliceRegion {
  readonly trackingIdentifier: string;
  readonly label: string;
  readonly finding: CodedConcept;
  readonly findingSite?: CodedConcept;
  readonly recipe: RegionRecipe;
  /** The region at model resolution (manifest.input rows x columns). */
  readonly mask: BinaryMask;
  /** Image pixel coordinates (column, row) of the outline, closed, simplified. */
  readonly polygon: readonly (readonly [number, number])[];
  readonly pixelCount: number;
  /** undefined when the image has no pixel spacing. */
  readonly areaMm2?: number;
  readonly longAxisMm?: number;
  readonly mean: number;
}

export interface FramePlane {
  readonly values: Float32Array;
  readonly rows: number;
  readonly columns: number;
  readonly geometry: FrameGeometry;
  /** Used when the frame has no PixelSpacing (projection radiographs). */
  readonly fallbackSpacing?: readonly [number, number];
}

interface Scale {
  /** image pixels per model pixel, per axis */
  readonly sy: number;
  readonly sx: number;
  /** mm per image pixel (row spacing, column spacing), when known */
  readonly spacing?: readonly [number, number];
}

function regionMask(recipe: RegionRecipe, channel: BinaryMask, within: BinaryMask | undefined, minPixels: number): BinaryMask {
  let mask = within ? intersect(channel, within) : channel;
  const c = components(mask);
  const eligible = (l: number): boolean => (c.areas[l] ?? 0) >= minPixels && !(recipe.dropBorderTouching && c.touchesBorder[l] === true);
  if (recipe.select === 'largest') {
    const best = largestLabel(c, eligible);
    mask = keepLabels(c, mask.width, mask.height, (l) => l === best);
  } else {
    mask = keepLabels(c, mask.width, mask.height, eligible);
  }
  return recipe.fillHoles ? fillHoles(mask) : mask;
}

function centroidColumn(mask: BinaryMask): number | undefined {
  let sum = 0;
  let n = 0;
  for (let i = 0; i < mask.data.length; i++) {
    if (mask.data[i] === 1) {
      sum += i % mask.width;
      n++;
    }
  }
  return n > 0 ? sum / n : undefined;
}

/** Keeps the columns on one side of `split` (model columns); `below`: columns < split. */
function sideOf(mask: BinaryMask, split: number, below: boolean): BinaryMask {
  const out = emptyMask(mask.width, mask.height);
  for (let i = 0; i < mask.data.length; i++) {
    const column = i % mask.width;
    if (mask.data[i] === 1 && (column + 0.5 < split) === below) out.data[i] = 1;
  }
  return out;
}

function largestOnly(mask: BinaryMask, minPixels: number): BinaryMask | undefined {
  const c = components(mask);
  const best = largestLabel(c, (l) => (c.areas[l] ?? 0) >= minPixels);
  return best === 0 ? undefined : keepLabels(c, mask.width, mask.height, (l) => l === best);
}

function longAxis(boundary: readonly (readonly [number, number])[], scale: Scale): number | undefined {
  if (!scale.spacing) return undefined;
  const [rowMm, colMm] = scale.spacing;
  let max = 0;
  for (let i = 0; i < boundary.length; i++) {
    const a = boundary[i] ?? [0, 0];
    for (let j = i + 1; j < boundary.length; j++) {
      const b = boundary[j] ?? [0, 0];
      const d = Math.hypot((a[0] - b[0]) * scale.sx * colMm, (a[1] - b[1]) * scale.sy * rowMm);
      if (d > max) max = d;
    }
  }
  return max;
}

function meanInside(mask: BinaryMask, plane: FramePlane): number {
  let sum = 0;
  let n = 0;
  for (let r = 0; r < plane.rows; r++) {
    const mrow = Math.min(mask.height - 1, Math.floor(((r + 0.5) * mask.height) / plane.rows));
    for (let c = 0; c < plane.columns; c++) {
      const mcol = Math.min(mask.width - 1, Math.floor(((c + 0.5) * mask.width) / plane.columns));
      if (mask.data[mrow * mask.width + mcol] === 1) {
        sum += plane.values[r * plane.columns + c] ?? 0;
        n++;
      }
    }
  }
  return n > 0 ? sum / n : Number.NaN;
}

function describe(mask: BinaryMask, plane: FramePlane, scale: Scale, maxPoints: number): Omit<SliceRegion, 'trackingIdentifier' | 'label' | 'finding' | 'findingSite' | 'recipe'> {
  const boundary = traceBoundary(mask);
  // Pixel centres of the model grid, in image pixel coordinates (PS3.3 C.10.5: origin at the TLHC of the TLHC pixel).
  const polygon = simplifyClosed(boundary, maxPoints).map(([x, y]) => [(x + 0.5) * scale.sx, (y + 0.5) * scale.sy] as const);
  let pixelCount = 0;
  for (const v of mask.data) pixelCount += v;
  const areaMm2 = scale.spacing ? pixelCount * scale.sx * scale.sy * scale.spacing[0] * scale.spacing[1] : undefined;
  const longAxisMm = longAxis(boundary, scale);
  return {
    mask,
    polygon,
    pixelCount,
    mean: meanInside(mask, plane),
    ...(areaMm2 !== undefined ? { areaMm2 } : {}),
    ...(longAxisMm !== undefined ? { longAxisMm } : {}),
  };
}

/**
 * Patient right is image left when the row direction (first three values of
 * Image Orientation (Patient), LPS) points to the patient's left (+x), as in
 * every standard axial image; mirrored acquisitions flip it.
 */
function patientRightIsImageLeft(geometry: FrameGeometry): boolean {
  const rowX = geometry.imageOrientationPatient?.[0];
  return rowX === undefined || rowX >= 0;
}

export function sliceRegions(manifest: ModelManifest, output: Float32Array, plane: FramePlane): SliceRegion[] {
  const { rows: h, columns: w } = manifest.input;
  const spacing = plane.geometry.pixelSpacing ?? plane.fallbackSpacing;
  const scale: Scale = { sy: plane.rows / h, sx: plane.columns / w, ...(spacing ? { spacing } : {}) };
  const mm2PerModelPixel = spacing ? scale.sx * scale.sy * spacing[0] * spacing[1] : undefined;
  const masks = new Map<string, BinaryMask>();
  const found: SliceRegion[] = [];
  for (const recipe of manifest.regions) {
    const channel = manifest.output.channels.find((c) => c.key === recipe.channel);
    if (!channel) continue;
    const thresholded = thresholdChannel(output, channel.index * w * h, w, h, manifest.postProcessing.threshold);
    const within = recipe.within === undefined ? undefined : masks.get(recipe.within);
    const minPixels = mm2PerModelPixel ? recipe.minimumAreaMm2 / mm2PerModelPixel : 1;
    const mask = regionMask(recipe, thresholded, within, Math.max(1, minPixels));
    masks.set(recipe.key, mask);
    const report = recipe.report;
    if (report === false) continue;
    if (report.lateralise) {
      const split = centroidColumn(within ?? mask) ?? w / 2;
      const rightBelow = patientRightIsImageLeft(plane.geometry);
      const sides: [ManifestSide, boolean][] = [[report.lateralise.right, rightBelow], [report.lateralise.left, !rightBelow]];
      for (const [side, below] of sides) {
        const part = largestOnly(sideOf(mask, split, below), Math.max(1, minPixels));
        if (!part) continue;
        found.push({ trackingIdentifier: side.trackingIdentifier, label: side.label, finding: report.finding, findingSite: side.findingSite, recipe, ...describe(part, plane, scale, manifest.postProcessing.maxPolygonPoints) });
      }
      continue;
    }
    const part = largestOnly(mask, Math.max(1, minPixels));
    if (!part) continue;
    found.push({
      trackingIdentifier: report.trackingIdentifier ?? recipe.key,
      label: report.label ?? recipe.key,
      finding: report.finding,
      ...(report.findingSite ? { findingSite: report.findingSite } : {}),
      recipe,
      ...describe(part, plane, scale, manifest.postProcessing.maxPolygonPoints),
    });
  }
  return found;
}
