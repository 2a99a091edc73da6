import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';

import { readPart10, type NaturalDataset } from '../../plugin/annotate/results/part10-writer';
import { resultUid } from '../../plugin/core/uid';
import type { AnnotationDetailResponse, AnnotationListResponse, AnnotationView } from '../../plugin/core/admin-api';
import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import { lungCtSlices } from '../annotate/results/lung-ct-fixture';
import { eventually, startBridgeOrthanc, tempDir, uploadFile } from '../harness/bridge-orthanc';

const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
const GSPS = '1.2.840.10008.5.1.4.1.1.11.1';

interface SentSeries { readonly studyUid: string; readonly seriesUid: string; readonly files: readonly string[]; readonly sopUids: readonly string[] }

/**
 * Eight mid-chest slices of the TCIA series (both lungs in view, 8 mm apart)
 * as a series of their own: new study, series and instance UIDs, Instance
 * Numbers 1-8, and no count in any header (the real series states none).
 */
function seriesWithoutCount(dir: string, name: string): SentSeries {
  const studyUid = resultUid('test-study', name);
  const seriesUid = resultUid('test-series', name);
  const sopUids: string[] = [];
  const files = lungCtSlices(30).slice(12, 20).map((slice, index) => {
    const copy = join(dir, `${name}-${index + 1}.dcm`);
    copyFileSync(slice.path, copy);
    const sopUid = resultUid('test-instance', name, String(index));
    sopUids.push(sopUid);
    const run = spawnSync('dcmodify', ['-nb', '-m', `(0020,000D)=${studyUid}`, '-m', `(0020,000E)=${seriesUid}`, '-m', `(0008,0018)=${sopUid}`,
      '-m', `(0020,0013)=${index + 1}`, copy], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return copy;
  });
  return { studyUid, seriesUid, files, sopUids };
}

async function seriesAnnotation(orthanc: RunningOrthanc, seriesUid: string, accept: (a: AnnotationView) => boolean, what: string): Promise<AnnotationView> {
  return eventually(async () => (await orthanc.json<AnnotationListResponse>('GET', '/ai-bridge/annotations?limit=1000')).annotations
    .find((a) => a.seriesInstanceUid === seriesUid && accept(a)), what);
}

async function events(orthanc: RunningOrthanc, id: number): Promise<{ event: string; detail: string | null }[]> {
  return [...(await orthanc.json<AnnotationDetailResponse>('GET', `/ai-bridge/annotations/${id}`)).events];
}

/** The study's SR and GSPS instances as Orthanc holds them. */
async function resultsInStudy(orthanc: RunningOrthanc, studyUid: string): Promise<{ id: string; sopClassUid: string; sopInstanceUid: string }[]> {
  const hits = await orthanc.json<{ ID: string; Type: string }[]>('POST', '/tools/lookup', Buffer.from(studyUid));
  const study = hits.find((h) => h.Type === 'Study') ?? assert.fail(`study ${studyUid} is not in Orthanc`);
  const instances = await orthanc.json<{ ID: string }[]>('GET', `/studies/${study.ID}/instances`);
  const tagged = await Promise.all(instances.map(async (i) => {
    const tags = await orthanc.json<Record<string, string>>('GET', `/instances/${i.ID}/tags?short`);
    return { id: i.ID, sopClassUid: tags['0008,0016'] ?? '', sopInstanceUid: tags['0008,0018'] ?? '' };
  }));
  return tagged.filter((i) => i.sopClassUid === COMPREHENSIVE_SR || i.sopClassUid === GSPS);
}

/**
 * What a stored result says about its series: every ReferencedSOPInstanceUID
 * in it, and, for the SR, how many slices the model ran on (its impression:
 * "Lung fields outlined ... on N slices", the lung model's report template).
 */
async function readResult(orthanc: RunningOrthanc, instanceId: string): Promise<{ references: Set<string>; slicesReported: number | undefined }> {
  const { dataset } = readPart10((await orthanc.request('GET', `/instances/${instanceId}/file`)).body);
  const references = new Set<string>();
  let slicesReported: number | undefined;
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (typeof value === 'object' && value !== null) {
      for (const [key, inner] of Object.entries(value as NaturalDataset)) {
        if (key === 'ReferencedSOPInstanceUID' && typeof inner === 'string') references.add(inner);
        const reported = key === 'TextValue' && typeof inner === 'string' ? /\bon (\d+) slices\b/.exec(inner) : null;
        if (reported !== null) slicesReported = Number(reported[1]);
        walk(inner);
      }
    }
  };
  walk(dataset);
  return { references, slicesReported };
}

