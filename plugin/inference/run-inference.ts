/**
 * Runs one model over one de-identified instance or one complete series and
 * turns its output into findings (plugin/core/findings.ts). A series-level
 * model runs on every slice; findings are drawn on the slice where the
 * manifest's reportSlice region is largest, and volumes are summed over all
 * slices with their slab thicknesses.
 */
import type { AnnotationResult, Finding, ImageReference, Measurement } from '../core/findings';
import type { DecodedImage, ImageHeader } from '../pixels';
import { ModelError } from '../core/model-package/model-error';
import type { MeasurementKind, ModelManifest } from '../core/model-package/model-manifest';
import { MeasurementConcept, Unit } from './measurement-codes';
import { runPlane, type LoadedModel } from './model-session';
import { prepareInput } from './prepare-input';
import { positionAlongNormal, slabThicknesses } from './slice-position';
import { sliceRegions, type SliceRegion } from './slice-regions';

/**
 * One analysed frame. It keeps the header, never the pixels: a series is
 * analysed one decoded image at a time, so a 600-slice CT holds one slice's
 * samples, not 600 (the annotator's memory stays flat whatever the series).
 */
export interface AnalysedSlice {
  readonly header: ImageHeader;
  readonly reference: ImageReference;
  readonly position: number | undefined;
  readonly regions: readonly SliceRegion[];
}

function framesToRun(manifest: ModelManifest, count: number): number[] {
  if (manifest.input.frames === 'first' || count === 1) return [0];
  if (manifest.input.frames === 'middle') return [Math.floor((count - 1) / 2)];
  return Array.from({ length: count }, (_, i) => i);
}

/** The image as results reference it, with the Modality LUT and window a presentation state must repeat. */
function reference(image: DecodedImage, frame: number): ImageReference {
  const { sopClassUid, sopInstanceUid } = image.header;
  const geometry = image.frameGeometry[frame] ?? image.frameGeometry[0];
  const slope = geometry?.rescaleSlope ?? image.rescaleSlope;
  const intercept = geometry?.rescaleIntercept ?? image.rescaleIntercept;
  const center = geometry?.windowCenter ?? image.windowCenter;
  const width = geometry?.windowWidth ?? image.windowWidth;
  const hasRescale = image.pixels.kind === 'grayscale' && (slope !== 1 || intercept !== 0);
  return {
    sopClassUid,
    sopInstanceUid,
    rows: image.rows,
    columns: image.columns,
    ...(image.numberOfFrames > 1 ? { frameNumber: frame + 1 } : {}),
    ...(hasRescale ? { rescale: { intercept, slope, type: image.header.modality === 'CT' ? 'HU' : 'US' } } : {}),
    ...(center !== undefined && width !== undefined && width > 0 ? { window: { center, width } } : {}),
  };
}

function fail(manifest: ModelManifest, message: string): never {
  throw new ModelError('AIB_MODEL_INFERENCE_FAILED', `model ${manifest.id} ${manifest.version}: ${message}`, { modelId: manifest.id, version: manifest.version });
}

/**
 * Runs the model on every frame the manifest asks for; one onnxruntime call per
 * frame. `images` is consumed one at a time (a generator that decodes each file
 * when asked keeps one image in memory).
 */
export async function analyseImages(loaded: LoadedModel, images: Iterable<DecodedImage>): Promise<AnalysedSlice[]> {
  const { manifest } = loaded;
  const slices: AnalysedSlice[] = [];
  for (const image of images) {
    if (image.pixels.kind !== 'grayscale') fail(manifest, `instance ${image.header.sopInstanceUid} is colour; this model takes grayscale`);
    if (image.header.sopInstanceUid === '' || image.header.sopClassUid === '') fail(manifest, 'an image has no SOP Class/Instance UID');
    for (const frame of framesToRun(manifest, image.numberOfFrames)) {
      const values = image.pixels.frames[frame];
      const geometry = image.frameGeometry[frame];
      if (!values || !geometry) fail(manifest, `instance ${image.header.sopInstanceUid} lacks frame ${String(frame + 1)}`);
      const output = await runPlane(loaded, prepareInput(values, image.rows, image.columns, manifest.input));
      const regions = sliceRegions(manifest, output, {
        values, rows: image.rows, columns: image.columns, geometry,
        ...(image.header.imagerPixelSpacing ? { fallbackSpacing: image.header.imagerPixelSpacing } : {}),
      });
      slices.push({ header: image.header, reference: reference(image, frame), position: positionAlongNormal(geometry), regions });
    }
  }
  return slices;
}

function regionSize(r: SliceRegion): number {
  return r.areaMm2 ?? r.pixelCount;
}

