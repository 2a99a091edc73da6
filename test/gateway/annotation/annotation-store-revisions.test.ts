import { strict as assert } from 'node:assert';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import type { SliceGeometry } from '../../../plugin/core/slice-geometry';
import { AnnotationStore, type Enrolment } from '../../../plugin/gateway/annotation/annotation-store';
import { tempDir } from '../../harness/bridge-orthanc';

function slice(n: number): SliceGeometry {
  return { instanceNumber: n, imagePositionPatient: [0, 0, -8 * n], imageOrientationPatient: [1, 0, 0, 0, 1, 0], sliceThickness: 8, spacingBetweenSlices: null };
}

describe('annotation store: series released early, re-opened by late slices', () => {
  const dir = tempDir('annotation-revisions');
  after(() => { dir.remove(); });
  let clock = Date.UTC(2026, 0, 1, 12, 0, 0);
  const now = (): number => clock;
  const enrolment = (n: number): Enrolment => ({
    unit: 'series', studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: `1.2.3.4.${n}`, orthancSeriesId: 's-1',
    model: { id: 'lung', version: '1.0.0' }, expectedInstances: undefined,
    member: { jobId: n, linkToken: `t${n}`, deidPath: `d/${n}.dcm`, arrivedAt: clock, geometry: slice(n) },
  });

  it('keeps arrival times and geometry as evidence, releases on it once, and not after the series changed', () => {
    const store = new AnnotationStore(join(dir.path, 'a.sqlite'), now);
    for (const n of [1, 2, 3]) { store.enrol(enrolment(n)); clock += 30; }
    const id = store.collectingWithoutCount()[0] ?? assert.fail('no collecting series');
    const evidence = store.seriesEvidence(id) ?? assert.fail();
    assert.deepEqual(evidence.members.map((m) => m.geometry?.instanceNumber), [1, 2, 3]);
    assert.equal(store.releaseOnEvidence(id, 2, 'judged on two'), false, 'a release judged on fewer members than there are');
    assert.equal(store.releaseOnEvidence(id, 3, 'three slices closed'), true);
    assert.equal(store.releaseOnEvidence(id, 3, 'again'), false);
    assert.equal(store.seriesEvidence(id), undefined, 'no longer collecting');
    assert.deepEqual(store.events(id).map((e) => e.event), ['series-complete', 'queued']);
    store.close();
  });

  it('re-opens a delivered series for a late slice under the next revision, and a slice arriving during a run re-opens it when the run ends', () => {
    const store = new AnnotationStore(join(dir.path, 'b.sqlite'), now);
    for (const n of [1, 2, 3]) store.enrol(enrolment(n));
    const id = store.collectingWithoutCount()[0] ?? assert.fail();
    store.releaseOnEvidence(id, 3, 'closed');
    const run = store.claimNext(clock) ?? assert.fail();
    store.recordFacts(run.id, { results: ['9.1', '9.2'] });
    store.complete(run.id, 'delivered');
    assert.equal(store.get(id)?.revision, 0);

    clock += 5000;
    const late = store.enrol(enrolment(4));
    assert.equal(late.due, false, 'a late slice sends the series back to collecting, not straight to the model');
    assert.equal(late.annotation.state, 'collecting');
    assert.equal(late.annotation.revision, 1);
    assert.deepEqual(late.annotation.results, ['9.1', '9.2'], 'the earlier results are kept until the corrected ones replace them');
    assert.match(store.events(id).at(-1)?.detail ?? '', /a slice arrived after the series was released; its next results are revision 1/);

    store.releaseOnEvidence(id, 4, 'closed again');
    const second = store.claimNext(clock) ?? assert.fail();
    store.enrol(enrolment(5));
    store.recordFacts(second.id, { results: ['9.3', '9.4'] });
    store.complete(second.id, 'delivered');
    const after = store.get(id) ?? assert.fail();
    assert.equal(after.state, 'collecting', 'its results miss slice 5');
    assert.equal(after.revision, 2);
    assert.match(store.events(id).at(-1)?.detail ?? '', /1 slice\(s\) arrived while it ran/);

    // A retry of the same revision, or a slice that is already a member, changes nothing.
    store.enrol(enrolment(5));
    assert.equal(store.get(id)?.revision, 2);
    store.close();
  });

  it('adds the new columns to a database made before them, keeping its rows', () => {
    const path = join(dir.path, 'old.sqlite');
    const old = new Database(path);
    old.exec(`CREATE TABLE annotations (
      id INTEGER PRIMARY KEY, unit_key TEXT NOT NULL UNIQUE, unit TEXT NOT NULL, study_instance_uid TEXT NOT NULL, series_instance_uid TEXT NOT NULL,
      orthanc_series_id TEXT NOT NULL, model_id TEXT NOT NULL, model_version TEXT NOT NULL, expected_instances INTEGER, state TEXT NOT NULL,
      stage TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL DEFAULT 0, outcome TEXT, error_code TEXT,
      error_message TEXT, results TEXT NOT NULL DEFAULT '[]', created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, finished_at INTEGER,
      last_member_at INTEGER NOT NULL);
      CREATE TABLE annotation_members (annotation_id INTEGER NOT NULL REFERENCES annotations(id), link_token TEXT NOT NULL, job_id INTEGER NOT NULL,
      deid_path TEXT NOT NULL, PRIMARY KEY (annotation_id, link_token));
      INSERT INTO annotations (unit_key, unit, study_instance_uid, series_instance_uid, orthanc_series_id, model_id, model_version, state, stage,
        results, created_at, updated_at, last_member_at) VALUES ('series:1.2.3.4:lung@1.0.0', 'series', '1.2.3', '1.2.3.4', 's-1', 'lung', '1.0.0',
        'done', 'deliver', '["9.1"]', 1, 1, 1);
      INSERT INTO annotation_members VALUES (1, 't1', 1, 'd/1.dcm');`);
    old.close();
    const store = new AnnotationStore(path, now);
    assert.equal(store.get(1)?.revision, 0);
    const reopened = store.enrol(enrolment(2));
    assert.equal(reopened.annotation.revision, 1);
    const evidence = store.seriesEvidence(1) ?? assert.fail();
    assert.deepEqual(evidence.members.map((m) => m.geometry === null), [true, false], 'a member from before keeps no geometry (no early release on a guess)');
    store.close();
  });
});
