import type { CommissioningCase, ModelManifest } from '../../plugin/annotate/models/model-manifest';

/** What the build script needs to produce, evaluate and commission one package. */
export interface ModelDefinition {
  readonly id: string;
  graph(): Uint8Array;
  /** Everything but the measured performance and the commissioning cases. */
  manifest(performance: ModelManifest['performance'], commissioning: ModelManifest['commissioning']): ModelManifest;
  /** Files in ../shared/data: the commissioning slice(s) with their expected ranges. */
  readonly commissioning: readonly (Omit<CommissioningCase, 'input' | 'sha256'> & { readonly file: string })[];
  readonly passMark: number;
  /** Held-out files (all slices of the series not used for commissioning). */
  readonly heldOut: readonly string[];
  /** Region whose masks are compared with the reference (all its findings together). */
  readonly evaluatedRegion: string;
  /** The independent reference mask of that region for one held-out image (full resolution). */
  reference(values: Float32Array, rows: number, columns: number, spacing: readonly [number, number]): Uint8Array;
  readonly referenceDescription: string;
  statement(metrics: Readonly<Record<string, number>>): string;
}

export function seriesFiles(folder: string, count: number, name: (i: number) => string): string[] {
  return Array.from({ length: count }, (_, i) => `${folder}/${name(i + 1)}`);
}