/** Volume (mL) per tracking identifier over the slices, when slice positions allow. */
function volumes(slices: readonly AnalysedSlice[]): Map<string, number> {
  const out = new Map<string, number>();
  const first = slices[0];
  if (slices.length < 2 || !first) return out;
  const thickness = slabThicknesses(slices.map((s) => s.position), first.header);
  if (!thickness) return out;
  slices.forEach((s, i) => {
    for (const r of s.regions) {
      if (r.areaMm2 === undefined) continue;
      out.set(r.trackingIdentifier, (out.get(r.trackingIdentifier) ?? 0) + (r.areaMm2 * (thickness[i] ?? 0)) / 1000);
    }
  });
  return out;
}

const round = (v: number, digits: number): number => Number(v.toFixed(digits));

function measurements(r: SliceRegion, kinds: readonly MeasurementKind[], modality: string, volume: number | undefined): Measurement[] {
  const out: Measurement[] = [];
  for (const kind of kinds) {
    if (kind === 'area' && r.areaMm2 !== undefined) out.push({ concept: MeasurementConcept.Area, value: round(r.areaMm2, 1), unit: Unit.SquareMillimeter });
    if (kind === 'mean' && Number.isFinite(r.mean)) out.push({ concept: MeasurementConcept.Mean, value: round(r.mean, 1), unit: modality === 'CT' ? Unit.HounsfieldUnit : Unit.NoUnits });
    if (kind === 'longAxis' && r.longAxisMm !== undefined) out.push({ concept: MeasurementConcept.LongAxis, value: round(r.longAxisMm, 1), unit: Unit.Millimeter });
    if (kind === 'volume' && volume !== undefined) out.push({ concept: MeasurementConcept.Volume, value: round(volume, 0), unit: Unit.Milliliter });
  }
  return out;
}

function phrase(template: string, values: Readonly<Record<string, string>>): string {
  return template.replace(/\{([a-zA-Z]+)\}/g, (_, key: string) => values[key] ?? 'n/a');
}

function findingPhrase(manifest: ModelManifest, f: Finding): string {
  const values: Record<string, string> = { label: f.label };
  for (const m of f.measurements) {
    const key = m.concept === MeasurementConcept.Area ? 'area' : m.concept === MeasurementConcept.Mean ? 'mean'
      : m.concept === MeasurementConcept.LongAxis ? 'longAxis' : 'volume';
    values[key] = String(m.value);
  }
  return phrase(manifest.report.finding, values);
}

/** Findings of analysed slices (exported for commissioning, which checks single slices). */
export function findingsOf(manifest: ModelManifest, slices: readonly AnalysedSlice[]): { findings: Finding[]; slice: AnalysedSlice | undefined } {
  let best: AnalysedSlice | undefined;
  let bestSize = 0;
  for (const s of slices) {
    const size = s.regions.filter((r) => r.recipe.key === manifest.postProcessing.reportSlice).reduce((sum, r) => sum + regionSize(r), 0);
    if (size > bestSize) {
      best = s;
      bestSize = size;
    }
  }
  if (!best) return { findings: [], slice: undefined };
  const volume = volumes(slices);
  const modality = best.header.modality ?? '';
  const findings = best.regions.map((r): Finding => ({
    trackingIdentifier: r.trackingIdentifier,
    finding: r.finding,
    ...(r.findingSite ? { findingSite: r.findingSite } : {}),
    image: best.reference,
    region: { kind: 'polygon', points: r.polygon },
    measurements: measurements(r, r.recipe.report === false ? [] : r.recipe.report.measurements, modality, volume.get(r.trackingIdentifier)),
    label: r.label,
  }));
  return { findings, slice: best };
}

/**
 * The annotator's entry point: one model, the decoded de-identified images of
 * one instance (or of one complete series for a series-level model), consumed
 * one at a time.
 */
export async function runInference(loaded: LoadedModel, images: Iterable<DecodedImage>): Promise<AnnotationResult> {
  const { manifest } = loaded;
  const slices = await analyseImages(loaded, images);
  const first = slices[0]?.header;
  if (!first) fail(manifest, 'no images to annotate');
  const { findings } = findingsOf(manifest, slices);
  const summary = findings.length === 0
    ? manifest.report.noFinding
    : phrase(manifest.report.summary, { findings: findings.map((f) => findingPhrase(manifest, f)).join('; '), slices: String(slices.length) });
  return {
    model: { id: manifest.id, version: manifest.version, name: manifest.name, manufacturer: manifest.manufacturer },
    series: {
      studyInstanceUid: first.studyInstanceUid ?? '',
      seriesInstanceUid: first.seriesInstanceUid ?? '',
      modality: first.modality ?? '',
      images: slices.map((s) => s.reference),
    },
    findings,
    summary,
  };
}
