/**
 * The held-out measurement behind each package's performance statement:
 * Dice of the model's region against the independent reference segmentation
 * on every held-out slice, and the region's volume over the whole series.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import type { LoadedModel } from '../../plugin/inference/model-session';
import { analyseImages, findingsOf } from '../../plugin/inference/run-inference';
import { decodeImage, type DecodedImage } from '../../plugin/pixels';
import type { ModelDefinition } from './model-definition';
import { dice } from './reference-segmentation';

export interface Evaluation {
  readonly metrics: Readonly<Record<string, number>>;
  readonly perSlice: readonly { readonly file: string; readonly dice: number; readonly referencePixels: number }[];
}

function fullResolution(mask: Uint8Array, width: number, height: number, rows: number, columns: number): Uint8Array {
  const out = new Uint8Array(rows * columns);
  for (let r = 0; r < rows; r++) {
    const mr = Math.min(height - 1, Math.floor(((r + 0.5) * height) / rows));
    for (let c = 0; c < columns; c++) out[r * columns + c] = mask[mr * width + Math.min(width - 1, Math.floor(((c + 0.5) * width) / columns))] ?? 0;
  }
  return out;
}

const round3 = (v: number): number => Number(v.toFixed(3));

export async function evaluateModel(definition: ModelDefinition, loaded: LoadedModel, dataDir: string): Promise<Evaluation> {
  const decoded = new Map<string, DecodedImage>();
  const load = (file: string): DecodedImage => {
    let image = decoded.get(file);
    if (!image) {
      image = decodeImage(readFileSync(join(dataDir, file)));
      decoded.set(file, image);
    }
    return image;
  };
  const perSlice: { file: string; dice: number; referencePixels: number }[] = [];
  for (const file of definition.heldOut) {
    const image = load(file);
    const [slice] = await analyseImages(loaded, [image]);
    const values = image.pixels.frames[0];
    if (!slice || !(values instanceof Float32Array) || !image.pixelSpacing) throw new Error(`${file}: not a grayscale image with pixel spacing`);
    const { rows, columns } = loaded.manifest.input;
    const union = new Uint8Array(rows * columns);
    for (const r of slice.regions) if (r.recipe.key === definition.evaluatedRegion) r.mask.data.forEach((v, i) => { if (v === 1) union[i] = 1; });
    const reference = definition.reference(values, image.rows, image.columns, image.pixelSpacing);
    let referencePixels = 0;
    for (const v of reference) referencePixels += v;
    perSlice.push({ file, dice: dice(fullResolution(union, columns, rows, image.rows, image.columns), reference), referencePixels });
  }
  const scored = perSlice.filter((s) => s.referencePixels > 0);
  const all = [...definition.heldOut, ...definition.commissioning.map((c) => c.file)].sort().map(load);
  const { findings } = findingsOf(loaded.manifest, await analyseImages(loaded, all));
  const volumeOf = (f: (typeof findings)[number] | undefined): number => f?.measurements.find((m) => m.concept.value === '118565006')?.value ?? 0;
  const volumes = findings.map(volumeOf);
  return {
    perSlice,
    metrics: {
      slices: definition.heldOut.length,
      slicesWithRegion: scored.length,
      meanDice: round3(scored.reduce((s, x) => s + x.dice, 0) / Math.max(1, scored.length)),
      minDice: round3(Math.min(...scored.map((s) => s.dice))),
      volumeMl: volumes.reduce((a, b) => a + b, 0),
      rightMl: volumeOf(findings.find((f) => f.trackingIdentifier.startsWith('right'))),
      leftMl: volumeOf(findings.find((f) => f.trackingIdentifier.startsWith('left'))),
    },
  };
}
