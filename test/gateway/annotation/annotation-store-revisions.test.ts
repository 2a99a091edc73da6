import { strict as assert } from 'node:assert';
import { join } from 'node:path';

import Database from 'better-sqlite3';

import type { SliceGeometry } from '../../../plugin/core/slice-geometry';
import { orthancInstanceId } from '../../../plugin/core/branded-ids';
import { AnnotateStage } from '../../../plugin/gateway/annotation/annotation-stages';
import { AnnotationStore, type Enrolment } from '../../../plugin/gateway/annotation/annotation-store';
import type { AnnotatorPool } from '../../../plugin/gateway/annotation/annotator-pool';
import { InstanceJobs } from '../../../plugin/gateway/instance-jobs';
import { openWorkQueue, type DatabaseConfig } from '../../../plugin/gateway/work-queue/open-work-queue';
import type { SqlWorkQueue } from '../../../plugin/gateway/work-queue/sql-work-queue';
import { tempDir } from '../../harness/bridge-orthanc';
import { startPostgres, type RunningPostgres } from '../../harness/postgres-server';

function slice(n: number): SliceGeometry {
  return { instanceNumber: n, imagePositionPatient: [0, 0, -8 * n], imageOrientationPatient: [1, 0, 0, 0, 1, 0], sliceThickness: 8, spacingBetweenSlices: null };
}

const POLICY = { maxAttempts: 3, firstDelayMs: 1000, maxDelayMs: 60_000 };
const LEASE = 30_000;

for (const backend of ['sqlite', 'postgresql'] as const) describe(`annotation store on ${backend}: series released early, re-opened by late slices`, () => {
  const dir = tempDir(`annotation-revisions-${backend}`);
  let server: RunningPostgres | undefined;
  let n = 0;
  const open: SqlWorkQueue[] = [];
  before(async () => { if (backend === 'postgresql') server = await startPostgres(); });
  after(async () => {
    await server?.stop();
    dir.remove();
  });
  afterEach(async () => { await Promise.all(open.splice(0).map((q) => q.close())); });
  let clock = Date.UTC(2026, 0, 1, 12, 0, 0);
  const now = (): number => clock;
  const enrolment = (n: number): Enrolment => ({
    unit: 'series', studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: `1.2.3.4.${n}`, orthancSeriesId: 's-1',
    model: { id: 'lung', version: '1.0.0' }, expectedInstances: undefined,
    member: { jobId: n, linkToken: `t${n}`, deidPath: `d/${n}.dcm`, arrivedAt: clock, geometry: slice(n) },
  });
  async function store(path?: string): Promise<AnnotationStore> {
    n++;
    const database: DatabaseConfig = server === undefined ? { Backend: 'sqlite' } : { Backend: 'postgresql', ConnectionUri: server.uri, Schema: `a${n}` };
    const { queue, sql } = await openWorkQueue(database, path ?? join(dir.path, `a${n}.sqlite`), POLICY, now);
    open.push(queue);
    return new AnnotationStore(queue, sql, now);
  }

  it('keeps arrival times and geometry as evidence, releases on it once, and not after the series changed', async () => {
    const store1 = await store();
    for (const n of [1, 2, 3]) { await store1.enrol(enrolment(n)); clock += 30; }
    const id = (await store1.collectingWithoutCount())[0] ?? assert.fail('no collecting series');
    const evidence = await store1.seriesEvidence(id) ?? assert.fail();
    assert.deepEqual(evidence.members.map((m) => m.geometry?.instanceNumber), [1, 2, 3]);
    assert.equal(await store1.releaseOnEvidence(id, 2, 'judged on two'), false, 'a release judged on fewer members than there are');
    assert.equal(await store1.releaseOnEvidence(id, 3, 'three slices closed'), true);
    assert.equal(await store1.releaseOnEvidence(id, 3, 'again'), false);
    assert.equal(await store1.seriesEvidence(id), undefined, 'no longer collecting');
    assert.deepEqual((await store1.events(id)).map((e) => e.event), ['received', 'series-complete', 'queued']);
  });

  it('re-opens a delivered series for a late slice under the next revision, and a slice arriving during a run re-opens it when the run ends', async () => {
    const s = await store();
    const queue = s.pipelineQueue();
    for (const n of [1, 2, 3]) await s.enrol(enrolment(n));
    const id = (await s.collectingWithoutCount())[0] ?? assert.fail();
    await s.releaseOnEvidence(id, 3, 'closed');
    const run = await queue.claim('node-a:1', LEASE) ?? assert.fail();
    await queue.complete(run, 'node-a:1', 'delivered', { stages: [{ stage: 'deliver', ms: 1 }], payload: { results: ['9.1', '9.2'] } });
    assert.equal((await s.get(id))?.revision, 0);

    clock += 5000;
    const late = await s.enrol(enrolment(4));
    assert.equal(late.due, false, 'a late slice sends the series back to collecting, not straight to the model');
    assert.equal(late.annotation.state, 'collecting');
    assert.equal(late.annotation.revision, 1);
    assert.equal(late.annotation.attempts, 0, 'it starts over');
    assert.deepEqual(late.annotation.results, ['9.1', '9.2'], 'the earlier results are kept until the corrected ones replace them');
    assert.match((await s.events(id)).at(-1)?.detail ?? '', /a slice arrived after the series was released; its next results are revision 1/);

    await s.releaseOnEvidence(id, 4, 'closed again');
    const second = await queue.claim('node-a:1', LEASE) ?? assert.fail();
    assert.deepEqual(second.results, ['9.1', '9.2'], 'the run sees what it replaces');
    await s.enrol(enrolment(5));
    await queue.complete(second, 'node-a:1', 'delivered', { stages: [{ stage: 'deliver', ms: 1 }], payload: { results: ['9.3', '9.4'] } });
    const after = await s.get(id) ?? assert.fail();
    assert.equal(after.state, 'collecting', 'its results miss slice 5');
    assert.equal(after.revision, 2);
    assert.match((await s.events(id)).at(-1)?.detail ?? '', /1 slice\(s\) arrived while it ran/);

    // A retry of the same revision, or a slice that is already a member, changes nothing.
    await s.enrol(enrolment(5));
    assert.equal((await s.get(id))?.revision, 2);
    // Orthanc's StableSeries with 5 instances gives the count and releases it.
    assert.deepEqual(await s.seriesStable('s-1', 5), [id]);
    assert.equal((await s.get(id))?.state, 'queued');
    await s.recordDeliveries(id, ['9.5']);
    assert.equal(await s.ownResult('9.5'), id);
  });

  if (backend === 'sqlite') it('moves the annotations of a state.sqlite made before the work queue (and before revisions) into it, keeping their rows', async () => {
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
    const s = await store(path);
    assert.deepEqual([(await s.get(1))?.revision, (await s.get(1))?.state, (await s.get(1))?.results], [0, 'done', ['9.1']]);
    const reopened = await s.enrol(enrolment(2));
    assert.equal(reopened.annotation.id, 1, 'the same annotation, found by its unit');
    assert.equal(reopened.annotation.revision, 1);
    const evidence = await s.seriesEvidence(1) ?? assert.fail();
    assert.deepEqual(evidence.members.map((m) => m.geometry === null), [true, false], 'a member from before keeps no geometry (no early release on a guess)');
  });
});

