import { strict as assert } from 'node:assert';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { startCentral, type RunningCentral } from '../../central/central-server';
import { REGISTRY_PUB_FILE } from '../../central/central-store';
import { centralPaths, type CategoryRequest, type IssuedSite, type PackageArchive, type SiteView, type TrainingJobView } from '../../plugin/core/central-api';
import { keygen, packFolder, sha256Hex, signPackage } from '../../plugin/core/model-package';
import type { AnnotationListResponse, AnnotationView, CategoriesResponse, CategoryRequestsResponse, CategoryRequestView, JobListResponse, ModelListResponse, ModelView, PrivacyResponse } from '../../plugin/core/admin-api';
import { freePort, startOrthanc, type RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import { copyBuilt } from '../annotate/package-fixtures';
import { eventually, SHARED_DATA, startBridgeOrthanc, tempDir, uploadFile } from '../harness/bridge-orthanc';
import { RecordingProxy } from '../harness/recording-proxy';
import { plantedChestStudy, searchForms, type PlantedStudy } from './planted-study';

const MODEL = 'ct-chest-lung-fields';
type Bridge = Awaited<ReturnType<typeof startBridgeOrthanc>>;

async function models(site: RunningOrthanc): Promise<ModelListResponse> {
  return site.json<ModelListResponse>('GET', '/ai-bridge/models');
}

async function chestModel(site: RunningOrthanc): Promise<ModelView> {
  return (await models(site)).models.find((m) => m.id === MODEL) ?? assert.fail(`${MODEL} is not installed`);
}

async function settledSeriesAnnotations(site: RunningOrthanc, count: number): Promise<AnnotationView[]> {
  return eventually(async () => {
    const all = (await site.json<AnnotationListResponse>('GET', '/ai-bridge/annotations?limit=1000')).annotations.filter((a) => a.unit === 'series');
    return all.length >= count && all.every((a) => a.state === 'done' || a.state === 'quarantined') ? [...all] : undefined;
  }, `${String(count)} settled series annotation(s)`, 500);
}

/** A package archive with one byte of model.onnx changed (its sha256 in the archive fixed up), or without its signature. */
function rewritePackage(body: Buffer, how: 'tamper' | 'unsign'): Buffer {
  const archive = JSON.parse(body.toString('utf8')) as PackageArchive;
  const files = how === 'unsign' ? archive.files.filter((f) => f.path !== 'signature.ed25519') : archive.files.map((f) => {
    if (f.path !== 'model.onnx') return f;
    const bytes = Buffer.from(f.base64, 'base64');
    const at = Math.floor(bytes.length / 2);
    bytes[at] = (bytes[at] ?? 0) ^ 0x01;
    return { path: f.path, sha256: sha256Hex(bytes), base64: bytes.toString('base64') };
  });
  return Buffer.from(JSON.stringify({ files }), 'utf8');
}

describe('two sites and a central server: models, rollback, category requests, egress', function () {
  const temp = tempDir('two-sites');
  const author = keygen();
  const proxy = new RecordingProxy();
  let central: RunningCentral | undefined;
  let adminToken = '';
  let siteA: Bridge | undefined;
  let siteB: Bridge | undefined;
  let pacs: RunningOrthanc | undefined;
  const planted: PlantedStudy[] = [];

  const admin = async (method: string, path: string, body?: unknown): Promise<Response> => {
    const target = central ?? assert.fail('no central server');
    return fetch(`${target.url}${path}`, {
      method, headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' }, ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  };

  const publish = async (version: string): Promise<void> => {
    const dir = copyBuilt(MODEL, join(temp.path, `pkg-${version}`), (m) => ({ ...m, version }));
    signPackage(dir, author.privateKeyPem);
    const response = await admin('POST', centralPaths.adminModels, packFolder(dir));
    assert.equal(response.status, 201, await response.text());
  };

  before(async function () {
    const centralDir = join(temp.path, 'central');
    central = await startCentral({ dataDir: centralDir, port: 0, host: '127.0.0.1', trustedKeys: [{ publicKeyPem: author.publicKeyPem, modelIds: [MODEL] }] });
    adminToken = readFileSync(join(centralDir, 'admin.token'), 'utf8').trim();
    const proxyUrl = await proxy.start(central.url);

    // Site B's PACS speaks only DIMSE: a plain Orthanc holding a chest CT study, which knows site B as a C-MOVE destination.
    const siteBDicomPort = await freePort();
    const pacsDicomPort = await freePort();
    const siteConfig = async (siteId: string, extra: Record<string, unknown>): Promise<Record<string, unknown>> => {
      // Entitlement is empty unless granted: the chest model and what the training test below produces.
      const response = await admin('POST', centralPaths.adminSites, { siteId, name: `Hospital ${siteId}`, models: [MODEL, 'ct-chest-classifier'] });
      assert.equal(response.status, 201);
      const issued = await response.json() as IssuedSite;
      const dir = join(temp.path, siteId);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, 'site.token'), issued.token, { mode: 0o600 });
      return {
        ChangesPollSeconds: 2, Annotate: true, DeidProfile: 'basic', RetryBackoffSeconds: 0.5,
        Central: {
          Url: proxyUrl, SiteId: siteId, SiteTokenFile: join(dir, 'site.token'), RegistryPublicKeyFile: join(centralDir, REGISTRY_PUB_FILE),
          PollSeconds: 2, UploadForTraining: true, AnswerCategoryRequests: true,
          CategoryRequestLimits: { Categories: [{ Modality: 'CT', BodyPart: 'CHEST' }], StudiesPerRequest: 5, StudiesPerMonth: 10 }, ...extra,
        },
      };
    };
    const configA = await siteConfig('site-a', {});
    // Site B runs two annotator processes: one of them runs the link, both serve what it installs.
    const configB = await siteConfig('site-b', {
      CategorySearch: { DimsePeer: { Aet: 'PACSB', Host: '127.0.0.1', Port: pacsDicomPort, CallingAet: 'SITEB', MoveDestination: 'SITEB' } },
    });
    siteA = await startBridgeOrthanc({ aiBridge: configA, extraConfig: { StableAge: 3600 } });
    siteB = await startBridgeOrthanc({ aiBridge: { ...configB, AnnotatorProcesses: 2 }, dicomPort: siteBDicomPort, extraConfig: { StableAge: 3600, DicomAet: 'SITEB' } });
    pacs = await startOrthanc({
      dataDir: join(temp.path, 'pacs'), dicomPort: pacsDicomPort, aiBridge: false, dicomWeb: false,
      extraConfig: { DicomAet: 'PACSB', DicomModalities: { siteb: ['SITEB', '127.0.0.1', siteBDicomPort] } },
    });

    const identityA = { familyName: 'Zebulonova', givenName: 'Quiterie', patientId: 'MRN-A-774411', accession: 'ACCA90817', birthDate: '19410307', studyDate: '20230419', institution: 'Saint Brigid Infirmary', studyDescription: 'Chest Brigid protocol' };
    const identityB = { familyName: 'Oyelaran-Fitch', givenName: 'Marisol', patientId: 'MRN-B-552093', accession: 'ACCB31264', birthDate: '19570822', studyDate: '20220911', institution: 'Harbourview Clinic North', studyDescription: 'Chest Harbourview scan' };
    mkdirSync(join(temp.path, 'study-a'));
    mkdirSync(join(temp.path, 'study-b'));
    planted.push(plantedChestStudy(join(temp.path, 'study-a'), identityA, 3), plantedChestStudy(join(temp.path, 'study-b'), identityB, 3));
  });
  after(async function () {
    await siteA?.cleanup();
    await siteB?.cleanup();
    await pacs?.stop();
    await proxy.stop();
    await central?.close();
    temp.remove();
  });

  it('both sites receive a published model version: verified, commissioned, active, without a restart', async function () {
    const [a, b] = [siteA ?? assert.fail(), siteB ?? assert.fail()];
    const pidA = a.pid();
    await publish('1.1.0');
    for (const site of [a, b]) {
      const model = await eventually(async () => { const m = await chestModel(site); return m.active === '1.1.0' ? m : undefined; }, 'version 1.1.0 active', 500);
      const installed = model.versions.find((v) => v.version === '1.1.0') ?? assert.fail();
      assert.equal(installed.source, 'central');
      assert.equal(installed.signature.verified, true);
      assert.equal(installed.commissioning?.passed, true);
      assert.equal(model.rollbackTo, '1.0.0');
      // The link records the poll once the whole catalogue is handled, which may be just after the swap.
      const link = await eventually(async () => {
        const central = (await models(site)).central ?? assert.fail('no central link status');
        return central.catalogueSerial !== null && central.lastPollAt !== null ? central : undefined;
      }, 'the link status of the poll', 500);
      assert.equal(link.lastError, null);
    }
    assert.equal(a.pid(), pidA, 'Orthanc was not restarted');
    // With two annotator processes at site B, one link: the version was installed once, nobody tried twice.
    const installs = b.logText().split('\n').filter((l) => /central link: model ct-chest-lung-fields 1\.1\.0 (installed|refused)/.test(l));
    assert.equal(installs.length, 1, installs.join('\n'));
    assert.match(installs[0] ?? '', /installed and active/);
    const categories = await a.json<CategoriesResponse>('GET', '/ai-bridge/categories');
    assert.ok(categories.categories.some((c) => c.modality === 'CT' && c.bodyParts.includes('CHEST') && c.model.version === '1.1.0'));
    const lua = (await a.request('GET', '/ai-bridge/categories/orthanc.lua?target=aibridge')).body.toString('utf8');
    assert.match(lua, /function OnStoredInstance/);
    assert.match(lua, /modality = "CT", bodyParts = \{ [^}]*"CHEST"/);
  });

  it('refuses a package tampered with in transit (one byte) and an unsigned one; 1.1.0 keeps serving', async function () {
    const [a, b] = [siteA ?? assert.fail(), siteB ?? assert.fail()];
    proxy.rewrite = (method, path, body) => {
      if (method !== 'GET') return undefined;
      if (path.endsWith('/1.2.0/package')) return rewritePackage(body, 'tamper');
      if (path.endsWith('/1.3.0/package')) return rewritePackage(body, 'unsign');
      return undefined;
    };
    await publish('1.2.0');
    await publish('1.3.0');
    for (const site of [a, b]) {
      await eventually(async () => {
        const link = (await models(site)).central;
        const text = link?.lastError ?? '';
        return text.includes('1.3.0') ? text : undefined;
      }, 'the refusal of 1.3.0', 500);
      const model = await chestModel(site);
      assert.equal(model.active, '1.1.0');
      assert.deepEqual(model.versions.map((v) => v.version), ['1.0.0', '1.1.0']);
    }
    const logA = a.logText();
    assert.match(logA, /ct-chest-lung-fields 1\.2\.0 refused, the active version keeps serving: AIB_CENTRAL_PACKAGE_INVALID: .*model\.onnx is not the one the catalogue lists/);
    assert.match(logA, /ct-chest-lung-fields 1\.3\.0 refused, the active version keeps serving: .*signature\.ed25519 is missing/);
    proxy.rewrite = undefined;
  });

  it('annotates the next series with the active version; rollback is one call and the following series uses 1.0.0', async function () {
    const a = siteA ?? assert.fail();
    const study = planted[0] ?? assert.fail();
    for (const file of study.files.slice(0, 3)) assert.equal((await uploadFile(a, file)).status, 200);
    const [first] = await settledSeriesAnnotations(a, 1);
    assert.equal(first?.state, 'done', JSON.stringify(first));
    assert.deepEqual(first.model, { id: MODEL, version: '1.1.0' });

    const rolled = await a.json<ModelView>('POST', `/ai-bridge/models/${MODEL}/rollback`);
    assert.equal(rolled.active, '1.0.0');
    mkdirSync(join(temp.path, 'study-a2'));
    const second = plantedChestStudy(join(temp.path, 'study-a2'), { ...study.identity, accession: 'ACCA90818' }, 3);
    planted.push(second);
    for (const file of second.files) assert.equal((await uploadFile(a, file)).status, 200);
    const after = await settledSeriesAnnotations(a, 2);
    const newest = after.find((x) => x.studyInstanceUid !== first.studyInstanceUid) ?? assert.fail();
    assert.deepEqual(newest.model, { id: MODEL, version: '1.0.0' });
    // The delivered SR names the version that made it (TID 4019 Algorithm Version).
    assert.ok(newest.results.length > 0, 'no result delivered');
    const texts = await Promise.all(newest.results.map(async (uid) => {
      const hit = (await a.json<{ ID: string; Type: string }[]>('POST', '/tools/lookup', uid)).find((h) => h.Type === 'Instance') ?? assert.fail();
      return (await a.request('GET', `/instances/${hit.ID}/file`)).body.toString('latin1');
    }));
    assert.ok(texts.some((t) => t.includes(MODEL) && t.includes('1.0.0')), 'a result names the model id and the version that made it');
    assert.ok(texts.every((t) => !t.includes('1.1.0')), 'no result names the rolled-back-from version');
    // And activate brings 1.1.0 back, again one call.
    const activated = await a.json<ModelView>('POST', `/ai-bridge/models/${MODEL}/activate`, { version: '1.1.0' });
    assert.equal(activated.active, '1.1.0');
    // Refusals answer JSON with a code.
    const notInstalled = await a.request('POST', `/ai-bridge/models/${MODEL}/activate`, { version: '9.9.9' });
    assert.equal(notInstalled.status, 404);
    assert.match(notInstalled.body.toString('utf8'), /AIB_API_NOT_FOUND/);
    const badBody = await a.request('POST', `/ai-bridge/models/${MODEL}/activate`, 'not json');
    assert.equal(badBody.status, 400);
    const noHistory = await a.request('POST', '/ai-bridge/models/ct-head-brain/rollback');
    assert.equal(noHistory.status, 409);
    assert.match(noHistory.body.toString('utf8'), /AIB_API_CONFLICT/);
  });

  it('answers a new-category request from both sites: QIDO-RS at site A, C-FIND/C-MOVE from a DIMSE-only PACS at site B', async function () {
    const [a, b, pacsServer] = [siteA ?? assert.fail(), siteB ?? assert.fail(), pacs ?? assert.fail()];
    const studyB = planted[1] ?? assert.fail();
    for (const file of studyB.files) assert.equal((await uploadFile(pacsServer, file)).status, 200);
    const created = await admin('POST', centralPaths.adminRequests, { category: { modality: 'CT', bodyPart: 'CHEST' }, studiesPerSite: 1, reason: 'chest CT for a new classifier' });
    assert.equal(created.status, 201);
    const request = await created.json() as CategoryRequest;
    // Nothing runs until each site's administrator approves: the central server sees both sites awaiting approval.
    const awaiting = await eventually(async () => {
      const listed = await (await admin('GET', centralPaths.adminRequests)).json() as CategoryRequest[];
      const mine = listed.find((r) => r.id === request.id)?.progress.filter((p) => p.state === 'awaiting-approval') ?? [];
      return mine.length === 2 ? mine : undefined;
    }, 'both sites to list the request awaiting approval', 1000);
    assert.ok(awaiting.every((p) => p.studiesFound === 0 && p.instancesUploaded === 0));
    for (const site of [a, b]) {
      // The gateway learns the request from its annotator on its own poll, just after the link reported it.
      const mine = await eventually(async () => (await site.json<CategoryRequestsResponse>('GET', '/ai-bridge/central/requests')).requests.find((r) => r.id === request.id),
        'the request listed at the site', 500);
      assert.equal(mine.search.state, 'awaiting-approval');
      assert.equal(mine.search.instances, 0);
      const approved = await site.json<CategoryRequestView>('POST', `/ai-bridge/central/requests/${request.id}/approve`);
      assert.equal(approved.decision?.studiesGranted, 1);
      const again = await site.request('POST', `/ai-bridge/central/requests/${request.id}/approve`);
      assert.equal(again.status, 409, 'a request is approved once');
    }
    const progress = await eventually(async () => {
      const listed = await (await admin('GET', centralPaths.adminRequests)).json() as CategoryRequest[];
      const mine = listed.find((r) => r.id === request.id);
      const done = mine?.progress.filter((p) => p.state === 'done' && p.instancesUploaded > 0) ?? [];
      return done.length === 2 ? done : undefined;
    }, 'both sites to answer the request', 1000);
    assert.deepEqual(progress.map((p) => p.siteId).sort(), ['site-a', 'site-b']);
    for (const p of progress) assert.equal(p.studiesUploaded, 1);

    const viewB = await b.json<CategoryRequestsResponse>('GET', '/ai-bridge/central/requests');
    const rb = viewB.requests.find((r) => r.id === request.id) ?? assert.fail();
    assert.deepEqual(rb.search.sources, ['dicomweb', 'dimse']);
    assert.equal(rb.search.studiesFound, 1);
    assert.equal(rb.search.instances, studyB.files.length);
    assert.equal(rb.uploads.instancesUploaded, studyB.files.length);
    const jobsB = (await b.json<JobListResponse>('GET', '/ai-bridge/jobs?limit=1000')).jobs;
    assert.equal(jobsB.filter((j) => j.categoryRequest === request.id).length, studyB.files.length, 'jobs tagged with the request id');
    const viewA = await a.json<CategoryRequestsResponse>('GET', '/ai-bridge/central/requests');
    const ra = viewA.requests.find((r) => r.id === request.id) ?? assert.fail();
    assert.deepEqual(ra.search.sources, ['dicomweb']);
    assert.equal(ra.search.studiesFound, 1);
  });

  it('the central server trains a new model from both sites\' uploads (train on A, held out on B); both sites install it and use it for the next instance', async function () {
    const [a, b] = [siteA ?? assert.fail(), siteB ?? assert.fail()];
    // Negatives for a chest classifier: head CT slices, odd ones at site A, even ones at site B (uploaded for training as they are de-identified).
    for (let n = 1; n <= 14; n++) {
      const site = n % 2 === 1 ? a : b;
      assert.equal((await uploadFile(site, join(SHARED_DATA, 'dcm_qa_ct', 'GE_head', `${String(n).padStart(2, '0')}.dcm`))).status, 200);
    }
    await eventually(async () => {
      const sites = await (await admin('GET', centralPaths.adminSites)).json() as SiteView[];
      const count = (id: string): number => sites.find((x) => x.siteId === id)?.uploads ?? 0;
      return count('site-a') >= 13 && count('site-b') >= 10 ? sites : undefined;
    }, 'the head slices to reach the central server', 1000);
    const started = await admin('POST', centralPaths.adminTraining, {
      modelId: 'ct-chest-classifier', category: { modality: 'CT', bodyPart: 'CHEST' }, trainSites: ['site-a'], evaluationSites: ['site-b'],
    });
    assert.equal(started.status, 202, await started.clone().text());
    const job = await started.json() as TrainingJobView;
    const finished = await eventually(async () => {
      const view = await (await admin('GET', `${centralPaths.adminTraining}/${job.id}`)).json() as TrainingJobView;
      return view.state === 'succeeded' || view.state === 'failed' ? view : undefined;
    }, 'the training job', 1000);
    assert.equal(finished.state, 'succeeded', finished.error ?? '');
    const version = finished.published?.version ?? assert.fail('nothing published');
    for (const site of [a, b]) {
      const model = await eventually(async () => (await models(site)).models.find((m) => m.id === 'ct-chest-classifier' && m.active === version), 'the trained model active', 500);
      assert.equal(model.versions.find((v) => v.version === version)?.source, 'central');
      assert.equal(model.versions.find((v) => v.version === version)?.commissioning?.passed, true);
    }
    // The next chest instance at site B is annotated by the trained model (it serves CT CHEST per instance, and wins the tie by id).
    mkdirSync(join(temp.path, 'study-b2'));
    const next = plantedChestStudy(join(temp.path, 'study-b2'), { ...(planted[1] ?? assert.fail()).identity, accession: 'ACCB31265' }, 1);
    planted.push(next);
    assert.equal((await uploadFile(b, next.files[0] ?? assert.fail())).status, 200);
    const annotation = await eventually(async () => {
      const all = (await b.json<AnnotationListResponse>('GET', '/ai-bridge/annotations?limit=1000')).annotations;
      return all.find((x) => x.model.id === 'ct-chest-classifier' && (x.state === 'done' || x.state === 'quarantined'));
    }, 'an annotation by the trained model', 500);
    assert.equal(annotation.state, 'done', JSON.stringify(annotation));
    assert.deepEqual(annotation.model, { id: 'ct-chest-classifier', version });
  });

  it('egress proof: every byte sent to the central server holds none of the planted identifiers', function () {
    const capture = proxy.capture();
    const uploads = proxy.requests.filter((r) => r.method === 'POST' && r.path === centralPaths.uploads && r.status < 300);
    assert.ok(uploads.length >= 6, `the capture saw ${String(uploads.length)} accepted uploads`);
    assert.ok(capture.length > 100_000, 'the capture holds the uploaded instances');
    const hits = planted.flatMap((study) => searchForms(study)).filter((form) => capture.includes(form.bytes)).map((form) => form.label);
    assert.deepEqual(hits, []);
  });

  it('counts what each site sent on its Privacy page, and the count agrees with the capture', async function () {
    const counted = await Promise.all([siteA, siteB].map(async (site) =>
      (await (site ?? assert.fail()).json<PrivacyResponse>('GET', '/ai-bridge/privacy')).central));
    // Read after the sites' counts: the proxy has seen at least every request they counted.
    const capture = proxy.capture();
    const requests = proxy.requests.length;
    for (const c of counted) assert.ok(c.requests > 0 && c.bytesSent > 0 && c.lastAt !== null, JSON.stringify(c));
    const sent = counted.reduce((n, c) => n + c.bytesSent, 0);
    assert.ok(counted.reduce((n, c) => n + c.requests, 0) <= requests, 'a site counted more requests than reached the central server');
    assert.ok(sent <= capture.length, `sites counted ${String(sent)} bytes, the capture holds ${String(capture.length)}`);
    assert.ok(sent > 100_000, 'the uploads are counted');
  });

});
