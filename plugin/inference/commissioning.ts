/**
 * The commissioning test of a package (manifest.commissioning): run the model
 * on each bundled input, compare each expected measurement with its range,
 * and pass when the fraction in range reaches the pass mark. A site runs it
 * before a package may serve; the result is kept with the installed copy.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { decodeImage } from '../pixels';
import { MeasurementConcept } from './measurement-codes';
import type { LoadedModel } from './model-session';
import { analyseImages, findingsOf } from './run-inference';
import type { MeasurementKind } from '../core/model-package/model-manifest';

const CONCEPT: Readonly<Record<MeasurementKind, string>> = {
  area: MeasurementConcept.Area.value,
  mean: MeasurementConcept.Mean.value,
  longAxis: MeasurementConcept.LongAxis.value,
  volume: MeasurementConcept.Volume.value,
};

export interface CommissioningCheck {
  readonly input: string;
  readonly trackingIdentifier: string;
  readonly measurement: MeasurementKind;
  readonly min: number;
  readonly max: number;
  /** undefined: the model produced no such finding or measurement. */
  readonly value: number | undefined;
  readonly passed: boolean;
}

export interface CommissioningReport {
  readonly modelId: string;
  readonly version: string;
  readonly checks: readonly CommissioningCheck[];
  readonly fraction: number;
  readonly passMark: number;
  readonly passed: boolean;
}

export async function runCommissioning(dir: string, loaded: LoadedModel): Promise<CommissioningReport> {
  const { manifest } = loaded;
  const checks: CommissioningCheck[] = [];
  for (const c of manifest.commissioning.cases) {
    const image = decodeImage(readFileSync(join(dir, c.input)));
    const { findings } = findingsOf(manifest, await analyseImages(loaded, [image]));
    for (const e of c.expected) {
      const finding = findings.find((f) => f.trackingIdentifier === e.trackingIdentifier);
      const value = finding?.measurements.find((m) => m.concept.value === CONCEPT[e.measurement])?.value;
      checks.push({ input: c.input, ...e, value, passed: value !== undefined && value >= e.min && value <= e.max });
    }
  }
  const fraction = checks.length === 0 ? 0 : checks.filter((c) => c.passed).length / checks.length;
  return { modelId: manifest.id, version: manifest.version, checks, fraction, passMark: manifest.commissioning.passMark, passed: fraction >= manifest.commissioning.passMark };
}

/** One line per failed check, for the refusal message. */
export function commissioningFailures(report: CommissioningReport): string {
  return report.checks
    .filter((c) => !c.passed)
    .map((c) => `${c.input} ${c.trackingIdentifier} ${c.measurement} = ${c.value === undefined ? 'missing' : String(c.value)} (expected ${String(c.min)}..${String(c.max)})`)
    .join('; ');
}
