import type { SliceGeometry } from '../../core/slice-geometry';

/**
 * When a series whose headers state no size may be called complete, from what
 * the bridge has seen of it (issue 14), instead of Orthanc's StableAge:
 *  - its slices close a volume: Instance Numbers run from 1 without a gap, and
 *    the positions along the slice normal are evenly spaced without a hole
 *    (at Spacing Between Slices, else no wider than Slice Thickness);
 *  - and the sender has gone quiet: no new slice for `cadenceFactor` times its
 *    usual gap between two arrivals (the 90th percentile, so that one pause
 *    does not set the pace) and for `pauseFactor` times the longest pause it
 *    made so far (a sender that paused once may pause as long again), within
 *    [minQuietMs, maxQuietMs].
 * Neither can see a sender that pauses at a slice boundary and resumes later;
 * that is a false early release, which re-opens the series when the next slice
 * arrives (the corrected result replaces the first).
 */
export interface SeriesPolicy {
  readonly cadenceFactor: number;
  readonly pauseFactor: number;
  readonly minQuietMs: number;
  readonly maxQuietMs: number;
  /** Fewer slices than this never close a volume. */
  readonly minSlices: number;
  /** Allowed deviation of a gap between neighbouring slices from the nominal spacing, as a fraction of it. */
  readonly spacingTolerance: number;
}

export interface MemberEvidence {
  /** When the instance reached the bridge (its job was created from Orthanc's change), epoch ms. */
  readonly arrivedAt: number;
  readonly geometry: SliceGeometry | null;
}

export type VolumeVerdict =
  | { readonly closed: true; readonly detail: string }
  | { readonly closed: false; readonly why: string };

export type SeriesVerdict =
  | { readonly complete: true; readonly detail: string }
  /** `at`: when it will count as complete if no slice arrives meanwhile (absent: the volume is not closed). */
  | { readonly complete: false; readonly why: string; readonly at?: number };

/** Orientations within this (direction cosines) are the same plane. */
const ORIENTATION_EPSILON = 1e-3;

type Finding = { readonly known: false } | { readonly known: true; readonly ok: true; readonly detail: string } | { readonly known: true; readonly ok: false; readonly why: string };

function mm(value: number): string {
  return `${Number(value.toFixed(2))} mm`;
}

function instanceNumberRun(geometries: readonly SliceGeometry[]): Finding {
  const numbers = geometries.map((g) => g.instanceNumber);
  if (numbers.some((n) => n === null)) return { known: false };
  const sorted = (numbers as number[]).slice().sort((a, b) => a - b);
  if (sorted.some((n) => !Number.isInteger(n))) return { known: false };
  const first = sorted[0] ?? 0;
  if (first !== 1) return { known: true, ok: false, why: `the lowest Instance Number is ${first}: the slices before it have not arrived` };
  for (let i = 1; i < sorted.length; i++) {
    const previous = sorted[i - 1] ?? 0;
    const current = sorted[i] ?? 0;
    if (current === previous) return { known: true, ok: false, why: `Instance Number ${current} appears twice` };
    if (current !== previous + 1) return { known: true, ok: false, why: `Instance Number ${previous + 1} is missing` };
  }
  return { known: true, ok: true, detail: `Instance Numbers 1-${sorted.length} without a gap` };
}

