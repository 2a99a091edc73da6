import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import type { ImageReference } from '../../plugin/core/findings';
import type { AnnotationListResponse, AnnotationView, JobDetailResponse } from '../../plugin/core/admin-api';
import { readPart10, type NaturalDataset } from '../../plugin/annotate/results/part10-writer';
import { checkTid1500Structure } from '../../plugin/annotate/results/tid1500-structure-check';
import { repoRoot } from '../../plugin/cli/repo-root';
import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import { dciodvfy, dcmpschk } from '../annotate/results/dicom-validators';
import { lungCtSlices, type CtSlice } from '../annotate/results/lung-ct-fixture';
import { allJobs, eventually, sharedFile, startBridgeOrthanc, tempDir, uploadFile } from '../harness/bridge-orthanc';
import { OHIF_ORTHANC_CONFIG, startOhifViewer } from '../harness/ohif-viewer';

const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
const GSPS = '1.2.840.10008.5.1.4.1.1.11.1';

type Bridge = Awaited<ReturnType<typeof startBridgeOrthanc>>;

/** Mid-chest slices of the TCIA series: both lungs are in view. */
function chestSlices(count: number): CtSlice[] {
  return lungCtSlices(30).slice(12, 12 + count);
}

async function annotations(orthanc: RunningOrthanc): Promise<AnnotationView[]> {
  return [...(await orthanc.json<AnnotationListResponse>('GET', '/ai-bridge/annotations?limit=1000')).annotations];
}

async function settledAnnotation(orthanc: RunningOrthanc, what: string, accept: (a: AnnotationView) => boolean = () => true): Promise<AnnotationView> {
  return eventually(async () => (await annotations(orthanc)).find((a) => (a.state === 'done' || a.state === 'quarantined') && accept(a)), what);
}

/** The instances of a study as Orthanc stores them: id, SOP class, SOP instance UID. */
async function studyInstances(orthanc: RunningOrthanc, studyUid: string): Promise<{ id: string; sopClassUid: string; sopInstanceUid: string; modality: string }[]> {
  const found = await orthanc.json<string[]>('POST', '/tools/lookup', Buffer.from(studyUid));
  assert.ok(Array.isArray(found));
  const instances = await orthanc.json<{ ID: string; MainDicomTags: Record<string, string> }[]>('GET', `/studies/${await studyId(orthanc, studyUid)}/instances?expand`);
  return Promise.all(instances.map(async (i) => {
    const tags = await orthanc.json<Record<string, string>>('GET', `/instances/${i.ID}/tags?short`);
    return { id: i.ID, sopClassUid: tags['0008,0016'] ?? '', sopInstanceUid: tags['0008,0018'] ?? '', modality: tags['0008,0060'] ?? '' };
  }));
}

async function studyId(orthanc: RunningOrthanc, studyUid: string): Promise<string> {
  const hits = await orthanc.json<{ ID: string; Type: string }[]>('POST', '/tools/lookup', Buffer.from(studyUid));
  const study = hits.find((h) => h.Type === 'Study');
  assert.ok(study, `study ${studyUid} is not in Orthanc`);
  return study.ID;
}

