import { strict as assert } from 'node:assert';
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { CentralLinkSettings } from '../../plugin/core/annotate-messages';
import { CentralLink } from '../../plugin/annotate/central-link/central-link';
import { registryInstaller } from '../../plugin/annotate/central-link/model-installer';
import { LinkStateFile } from '../../plugin/annotate/central-link/link-state';
import { UploadQueue } from '../../plugin/annotate/central-link/upload-queue';
import { describeModel } from '../../plugin/annotate/models/installed-models';
import { ModelRegistry } from '../../plugin/annotate/models/model-registry';
import { keygen, sha256Hex } from '../../plugin/core/model-package';
import { BUILT_PACKAGES } from '../annotate/package-fixtures';
import { tempDir } from '../harness/bridge-orthanc';
import { ContractServer } from './contract-server';
import { tamperedArchive, unsignedArchive, versionOf } from './package-builder';

const MODEL = 'ct-chest-lung-fields';

describe('central link (annotator) against a loopback server speaking the contract', function () {
  const temp = tempDir('central-link');
  const registryKey = keygen();
  const author = keygen();
  const token = 'site-token-0123456789abcdef';
  const server = new ContractServer(token, registryKey.privateKeyPem);
  const lines: string[] = [];
  let registry: ModelRegistry;
  let link: CentralLink;
  let state: LinkStateFile;
  const centralDir = join(temp.path, 'central');
  const deidDir = join(temp.path, 'deid');

  before(async function () {
    const url = await server.start();
    writeFileSync(join(temp.path, 'site.token'), `${token}\n`, { mode: 0o600 });
    writeFileSync(join(temp.path, 'registry.pub'), registryKey.publicKeyPem);
    registry = new ModelRegistry(join(temp.path, 'models'));
    await registry.installBuilt(join(BUILT_PACKAGES, MODEL));
    const settings: CentralLinkSettings = {
      url, siteId: 'site-a', siteTokenFile: join(temp.path, 'site.token'), registryPublicKeyFile: join(temp.path, 'registry.pub'),
      pollSeconds: 3600, uploadForTraining: true, answerCategoryRequests: true, uploadAttempts: 2,
    };
    link = new CentralLink(settings, registryInstaller(registry), centralDir, (line) => { lines.push(line); });
    state = new LinkStateFile(centralDir);
  });
  after(async function () {
    link.stop();
    await server.stop();
    temp.remove();
  });

  it('installs a published version (verified, commissioned, active at once), and a second poll costs a 304', async function () {
    const next = versionOf(MODEL, '1.0.1', join(temp.path, 'v101'), author);
    server.publish(next.entry, next.archive);
    await link.pollOnce();
    assert.equal(state.read().lastError, null, String(state.read().lastError));
    const model = describeModel(registry, MODEL);
    assert.equal(model.active, '1.0.1');
    assert.equal(model.rollbackTo, '1.0.0');
    const installed = model.versions.find((v) => v.version === '1.0.1');
    assert.equal(installed?.source, 'central');
    assert.equal(installed.signature.verified, true);
    assert.equal(installed.commissioning?.passed, true);
    assert.equal(model.versions.find((v) => v.version === '1.0.0')?.source, 'bundled');
    // Another process (a new registry object on the same folder) serves it from its next load on.
    assert.equal(new ModelRegistry(join(temp.path, 'models')).load(MODEL).manifest.version, '1.0.1');
    assert.equal(state.read().catalogueSerial, server.serial);
    await link.pollOnce();
    assert.deepEqual(server.hits.filter((h) => h.path === '/api/v1/catalogue').map((h) => h.status), [200, 304]);
  });

  it('refuses a tampered package (one byte, with and without a fixed-up sha256) and an unsigned one; 1.0.1 keeps serving', async function () {
    const transit = versionOf(MODEL, '1.0.2', join(temp.path, 'v102'), author);
    server.publish(transit.entry, tamperedArchive(transit.archive, false));
    const fixed = versionOf(MODEL, '1.0.3', join(temp.path, 'v103'), author);
    server.publish(fixed.entry, tamperedArchive(fixed.archive, true));
    // A catalogue that itself lists the changed bytes: only the author's signature is left to notice.
    const atRest = versionOf(MODEL, '1.0.4', join(temp.path, 'v104'), author);
    const changed = tamperedArchive(atRest.archive, true);
    const changedModel = Buffer.from(changed.files.find((f) => f.path === 'model.onnx')?.base64 ?? '', 'base64');
    server.publish({ ...atRest.entry, modelSha256: sha256Hex(changedModel) }, changed);
    const unsigned = versionOf(MODEL, '1.0.5', join(temp.path, 'v105'), author);
    server.publish(unsigned.entry, unsignedArchive(unsigned.archive));
    await link.pollOnce();
    const refused = new Map(state.read().refused.map((r) => [r.version, r]));
    assert.match(refused.get('1.0.2')?.reason ?? '', /model\.onnx does not match its sha256/);
    assert.match(refused.get('1.0.3')?.reason ?? '', /model\.onnx is not the one the catalogue lists/);
    assert.equal(refused.get('1.0.4')?.code, 'AIB_MODEL_SIGNATURE_INVALID');
    assert.match(refused.get('1.0.5')?.reason ?? '', /signature\.ed25519 is missing/);
    const model = describeModel(registry, MODEL);
    assert.equal(model.active, '1.0.1');
    assert.deepEqual(model.versions.map((v) => v.version), ['1.0.0', '1.0.1']);
    assert.ok(lines.some((l) => l.includes('1.0.4 refused, the active version keeps serving')));
    // Refused once, not fetched again every poll.
    const fetches = server.hits.filter((h) => h.path.endsWith('/1.0.2/package')).length;
    server.serial++;
    await link.pollOnce();
    assert.equal(server.hits.filter((h) => h.path.endsWith('/1.0.2/package')).length, fetches);
  });

  it('refuses a catalogue signed by another key, and a replayed lower serial', async function () {
    server.signingKeyPem = keygen().privateKeyPem;
    server.serial++;
    await link.pollOnce();
    assert.match(state.read().lastError ?? '', /AIB_CENTRAL_CATALOGUE_INVALID/);
    server.signingKeyPem = registryKey.privateKeyPem;
    const seen = state.read().catalogueSerial ?? 0;
    server.serial = seen - 1;
    await link.pollOnce();
    assert.match(state.read().lastError ?? '', /AIB_CENTRAL_CATALOGUE_REPLAYED/);
    assert.equal(state.read().catalogueSerial, seen);
    server.serial = seen + 5;
    await link.pollOnce();
    assert.equal(state.read().lastError, null);
  });

  it('refuses a catalogue issued to another site, an expired one, one older than the accepted one, and the accepted serial with other models', async function () {
    const accepted = state.read();
    const poll = async (change: () => void): Promise<string> => {
      change();
      server.reissue++;
      await link.pollOnce();
      return state.read().lastError ?? '';
    };
    assert.match(await poll(() => { server.serial++; server.siteId = 'site-b'; }), /AIB_CENTRAL_CATALOGUE_WRONG_SITE: .*"site-b", not to this site/);
    server.siteId = 'site-a';
    assert.match(await poll(() => { server.clockOffsetMs = -2 * server.validityMs; }), /AIB_CENTRAL_CATALOGUE_STALE: .*expired at/);
    assert.match(await poll(() => { server.clockOffsetMs = 3_600_000; }), /AIB_CENTRAL_CATALOGUE_STALE: .*in this site's future/);
    server.clockOffsetMs = 0;
    assert.equal(state.read().catalogueSerial, accepted.catalogueSerial, 'nothing refused was accepted');
    // A fresh catalogue is accepted; then a copy dated before it (still valid) is a replay even with a higher serial.
    assert.equal(await poll(() => undefined), '');
    const issued = state.read().accepted?.issuedAt ?? assert.fail('no accepted catalogue');
    assert.match(await poll(() => { server.serial++; server.clockOffsetMs = -60_000; }), /AIB_CENTRAL_CATALOGUE_REPLAYED: .*issued at .*before the one already accepted/);
    server.clockOffsetMs = 0;
    // The same serial again: a re-issue with the same models renews it; with other models it is refused.
    assert.equal(await poll(() => undefined), '');
    assert.ok(Date.parse(state.read().accepted?.issuedAt ?? '') >= Date.parse(issued));
    const saved = server.entries;
    assert.match(await poll(() => { server.entries = []; }), /AIB_CENTRAL_CATALOGUE_REPLAYED: .*serial \d+ already accepted but lists other models/);
    server.entries = saved;
    assert.equal(await poll(() => undefined), '');
  });

  it('rollback is one call, and a rolled-back site does not reinstall the newer version on the next poll', async function () {
    assert.equal(registry.rollback(MODEL), '1.0.0');
    server.serial++;
    await link.pollOnce();
    assert.equal(describeModel(registry, MODEL).active, '1.0.0');
  });

  it('uploads queued de-identified copies; a refusal is recorded with the reason, a 5xx is retried up to UploadAttempts', async function () {
    mkdirSync(join(deidDir, 's1'), { recursive: true });
    const copy = join(deidDir, 's1', 'a.dcm');
    copyFileSync(join(BUILT_PACKAGES, MODEL, 'commissioning', '1-15.dcm'), copy);
    copyFileSync(copy, join(deidDir, 's1', 'b.dcm'));
    copyFileSync(copy, join(deidDir, 's1', 'c.dcm'));
    const queue = new UploadQueue(centralDir, deidDir);
    server.requests = [{ id: 'req-1', category: { modality: 'CT', bodyPart: 'CHEST' }, studiesPerSite: 1, reason: 'test', createdAt: '', state: 'open', progress: [] }];
    await link.pollOnce();
    queue.add('s1/a.dcm', 'req-1');
    await link.drainUploads();
    assert.equal(server.uploads.length, 1);
    assert.equal(server.uploads[0]?.requestId, 'req-1');
    assert.deepEqual(server.uploads[0].body, readFileSync(copy));

    server.uploadAnswers = [{ status: 422, body: { error: { code: 'CENTRAL_NOT_DEIDENTIFIED', message: 'refused', reasons: ['PatientIdentityRemoved is not YES'] } } }];
    queue.add('s1/b.dcm');
    await link.drainUploads();
    assert.equal(queue.size, 0);
    assert.match(state.read().uploads.lastError ?? '', /PatientIdentityRemoved is not YES/);

    server.uploadAnswers = [{ status: 503, body: {} }, { status: 503, body: {} }];
    queue.add('s1/c.dcm');
    await link.drainUploads();
    assert.equal(queue.size, 1, 'kept for a retry');
    const order = queue.due(Number.MAX_SAFE_INTEGER)[0];
    assert.ok(order !== undefined && order.attempts === 1);
    writeFileSync(order.file, JSON.stringify({ ...order, file: undefined, nextAttemptAt: 0 }));
    await link.drainUploads();
    assert.equal(queue.size, 0, 'given up after UploadAttempts');
    assert.match(state.read().uploads.lastError ?? '', /gave up after 2 attempts/);
    assert.deepEqual({ uploaded: state.read().uploads.uploaded, refused: state.read().uploads.refused }, { uploaded: 1, refused: 2 });

    // Progress is posted with the upload counts, and the token never shows in the link's own records.
    await link.pollOnce();
    const posted = server.progress.filter((p) => p.requestId === 'req-1').at(-1)?.body;
    assert.equal(posted?.instancesUploaded, 1);
    assert.equal(posted.studiesUploaded, 1);
    assert.equal(posted.siteId, 'site-a');
    const records = [readFileSync(join(centralDir, 'link-state.json'), 'utf8'), readFileSync(join(centralDir, 'uploads', 'refused.jsonl'), 'utf8'), ...lines].join('\n');
    assert.ok(!records.includes(token));
  });
});