const INSTANCES = ['00000001-00000000-00000000-00000000-00000000', '00000002-00000000-00000000-00000000-00000000'] as const;

describe('an annotation whose instances Orthanc deleted while it was collecting', () => {
  const dir = tempDir('annotation-deleted');
  after(() => { dir.remove(); });

  it('ends done with nothing to annotate, without asking the annotator, once the deleted jobs are forgotten', async () => {
    const { queue, sql } = await openWorkQueue({ Backend: 'sqlite' }, join(dir.path, 'state.sqlite'), POLICY);
    try {
      const jobs = new InstanceJobs(queue, sql);
      const annotations = new AnnotationStore(queue, sql);
      await jobs.recordChanges([{ seq: 1, instanceId: orthancInstanceId(INSTANCES[0]) }, { seq: 2, instanceId: orthancInstanceId(INSTANCES[1]) }], 2);
      for (let item = await queue.claim('instance', 'node', LEASE); item !== undefined; item = await queue.claim('instance', 'node', LEASE)) {
        await annotations.enrol({
          unit: 'series', studyInstanceUid: '1.2.3', seriesInstanceUid: '1.2.3.4', sopInstanceUid: `1.2.3.4.${item.id}`, orthancSeriesId: 's-1',
          model: { id: 'lung', version: '1.0.0' }, expectedInstances: undefined,
          member: { jobId: item.id, linkToken: `t${item.id}`, deidPath: `d/${item.id}.dcm`, arrivedAt: Date.now(), geometry: slice(item.id) },
        });
        await queue.complete(item.id, 'node', 'de-identified');
      }
      for (const id of INSTANCES) assert.equal((await jobs.forgetDeleted(orthancInstanceId(id))).state, 'forgotten');
      const annotation = (await annotations.list({ limit: 10, offset: 0 })).annotations[0] ?? assert.fail('no annotation');
      assert.deepEqual(await annotations.members(annotation.id), []);
      // The annotator is not there: a stage that asked it anything would throw.
      const stage = new AnnotateStage(undefined as unknown as AnnotatorPool, annotations);
      assert.deepEqual(await stage.run(annotation, {}), { outcome: 'nothing to annotate: every instance of the series was deleted from Orthanc', final: true });
    } finally {
      await queue.close();
    }
  });
});