function normalOf(o: readonly number[]): [number, number, number] {
  const [r0 = 0, r1 = 0, r2 = 0, c0 = 0, c1 = 0, c2 = 0] = o;
  return [r1 * c2 - r2 * c1, r2 * c0 - r0 * c2, r0 * c1 - r1 * c0];
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle] ?? 0 : ((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2;
}

/** The single value every slice states, or null when any lacks it or they differ. */
function common(values: readonly (number | null)[]): number | null {
  const first = values[0] ?? null;
  return first !== null && values.every((v) => v !== null && Math.abs(v - first) < 1e-3) ? first : null;
}

function contiguousPositions(geometries: readonly SliceGeometry[], tolerance: number): Finding {
  const orientation = geometries[0]?.imageOrientationPatient ?? null;
  if (orientation === null || geometries.some((g) => g.imagePositionPatient === null || g.imageOrientationPatient === null)) return { known: false };
  if (geometries.some((g) => g.imageOrientationPatient?.some((v, i) => Math.abs(v - (orientation[i] ?? 0)) > ORIENTATION_EPSILON) === true)) {
    return { known: true, ok: false, why: 'the image orientation changes within the series' };
  }
  const normal = normalOf(orientation);
  const along = geometries.map((g) => {
    const [x = 0, y = 0, z = 0] = g.imagePositionPatient ?? [];
    return x * normal[0] + y * normal[1] + z * normal[2];
  }).sort((a, b) => a - b);
  const gaps = along.slice(1).map((d, i) => d - (along[i] ?? 0));
  const stated = common(geometries.map((g) => g.spacingBetweenSlices));
  const nominal = stated ?? median(gaps);
  if (nominal < 0.01) return { known: true, ok: false, why: 'two slices share a position' };
  const thickness = common(geometries.map((g) => g.sliceThickness));
  // Without a stated spacing, slices further apart than they are thick may be every other slice of the volume.
  if (stated === null && thickness !== null && nominal > thickness * (1 + tolerance)) {
    return { known: true, ok: false, why: `slices ${mm(nominal)} apart but ${mm(thickness)} thick, and no Spacing Between Slices: slices may be missing` };
  }
  for (const gap of gaps) {
    if (gap < 0.01) return { known: true, ok: false, why: 'two slices share a position' };
    if (Math.abs(gap - nominal) > tolerance * nominal) return { known: true, ok: false, why: `a hole of ${mm(gap)} between slices ${mm(nominal)} apart` };
  }
  return { known: true, ok: true, detail: `positions contiguous over ${mm((along[along.length - 1] ?? 0) - (along[0] ?? 0))} at ${mm(nominal)}` };
}

/** Do these slices form one closed, contiguous volume? */
export function closedVolume(members: readonly MemberEvidence[], policy: SeriesPolicy): VolumeVerdict {
  if (members.length < policy.minSlices) return { closed: false, why: `${members.length} slice(s), fewer than ${policy.minSlices}` };
  const geometries = members.map((m) => m.geometry);
  if (geometries.some((g) => g === null)) return { closed: false, why: 'a slice without position or number' };
  const known = geometries as SliceGeometry[];
  const findings = [instanceNumberRun(known), contiguousPositions(known, policy.spacingTolerance)];
  for (const finding of findings) if (finding.known && !finding.ok) return { closed: false, why: finding.why };
  const affirmed = findings.flatMap((f) => (f.known && f.ok ? [f.detail] : []));
  if (affirmed.length === 0) return { closed: false, why: 'neither Instance Numbers nor positions are stated' };
  return { closed: true, detail: `${members.length} slices: ${affirmed.join(', ')}` };
}

export interface QuietPeriod {
  readonly ms: number;
  /** 90th percentile of the gaps between consecutive arrivals. */
  readonly usualGapMs: number;
  readonly longestGapMs: number;
}

/** How long a series must stay quiet after its last arrival, from the sender's cadence so far. */
export function quietPeriodMs(arrivals: readonly number[], policy: SeriesPolicy): QuietPeriod {
  const sorted = [...arrivals].sort((a, b) => a - b);
  const gaps = sorted.slice(1).map((t, i) => t - (sorted[i] ?? 0)).sort((a, b) => a - b);
  const usualGapMs = gaps.length === 0 ? 0 : gaps[Math.min(gaps.length - 1, Math.ceil(0.9 * gaps.length) - 1)] ?? 0;
  const longestGapMs = gaps[gaps.length - 1] ?? 0;
  const wanted = Math.max(policy.cadenceFactor * usualGapMs, policy.pauseFactor * longestGapMs);
  return { ms: Math.min(policy.maxQuietMs, Math.max(policy.minQuietMs, wanted)), usualGapMs, longestGapMs };
}

/** Is the series complete at `now`, judged from its slices and their arrival times? */
export function judgeSeries(members: readonly MemberEvidence[], now: number, policy: SeriesPolicy): SeriesVerdict {
  const volume = closedVolume(members, policy);
  if (!volume.closed) return { complete: false, why: volume.why };
  const arrivals = members.map((m) => m.arrivedAt);
  const last = Math.max(...arrivals);
  const quiet = quietPeriodMs(arrivals, policy);
  const at = last + quiet.ms;
  if (now < at) return { complete: false, why: 'the sender may still be sending', at };
  return {
    complete: true,
    detail: `${volume.detail}; no new slice for ${((now - last) / 1000).toFixed(2)} s ` +
      `(needed ${(quiet.ms / 1000).toFixed(2)} s: ${policy.cadenceFactor} x the usual gap between arrivals, ${(quiet.usualGapMs / 1000).toFixed(2)} s, ` +
      `${policy.pauseFactor} x the longest, ${(quiet.longestGapMs / 1000).toFixed(2)} s, within ${(policy.minQuietMs / 1000).toFixed(2)}-${(policy.maxQuietMs / 1000).toFixed(2)} s)`,
  };
}
