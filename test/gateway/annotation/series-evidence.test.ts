import { strict as assert } from 'node:assert';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

import { readDeidHeader } from '../../../plugin/annotate/deid-header';
import type { SliceGeometry } from '../../../plugin/core/slice-geometry';
import { closedVolume, judgeSeries, quietPeriodMs, type MemberEvidence, type SeriesPolicy } from '../../../plugin/gateway/annotation/series-evidence';
import { sharedFile } from '../../harness/bridge-orthanc';

const POLICY: SeriesPolicy = { cadenceFactor: 4, pauseFactor: 1.5, minQuietMs: 1000, maxQuietMs: 20_000, minSlices: 3, spacingTolerance: 0.2 };

/** The 30 slices of a real TCIA chest CT (8 mm apart, Instance Numbers 1-30), geometry as the annotator reads it. */
function realChest(): SliceGeometry[] {
  const dir = sharedFile('tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f');
  return readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => readDeidHeader(join(dir, f)).geometry);
}

/** Arrivals 30 ms apart from t = 0, in the given order. */
function arriving(geometries: readonly SliceGeometry[], gapMs = 30): MemberEvidence[] {
  return geometries.map((geometry, i) => ({ arrivedAt: i * gapMs, geometry }));
}

function axial(instanceNumber: number | null, z: number, extra: Partial<SliceGeometry> = {}): SliceGeometry {
  return {
    instanceNumber, imagePositionPatient: [-170, -290, z], imageOrientationPatient: [1, 0, 0, 0, 1, 0],
    sliceThickness: 8, spacingBetweenSlices: null, ...extra,
  };
}

describe('series evidence: when a series of unknown size is complete', () => {
  const chest = realChest();

  it('reads position, orientation, thickness and Instance Number from the header', () => {
    assert.equal(chest.length, 30);
    assert.deepEqual(chest[0], {
      instanceNumber: 1, imagePositionPatient: [-173.1767578125, -294.1767578125, 312], imageOrientationPatient: [1, 0, 0, 0, 1, 0],
      sliceThickness: 8, spacingBetweenSlices: null,
    });
  });

  it('calls the whole real series a closed volume, and any prefix of it too (a pause at a slice boundary looks the same)', () => {
    const whole = closedVolume(arriving(chest), POLICY);
    assert.equal(whole.closed, true, JSON.stringify(whole));
    assert.match(whole.detail, /30 slices: Instance Numbers 1-30 without a gap, positions contiguous over 232 mm at 8 mm/);
    assert.equal(closedVolume(arriving(chest.slice(0, 15)), POLICY).closed, true);
  });

  it('refuses a volume with a hole, a first slice missing, a repeated number, a changed orientation, or too few slices', () => {
    const cases: [string, SliceGeometry[], RegExp][] = [
      ['a slice missing in the middle', [...chest.slice(0, 10), ...chest.slice(11)], /Instance Number 11 is missing/],
      ['the first slices missing (sent from the middle)', chest.slice(5), /lowest Instance Number is 6/],
      ['a repeated Instance Number', [...chest.slice(0, 5), { ...chest[2] ?? assert.fail(), imagePositionPatient: [0, 0, 999] }], /Instance Number 3 appears twice/],
      ['a hole in positions with numbers absent', chest.filter((_, i) => i !== 7).map((g) => ({ ...g, instanceNumber: null })), /a hole of 16 mm between slices 8 mm apart/],
      ['a tilted slice', [...chest.slice(0, 4), { ...chest[4] ?? assert.fail(), imageOrientationPatient: [1, 0, 0, 0, 0.9, 0.43] }], /orientation changes/],
      ['two slices', chest.slice(0, 2), /2 slice\(s\), fewer than 3/],
      ['every other slice, spacing not stated', [axial(1, 0), axial(2, 16), axial(3, 32), axial(4, 48)], /16 mm apart but 8 mm thick/],
      ['two slices at one position', [axial(null, 0), axial(null, 0), axial(null, 8)], /share a position/],
      ['neither numbers nor positions', [1, 2, 3].map(() => ({ ...axial(null, 0), imagePositionPatient: null })), /neither Instance Numbers nor positions/],
    ];
    for (const [what, geometries, why] of cases) {
      const verdict = closedVolume(arriving(geometries), POLICY);
      assert.equal(verdict.closed, false, what);
      assert.match(verdict.why, why, what);
    }
  });

  it('accepts slices spaced wider than thick when Spacing Between Slices says so, and numbers alone when positions are absent', () => {
    assert.equal(closedVolume(arriving([0, 5, 10, 15].map((z, i) => axial(i + 1, z, { sliceThickness: 1, spacingBetweenSlices: 5 }))), POLICY).closed, true);
    assert.equal(closedVolume(arriving([1, 2, 3].map((n) => ({ ...axial(n, 0), imagePositionPatient: null }))), POLICY).closed, true);
    // Sent bottom-up, or in any order: only the set counts.
    assert.equal(closedVolume(arriving([...chest].reverse()), POLICY).closed, true);
  });

  it('waits a multiple of the usual gap between arrivals and longer than the longest pause so far, within the bounds', () => {
    assert.deepEqual(quietPeriodMs([0, 30, 60, 100], POLICY), { ms: 1000, usualGapMs: 40, longestGapMs: 40 });
    assert.deepEqual(quietPeriodMs([0, 500, 1000], POLICY), { ms: 2000, usualGapMs: 500, longestGapMs: 500 });
    // 20 slices 30 ms apart with one 5 s pause: the pause does not set the cadence, but a next one as long must not release the series.
    const paused = Array.from({ length: 20 }, (_, i) => i * 30 + (i >= 10 ? 5000 : 0));
    assert.deepEqual(quietPeriodMs(paused, POLICY), { ms: 7545, usualGapMs: 30, longestGapMs: 5030 });
    assert.deepEqual(quietPeriodMs([0, 10_000, 20_000, 20_030], POLICY), { ms: 20_000, usualGapMs: 10_000, longestGapMs: 10_000 });
  });

  it('judges complete only once the quiet period after the last arrival has passed', () => {
    const members = arriving(chest, 30);
    const last = 29 * 30;
    const early = judgeSeries(members, last + 999, POLICY);
    assert.deepEqual(early, { complete: false, why: 'the sender may still be sending', at: last + 1000 });
    const done = judgeSeries(members, last + 1000, POLICY);
    assert.equal(done.complete, true);
    assert.match(done.detail, /no new slice for 1\.00 s \(needed 1\.00 s: 4 x the usual gap between arrivals, 0\.03 s, 1\.5 x the longest, 0\.03 s/);
    const holed = judgeSeries(arriving([...chest.slice(0, 10), ...chest.slice(11)]), 60_000, POLICY);
    assert.equal(holed.complete, false);
    assert.equal('at' in holed, false, 'a volume with a hole is left to StableSeries: no time is set');
  });
});