function slicesWithCount(dir: string, slices: readonly CtSlice[]): string[] {
  return slices.map((slice, index) => {
    const copy = join(dir, `slice-${index}.dcm`);
    copyFileSync(slice.path, copy);
    // Images in Acquisition: the header hint that lets the series go as soon as its last slice is in.
    const run = spawnSync('dcmodify', ['-nb', '-i', `(0020,1002)=${slices.length}`, copy], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return copy;
  });
}

describe('annotation: a stored CT series comes back with its SR and GSPS', function () {
  let orthanc: Bridge | undefined;
  const temp = tempDir('annotation');
  const slices = chestSlices(8);
  const studyUid = (slices[0]?.header['StudyInstanceUID'] as string | undefined) ?? '';

  before(async function () {
    // StableAge far away: only the header count (Images in Acquisition) can release the series.
    orthanc = await startBridgeOrthanc({
      aiBridge: { ChangesPollSeconds: 2, Annotate: true, RetryBackoffSeconds: 0.5 },
      extraConfig: { ...OHIF_ORTHANC_CONFIG, StableAge: 3600 },
    });
    for (const file of slicesWithCount(temp.path, slices)) assert.equal((await uploadFile(orthanc, file)).status, 200);
  });
  after(async function () {
    await orthanc?.cleanup();
    temp.remove();
  });

  it('annotates the series once, as soon as the headers say it is complete, and delivers an SR and a GSPS into the same study', async function () {
    const running = orthanc ?? assert.fail();
    const done = await settledAnnotation(running, 'the series annotation');
    assert.equal(done.state, 'done', JSON.stringify(done));
    assert.equal(done.unit, 'series');
    assert.equal(done.model.id, 'ct-chest-lung-fields');
    assert.equal(done.members, slices.length);
    assert.equal(done.studyInstanceUid, studyUid);
    assert.equal(done.results.length, 2);
    assert.match(done.outcome ?? '', /finding\(s\) by ct-chest-lung-fields@.*SR \+ GSPS delivered/);
    const all = await annotations(running);
    assert.equal(all.filter((a) => a.unit === 'series').length, 1, 'one annotation per series');
    const detail = await running.json<{ events: { event: string; detail: string | null }[] }>('GET', `/ai-bridge/annotations/${done.id}`);
    assert.ok(!detail.events.some((e) => e.event === 'series-stable'), 'released by the header count, not by StableSeries');

    const instances = await studyInstances(running, studyUid);
    const results = instances.filter((i) => done.results.includes(i.sopInstanceUid));
    assert.deepEqual(results.map((r) => r.sopClassUid).sort(), [GSPS, COMPREHENSIVE_SR].sort());
  });

  it('recognises its own delivered results when Orthanc reports them: their jobs end done without a de-identified copy', async function () {
    const running = orthanc ?? assert.fail();
    const done = await settledAnnotation(running, 'the series annotation');
    const resultJobs = await eventually(async () => {
      const jobs = (await allJobs(running)).filter((j) => j.sopInstanceUid !== null && done.results.includes(j.sopInstanceUid));
      return jobs.length === done.results.length && jobs.every((j) => j.state === 'done') ? jobs : undefined;
    }, 'jobs of the delivered results');
    for (const job of resultJobs) {
      assert.match(job.outcome ?? '', new RegExp(`result of annotation ${String(done.id)} stored by this bridge; not de-identified again`));
      assert.equal(job.deidPath, null, 'a result of the bridge went into the de-identified store');
    }
  });

  it('puts the results on the original study: original UIDs, the original patient, references that exist in Orthanc', async function () {
    const running = orthanc ?? assert.fail();
    const done = await settledAnnotation(running, 'the series annotation');
    const instances = await studyInstances(running, studyUid);
    const sr = instances.find((i) => i.sopClassUid === COMPREHENSIVE_SR) ?? assert.fail('no SR in the study');
    const bytes = (await running.request('GET', `/instances/${sr.id}/file`)).body;
    const { dataset } = readPart10(bytes);
    const original = slices[0]?.header ?? assert.fail();
    assert.equal(dataset['StudyInstanceUID'], studyUid);
    assert.deepEqual(dataset['PatientID'], original['PatientID']);
    assert.equal(JSON.stringify(dataset['PatientName']), JSON.stringify(original['PatientName']));
    const images: ImageReference[] = slices.map((s) => s.image);
    assert.deepEqual(checkTid1500Structure(dataset, images), [], 'TID 1500 structure against the stored series');
    // Every instance the SR references is in Orthanc, in this study.
    const referenced = new Set<string>();
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (typeof value === 'object' && value !== null) {
        for (const [key, inner] of Object.entries(value as NaturalDataset)) {
          if (key === 'ReferencedSOPInstanceUID' && typeof inner === 'string') referenced.add(inner);
          walk(inner);
        }
      }
    };
    walk(dataset['ContentSequence']);
    assert.ok(referenced.size > 0);
    for (const uid of referenced) assert.ok(instances.some((i) => i.sopInstanceUid === uid), `SR references ${uid}, which is not in the study`);
    // Nothing de-identified is left in what went back: no pseudonym, no de-identified UID.
    const text = bytes.toString('latin1');
    assert.ok(!/ANON\^/.test(text), 'a pseudonymous name went back into the PACS');
    assert.equal(done.results.includes(sr.sopInstanceUid), true);
  });

  it('writes results that pass dciodvfy (SR, GSPS) and dcmpschk (GSPS)', async function () {
    const running = orthanc ?? assert.fail();
    await settledAnnotation(running, 'the series annotation');
    const instances = await studyInstances(running, studyUid);
    for (const [sopClass, name] of [[COMPREHENSIVE_SR, 'sr.dcm'], [GSPS, 'gsps.dcm']] as const) {
      const instance = instances.find((i) => i.sopClassUid === sopClass) ?? assert.fail(`no ${name}`);
      const file = join(temp.path, name);
      writeFileSync(file, (await running.request('GET', `/instances/${instance.id}/file`)).body);
      const report = dciodvfy(file);
      assert.deepEqual(report.errors, [], `${name}: ${report.output}`);
      if (sopClass === GSPS) {
        const check = dcmpschk(file);
        assert.ok(check.passed, check.output);
      }
    }
  });

  it('shows the instance jobs the annotation they fed, and a retry delivers the same objects again, not new ones', async function () {
    const running = orthanc ?? assert.fail();
    const done = await settledAnnotation(running, 'the series annotation');
    const job = (await allJobs(running)).find((j) => j.modality === 'CT') ?? assert.fail('no CT job');
    const detail = await running.json<JobDetailResponse>('GET', `/ai-bridge/jobs/${job.id}`);
    assert.deepEqual(detail.annotations.map((a) => a.id), [done.id]);
    const before = (await studyInstances(running, studyUid)).length;
    assert.equal((await running.request('POST', `/ai-bridge/annotations/${done.id}/retry`)).status, 202);
    const again = await eventually(async () => {
      const a = (await annotations(running)).find((x) => x.id === done.id);
      return a !== undefined && a.state === 'done' && a.attempts === 1 && a.finishedAt !== done.finishedAt ? a : undefined;
    }, 'the retried annotation');
    assert.deepEqual([...again.results].sort(), [...done.results].sort(), 'deterministic result UIDs');
    assert.equal((await studyInstances(running, studyUid)).length, before, 'a retry duplicated a result');
  });

  it('is drawn by OHIF v3: the SR measurement appears on the image in headless Chromium', async function () {
    const running = orthanc ?? assert.fail();
    await settledAnnotation(running, 'the series annotation');
    const instances = await studyInstances(running, studyUid);
    const sr = instances.find((i) => i.sopClassUid === COMPREHENSIVE_SR) ?? assert.fail('no SR');
    const { dataset } = readPart10((await running.request('GET', `/instances/${sr.id}/file`)).body);
    const trackingUids: string[] = [];
    const walk = (value: unknown): void => {
      if (Array.isArray(value)) value.forEach(walk);
      else if (typeof value === 'object' && value !== null) {
        const item = value as NaturalDataset;
        const concept = (item['ConceptNameCodeSequence'] as NaturalDataset[] | NaturalDataset | undefined);
        const code = Array.isArray(concept) ? concept[0]?.['CodeValue'] : concept?.['CodeValue'];
        if (code === '112040' && typeof item['UID'] === 'string') trackingUids.push(item['UID']);
        for (const inner of Object.values(item)) walk(inner);
      }
    };
    walk(dataset['ContentSequence']);
    const first = trackingUids[0] ?? assert.fail('the SR has no 112040 tracking UID');
    const viewer = await startOhifViewer({ orthancPort: running.httpPort, outputDir: join(repoRoot(), 'test-output', 'pipeline') });
    try {
      const drawn = await viewer.expectSrDrawn(studyUid, Number(dataset['SeriesNumber']), first);
      assert.match(drawn.overlay, /I:\d+ \(\d+\/8\)/);
    } finally {
      await viewer.close();
    }
  });
});

