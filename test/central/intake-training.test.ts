import { strict as assert } from 'node:assert';
import { mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import dcmjs from 'dcmjs';

import { runCommissioning } from '../../plugin/inference/commissioning';
import {
  CATEGORY_REQUEST_HEADER, centralPaths, type CategoryRequest, type CentralError, type IssuedSite, type PackageArchive, type SignedCatalogue,
  type TrainingJobView, type UploadReceipt,
} from '../../plugin/core/central-api';
import { unpackArchive, verifyCatalogue, verifyPackage, writePackageFiles } from '../../plugin/core/model-package';
import { createDeidEngine, type DeidEngine } from '../../plugin/deid/deid-engine';
import { deidentifyInstance } from '../../plugin/deid/deidentify-instance';
import { SiteKey } from '../../plugin/deid/pseudonyms';
import { SHARED, startHarness, type Harness } from './central-harness';

const HEAD = (n: number): string => join(SHARED, 'dcm_qa_ct/GE_head', `${String(n).padStart(2, '0')}.dcm`);
const CHEST = (n: number): string => join(SHARED, 'tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f', `1-${String(n).padStart(2, '0')}.dcm`);

function readDict(bytes: Buffer): dcmjs.data.DicomDict {
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return dcmjs.data.DicomMessage.readFile(copy);
}

/** Each site de-identifies with its own key, as two hospitals would. */
function deidentified(engine: DeidEngine, file: string, n: number): Buffer {
  return deidentifyInstance(engine, readFileSync(file), { sopInstanceUid: `1.2.3.${String(n)}.1`, seriesInstanceUid: `1.2.3.${String(n)}.2`, studyInstanceUid: `1.2.3.${String(n)}.3` }).bytes;
}

describe('central server: training intake, category requests, training job', function () {
  let h: Harness;
  let siteA: IssuedSite;
  let siteB: IssuedSite;
  const engines = {
    a: createDeidEngine('research', SiteKey.fromBytes(Buffer.alloc(32, 0x11), 'site a')),
    b: createDeidEngine('research', SiteKey.fromBytes(Buffer.alloc(32, 0x22), 'site b')),
  };

  const upload = (token: string, bytes: Buffer, headers: Record<string, string> = {}): Promise<Response> =>
    h.call('POST', centralPaths.uploads, token, bytes, { 'content-type': 'application/dicom', ...headers });
  const storedFiles = (): string[] => {
    const root = join(h.dir, 'uploads');
    return readdirSync(root, { recursive: true }).map(String).filter((p) => p.endsWith('.dcm') || p.endsWith('.tmp'));
  };

  before(async () => {
    h = await startHarness();
    siteA = await h.addSite('site-a');
    // Site B receives what the training job publishes: entitlement is empty unless granted.
    siteB = await h.addSite('site-b', ['ct-head-classifier']);
  });
  after(async () => { await h.stop(); });

  it('refuses an original (identified) instance naming every reason, and stores nothing of it', async () => {
    const response = await upload(siteA.token, readFileSync(CHEST(1)));
    assert.equal(response.status, 422);
    const error = (await response.json() as CentralError).error;
    assert.equal(error.code, 'CENTRAL_NOT_DEIDENTIFIED');
    const reasons = error.reasons ?? [];
    for (const expected of [/^SOPInstanceUID is not a 2\.25\. UID$/, /^StudyInstanceUID is not a 2\.25\. UID$/, /^SeriesInstanceUID is not a 2\.25\. UID$/,
      /^FrameOfReferenceUID is not a 2\.25\. UID$/, /^MediaStorageSOPInstanceUID is not a 2\.25\. UID$/, /^PatientName is a name that is not a pseudonym/,
      /^ReferencedImageSequence\[0\]\.ReferencedSOPInstanceUID is not a 2\.25\. UID$/,
      /^PatientID is not a pseudonym/, /^private tag \(\w{4},\w{4}\) left/]) {
      assert.ok(reasons.some((r) => expected.test(r)), `${String(expected)} in ${JSON.stringify(reasons)}`);
    }
    // The refusal names attributes, never their values.
    assert.ok(!JSON.stringify(error).includes('Lung_Dx-A0002'));
    const head = await upload(siteA.token, readFileSync(HEAD(1)));
    const headReasons = (await head.json() as CentralError).error.reasons ?? [];
    assert.ok(headReasons.some((r) => /^PatientName is a name that is not a pseudonym/.test(r)), JSON.stringify(headReasons));
    assert.deepEqual(storedFiles(), []);
    const sites = await (await h.call('GET', centralPaths.adminSites, h.adminToken)).json() as { uploads: number }[];
    assert.deepEqual(sites.map((s) => s.uploads), [0, 0]);
  });

  it('refuses a de-identified instance whose DeidentificationMethod was removed, with that one reason', async () => {
    const dict = readDict(deidentified(engines.a, HEAD(3), 3));
    delete dict.dict['00120063'];
    delete dict.dict['00120064'];
    const response = await upload(siteA.token, Buffer.from(dict.write()));
    const error = (await response.json() as CentralError).error;
    assert.deepEqual([response.status, error.code, error.reasons], [422, 'CENTRAL_NOT_DEIDENTIFIED', ['DeidentificationMethod (0012,0063) and its code sequence (0012,0064) are missing']]);
    assert.deepEqual(storedFiles(), []);
  });

  it('refuses what is not DICOM or not application/dicom', async () => {
    const notDicom = await upload(siteA.token, Buffer.from('hello'));
    assert.deepEqual([notDicom.status, (await notDicom.json() as CentralError).error.code], [400, 'CENTRAL_NOT_DICOM']);
    const wrongType = await h.call('POST', centralPaths.uploads, siteA.token, readFileSync(HEAD(1)), { 'content-type': 'application/octet-stream' });
    assert.equal(wrongType.status, 415);
  });

  it('accepts an instance de-identified by this project, with the category read from its header', async () => {
    const response = await upload(siteA.token, deidentified(engines.a, HEAD(1), 1));
    assert.equal(response.status, 201, await response.clone().text());
    const receipt = await response.json() as UploadReceipt;
    assert.match(receipt.sopInstanceUid, /^2\.25\.\d+$/);
    assert.deepEqual(receipt.category, { modality: 'CT', bodyPart: 'HEAD' });
    assert.equal(storedFiles().length, 1);
  });

  it('publishes category requests to sites and aggregates their progress for the admin', async () => {
    const created = await h.call('POST', centralPaths.adminRequests, h.adminToken,
      JSON.stringify({ category: { modality: 'CT', bodyPart: 'CHEST' }, studiesPerSite: 1, reason: 'train a chest/head classifier' }));
    assert.equal(created.status, 201);
    const request = await created.json() as CategoryRequest;
    const seen = await (await h.call('GET', centralPaths.requests, siteB.token)).json() as CategoryRequest[];
    assert.deepEqual(seen.map((r) => r.id), [request.id]);
    for (const [site, found] of [[siteA, 3], [siteB, 2]] as const) {
      const progress = await h.call('POST', centralPaths.requestProgress(request.id), site.token,
        JSON.stringify({ studiesFound: found, studiesUploaded: 1, instancesUploaded: 12, state: 'done' }));
      assert.equal(progress.status, 200, await progress.clone().text());
    }
    const bad = await h.call('POST', centralPaths.requestProgress(request.id), siteA.token, JSON.stringify({ state: 'done' }));
    assert.equal(bad.status, 400);
    const siteView = await (await h.call('GET', centralPaths.requests, siteB.token)).json() as CategoryRequest[];
    assert.deepEqual(siteView[0]?.progress.map((p) => p.siteId), ['site-b']);
    const adminView = await (await h.call('GET', centralPaths.adminRequests, h.adminToken)).json() as CategoryRequest[];
    assert.deepEqual(adminView[0]?.progress.map((p) => [p.siteId, p.studiesFound, p.state]), [['site-a', 3, 'done'], ['site-b', 2, 'done']]);
    // An upload that answers a request names it; an unknown request id is refused.
    const linked = await upload(siteA.token, deidentified(engines.a, CHEST(1), 101), { [CATEGORY_REQUEST_HEADER]: request.id });
    assert.equal(linked.status, 201);
    const unknown = await upload(siteA.token, deidentified(engines.a, CHEST(2), 102), { [CATEGORY_REQUEST_HEADER]: 'req-000000000000' });
    assert.equal(unknown.status, 404);
    // Closed: sites no longer see it, and progress is refused.
    assert.equal((await h.call('POST', centralPaths.adminRequestClose(request.id), h.adminToken)).status, 200);
    assert.deepEqual(await (await h.call('GET', centralPaths.requests, siteA.token)).json(), []);
    const late = await h.call('POST', centralPaths.requestProgress(request.id), siteA.token,
      JSON.stringify({ studiesFound: 3, studiesUploaded: 3, instancesUploaded: 30, state: 'done' }));
    assert.equal(late.status, 400);
  });

  it('trains a new model version on site A, measures it on site B only, and publishes it signed and commissioned', async () => {
    // Both sites hold slices along the whole head and chest: site A the odd ones (1 of each is in already), site B the even ones.
    for (let n = 3; n <= 25; n += 2) {
      assert.equal((await upload(siteA.token, deidentified(engines.a, HEAD(n), n))).status, 201);
      assert.equal((await upload(siteA.token, deidentified(engines.a, CHEST(n), 100 + n))).status, 201);
    }
    for (let n = 2; n <= 26; n += 2) {
      assert.equal((await upload(siteB.token, deidentified(engines.b, HEAD(n), 200 + n))).status, 201);
      assert.equal((await upload(siteB.token, deidentified(engines.b, CHEST(n), 300 + n))).status, 201);
    }
    const started = await h.call('POST', centralPaths.adminTraining, h.adminToken,
      JSON.stringify({ modelId: 'ct-head-classifier', category: { modality: 'CT', bodyPart: 'HEAD' }, trainSites: ['site-a'], evaluationSites: ['site-b'] }));
    assert.equal(started.status, 202);
    let job = await started.json() as TrainingJobView;
    await h.central.services.training.idle();
    job = await (await h.call('GET', centralPaths.adminTrainingJob(job.id), h.adminToken)).json() as TrainingJobView;
    assert.equal(job.state, 'succeeded', job.error ?? '');
    assert.equal(job.trainingInstances, 26);
    assert.equal(job.evaluationInstances, 26);
    assert.ok((job.metrics.accuracy ?? 0) >= 0.9, JSON.stringify(job.metrics));
    assert.deepEqual(job.published && [job.published.id, job.published.version], ['ct-head-classifier', '1.0.0']);

    const registryPub = readFileSync(join(h.dir, 'registry.pub'), 'utf8');
    const catalogue = verifyCatalogue(await (await h.call('GET', centralPaths.catalogue, siteB.token)).json() as SignedCatalogue, registryPub);
    const entry = catalogue.models.find((m) => m.id === 'ct-head-classifier');
    assert.deepEqual(entry?.origin, { kind: 'trained', trainingJobId: job.id });
    const archive = await (await h.call('GET', centralPaths.modelPackage('ct-head-classifier', '1.0.0'), siteB.token)).json() as PackageArchive;
    const dir = join(h.work, 'trained');
    mkdirSync(dir);
    writePackageFiles(dir, unpackArchive(archive, 'trained'));
    assert.ok(entry);
    const verified = verifyPackage(dir, [entry.author.publicKeyPem]);
    const heldOut = verified.manifest.performance.heldOut;
    assert.equal(heldOut.length, 26);
    assert.ok(heldOut.every((e) => e.includes('site site-b')), 'metrics come from the other site only');
    assert.match(verified.manifest.commissioning.cases[0]?.source ?? '', /site site-b/);
    const report = await runCommissioning(dir, verified);
    assert.ok(report.passed, JSON.stringify(report.checks));

    // A second run is the next version; evaluating on the training site is refused.
    const sameSite = await h.call('POST', centralPaths.adminTraining, h.adminToken,
      JSON.stringify({ modelId: 'ct-head-classifier', category: { modality: 'CT', bodyPart: 'HEAD' }, trainSites: ['site-a'], evaluationSites: ['site-a'] }));
    assert.equal(sameSite.status, 400);
    const second = await h.call('POST', centralPaths.adminTraining, h.adminToken,
      JSON.stringify({ modelId: 'ct-head-classifier', category: { modality: 'CT', bodyPart: 'HEAD' }, trainSites: ['site-b'], evaluationSites: ['site-a'] }));
    job = await second.json() as TrainingJobView;
    await h.central.services.training.idle();
    job = await (await h.call('GET', centralPaths.adminTrainingJob(job.id), h.adminToken)).json() as TrainingJobView;
    assert.equal(job.state, 'succeeded', job.error ?? '');
    assert.equal(job.published?.version, '1.1.0');
  });
});