describe('series without counts: complete on their evidence, corrected when a sender paused', function () {
  let orthanc: Awaited<ReturnType<typeof startBridgeOrthanc>> | undefined;
  const temp = tempDir('series-completion');

  before(async function () {
    // StableAge an hour away: only the evidence (slices closing a volume, the sender's cadence) can release these series.
    orthanc = await startBridgeOrthanc({
      aiBridge: { ChangesPollSeconds: 2, Annotate: true, RetryBackoffSeconds: 0.5 },
      extraConfig: { StableAge: 3600 },
    });
  });
  after(async function () {
    await orthanc?.cleanup();
    temp.remove();
  });

  it('annotates a series whose headers state no size once its slices close a volume and the sender is quiet, not on StableSeries', async function () {
    const running = orthanc ?? assert.fail();
    const sent = seriesWithoutCount(temp.path, 'whole');
    for (const file of sent.files) assert.equal((await uploadFile(running, file)).status, 200);
    const done = await seriesAnnotation(running, sent.seriesUid, (a) => a.state === 'done' || a.state === 'quarantined', 'the series annotation');
    assert.equal(done.state, 'done', JSON.stringify(done));
    assert.equal(done.expectedInstances, null, 'no count came from the headers or from StableSeries');
    assert.equal(done.members, 8);
    const log = await events(running, done.id);
    const complete = log.find((e) => e.event === 'series-complete') ?? assert.fail(`released without the evidence path: ${JSON.stringify(log)}`);
    assert.match(complete.detail ?? '', /^8 slices: Instance Numbers 1-8 without a gap, positions contiguous over 56 mm at 8 mm; no new slice for/);
    assert.ok(!log.some((e) => e.event === 'series-stable'), 'StableSeries released it');
    const results = await resultsInStudy(running, sent.studyUid);
    assert.deepEqual(results.map((r) => r.sopClassUid).sort(), [COMPREHENSIVE_SR, GSPS].sort());
    assert.deepEqual(results.map((r) => r.sopInstanceUid).sort(), [...done.results].sort());
  });

  it('re-opens a series released during a sender\'s pause: the corrected SR and GSPS cover every slice and replace the earlier ones', async function () {
    const running = orthanc ?? assert.fail();
    const sent = seriesWithoutCount(temp.path, 'paused');
    // The sender stops after 4 slices, long enough for the evidence (slices 1-4 contiguous, the sender quiet) to release the series.
    for (const file of sent.files.slice(0, 4)) assert.equal((await uploadFile(running, file)).status, 200);
    const early = await seriesAnnotation(running, sent.seriesUid, (a) => a.state === 'done', 'the early release');
    assert.equal(early.members, 4);
    assert.equal(early.revision, 0);
    assert.equal(early.results.length, 2);
    const earlySr = (await resultsInStudy(running, sent.studyUid)).find((r) => r.sopClassUid === COMPREHENSIVE_SR) ?? assert.fail('no first SR');
    assert.equal((await readResult(running, earlySr.id)).slicesReported, 4, 'the first SR is over the 4 slices that had arrived');

    // It resumes.
    for (const file of sent.files.slice(4)) assert.equal((await uploadFile(running, file)).status, 200);
    const corrected = await seriesAnnotation(running, sent.seriesUid, (a) => a.state === 'done' && a.members === 8 && a.id === early.id &&
      a.results.every((uid) => !early.results.includes(uid)), 'the corrected annotation');
    assert.equal(corrected.revision, 1);
    const log = await events(running, corrected.id);
    assert.ok(log.some((e) => e.event === 'reopened' && /slice arrived after the series was released; its next results are revision 1/.test(e.detail ?? '')),
      JSON.stringify(log));
    const superseded = log.find((e) => e.event === 'superseded') ?? assert.fail(`no superseded event: ${JSON.stringify(log)}`);
    assert.match(superseded.detail ?? '', /revision 1 replaces 2 earlier result\(s\), 2 deleted from Orthanc/);
    for (const uid of early.results) assert.ok(superseded.detail?.includes(uid), `the event does not name ${uid}`);
    assert.equal(log.filter((e) => e.event === 'series-complete').length, 2, 'each release on the evidence');

    // Exactly one SR and one GSPS remain, the corrected ones: the model ran on all eight slices.
    const results = await resultsInStudy(running, sent.studyUid);
    assert.deepEqual(results.map((r) => r.sopClassUid).sort(), [COMPREHENSIVE_SR, GSPS].sort(), JSON.stringify(results));
    assert.deepEqual(results.map((r) => r.sopInstanceUid).sort(), [...corrected.results].sort());
    const sr = results.find((r) => r.sopClassUid === COMPREHENSIVE_SR) ?? assert.fail();
    assert.equal((await readResult(running, sr.id)).slicesReported, 8, 'the corrected SR is over every slice');
    for (const result of results) {
      const { references } = await readResult(running, result.id);
      assert.ok(references.size > 0 && [...references].every((uid) => sent.sopUids.includes(uid)), `${result.sopClassUid} references outside the series`);
    }
  });
});