describe('annotation: series without a count, categories without a model, refusals', function () {
  let orthanc: Bridge | undefined;
  let refusing: Server | undefined;
  let refusals = 0;

  before(async function () {
    // A STOW-RS endpoint that refuses everything with a reason, as a PACS would (PS3.18 10.5.3, 409).
    refusing = createServer((request, response) => {
      request.resume();
      request.on('end', () => {
        refusals++;
        response.writeHead(409, { 'content-type': 'application/dicom+json' });
        response.end(JSON.stringify({ '00081198': { vr: 'SQ', Value: [{ '00081155': { vr: 'UI', Value: ['1.2.3'] }, '00081197': { vr: 'US', Value: [0xa700] } }] } }));
      });
    });
    await new Promise<void>((resolve) => { refusing?.listen(0, '127.0.0.1', resolve); });
    const port = (refusing.address() as AddressInfo).port;
    orthanc = await startBridgeOrthanc({
      aiBridge: { ChangesPollSeconds: 2, Annotate: true, RetryBackoffSeconds: 0.5, DicomWebUrl: `http://127.0.0.1:${port}/dicom-web` },
      extraConfig: { StableAge: 2 },
    });
  });
  after(async function () {
    await orthanc?.cleanup();
    refusing?.close();
  });

  it('waits for StableSeries when the headers give no count, then records a STOW refusal with its reason (quarantined, not retried)', async function () {
    const running = orthanc ?? assert.fail();
    for (const slice of chestSlices(4)) assert.equal((await uploadFile(running, slice.path)).status, 200);
    const settled = await settledAnnotation(running, 'the refused annotation');
    assert.equal(settled.state, 'quarantined', JSON.stringify(settled));
    assert.equal(settled.error?.code, 'AIB_STOW_REFUSED');
    assert.match(settled.error.message, /HTTP 409.*failure reason 42752/);
    assert.equal(refusals, 1, 'a refusal is not retried');
    const detail = await running.json<{ events: { event: string; detail: string | null }[] }>('GET', `/ai-bridge/annotations/${settled.id}`);
    assert.ok(detail.events.some((e) => e.event === 'series-stable' && /4 instance/.test(e.detail ?? '')), JSON.stringify(detail.events));
  });

  it('records "no applicable model" for a scan category no model serves, and the job still ends done', async function () {
    const running = orthanc ?? assert.fail();
    const upload = await uploadFile(running, sharedFile('pydicom/test_files/MR_small.dcm'));
    assert.equal(upload.status, 200);
    const job = await eventually(async () => (await allJobs(running)).find((j) => j.instanceId === upload.id && j.state === 'done'), 'the MR job');
    assert.match(job.outcome ?? '', /no applicable model for MR/);
  });
});
