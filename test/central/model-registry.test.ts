import { strict as assert } from 'node:assert';
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import { centralPaths, type CentralCounters, type CentralError, type IssuedSite, type SignedCatalogue } from '../../plugin/core/central-api';
import {
  archiveReader, keygen, packFolder, unpackArchive, verifyCatalogue, verifyPackageFiles,
} from '../../plugin/core/model-package';
import { editManifest, SHIPPED_MODELS, startHarness, type Harness } from './central-harness';

async function errorOf(response: Response): Promise<CentralError['error']> {
  return (await response.json() as CentralError).error;
}

describe('central server: model registry, sites, audit', function () {
  let h: Harness;
  let siteA: IssuedSite;
  let siteB: IssuedSite;

  const publish = (dir: string, token?: string): Promise<Response> =>
    h.call('POST', centralPaths.adminModels, token ?? h.adminToken, JSON.stringify(packFolder(dir)), { 'content-type': 'application/json' });
  const catalogueOf = async (token: string): Promise<Response> => h.call('GET', centralPaths.catalogue, token);
  const publishedVersions = async (): Promise<string[]> => {
    const signed = await (await h.call('GET', centralPaths.adminModels, h.adminToken)).json() as SignedCatalogue;
    return (JSON.parse(signed.payload) as { models: { id: string; version: string }[] }).models.map((m) => `${m.id}@${m.version}`);
  };

  before(async () => {
    h = await startHarness();
    siteA = await h.addSite('site-a', SHIPPED_MODELS);
    siteB = await h.addSite('site-b', ['some-other-model']);
  });
  after(async () => { await h.stop(); });

  it('creates its secrets 0600 on first start', () => {
    for (const name of ['admin.token', 'registry.key', 'trainer.key']) assert.equal(statSync(join(h.dir, name)).mode & 0o777, 0o600, name);
    assert.match(readFileSync(join(h.dir, 'registry.pub'), 'utf8'), /BEGIN PUBLIC KEY/);
  });

  it('publishes a package signed by a trusted author key', async () => {
    const response = await publish(h.packageCopy('ct-head-brain', h.author));
    assert.equal(response.status, 201, await response.clone().text());
    const receipt = await response.json() as { id: string; version: string; serial: number };
    assert.deepEqual([receipt.id, receipt.version], ['ct-head-brain', '1.0.0']);
    assert.ok(receipt.serial >= 1);
    assert.deepEqual(await publishedVersions(), ['ct-head-brain@1.0.0']);
  });

  it('refuses a tampered, an unsigned and an untrusted package with reasons, and publishes none of them', async () => {
    const as = (version: string) => (dir: string): void => { editManifest(dir, (m) => { m.version = version; }); };
    const tampered = h.packageCopy('ct-head-brain', h.author, as('1.0.1'));
    const model = readFileSync(join(tampered, 'model.onnx'));
    model[model.length - 1] = (model[model.length - 1] ?? 0) ^ 0x01;
    writeFileSync(join(tampered, 'model.onnx'), model);
    let response = await publish(tampered);
    assert.equal(response.status, 422);
    let error = await errorOf(response);
    assert.equal(error.code, 'CENTRAL_SIGNATURE_INVALID');
    assert.match(error.message, /does not match its signature/);

    response = await publish(h.packageCopy('ct-head-brain', null, as('1.0.2')));
    error = await errorOf(response);
    assert.deepEqual([response.status, error.code], [422, 'CENTRAL_PACKAGE_UNSIGNED']);
    assert.match(error.message, /model sign/);

    response = await publish(h.packageCopy('ct-head-brain', keygen(), as('1.0.3')));
    error = await errorOf(response);
    assert.deepEqual([response.status, error.code], [422, 'CENTRAL_UNTRUSTED_KEY']);
    assert.match(error.message, /signed by key [0-9a-f]{32}/);

    const extra = h.packageCopy('ct-head-brain', h.author, as('1.0.4'));
    writeFileSync(join(extra, 'notes.txt'), 'not covered by the signature');
    response = await publish(extra);
    error = await errorOf(response);
    assert.deepEqual([response.status, error.code], [422, 'CENTRAL_PACKAGE_INVALID']);
    assert.match(error.message, /notes\.txt/);

    const escaping = { files: [{ path: '../outside.txt', sha256: '0'.repeat(64), base64: '' }] };
    response = await h.call('POST', centralPaths.adminModels, h.adminToken, JSON.stringify(escaping));
    error = await errorOf(response);
    assert.deepEqual([response.status, error.code], [400, 'CENTRAL_PACKAGE_INVALID']);
    assert.match(error.message, /not a relative package path/);

    assert.deepEqual(await publishedVersions(), ['ct-head-brain@1.0.0']);
    assert.deepEqual(readdirSync(join(h.dir, 'packages', 'ct-head-brain')), ['1.0.0.json']);
  });

  it('keeps versions immutable: the same bytes again are accepted, other bytes are 409', async () => {
    const again = await publish(h.packageCopy('ct-head-brain', h.author));
    assert.equal(again.status, 200);
    const changed = await publish(h.packageCopy('ct-head-brain', h.author, (dir) => { editManifest(dir, (m) => { m.description = 'changed'; }); }));
    const error = await errorOf(changed);
    assert.deepEqual([changed.status, error.code], [409, 'CENTRAL_VERSION_EXISTS']);
  });

  it('serves each site a catalogue signed by the registry key, filtered by entitlement', async () => {
    const registryPub = readFileSync(join(h.dir, 'registry.pub'), 'utf8');
    const a = verifyCatalogue(await (await catalogueOf(siteA.token)).json() as SignedCatalogue, registryPub);
    assert.equal(a.siteId, 'site-a');
    assert.deepEqual(a.models.map((m) => `${m.id}@${m.version}`), ['ct-head-brain@1.0.0']);
    assert.deepEqual(a.models[0]?.origin, { kind: 'published' });
    const b = verifyCatalogue(await (await catalogueOf(siteB.token)).json() as SignedCatalogue, registryPub);
    assert.deepEqual(b.models, []);
    // A changed payload, or another key, does not verify.
    const signed = await (await catalogueOf(siteA.token)).json() as SignedCatalogue;
    assert.throws(() => verifyCatalogue({ ...signed, payload: signed.payload.replace('site-a', 'site-x') }, registryPub), /does not match its signature/);
    assert.throws(() => verifyCatalogue(signed, keygen().publicKeyPem), /not by the configured registry key/);
  });

  it('answers 304 to If-None-Match with the current ETag, and a new catalogue after a publish', async () => {
    const first = await catalogueOf(siteA.token);
    const etag = first.headers.get('etag') ?? '';
    assert.match(etag, /^"\d+-[0-9a-f]{16}"$/);
    const again = await h.call('GET', centralPaths.catalogue, siteA.token, undefined, { 'if-none-match': etag });
    assert.equal(again.status, 304);
    assert.equal(await again.text(), '');
    const published = await publish(h.packageCopy('ct-chest-lung-fields', h.author));
    assert.equal(published.status, 201);
    const after = await h.call('GET', centralPaths.catalogue, siteA.token, undefined, { 'if-none-match': etag });
    assert.equal(after.status, 200);
    assert.notEqual(after.headers.get('etag'), etag);
    const catalogue = JSON.parse((await after.json() as SignedCatalogue).payload) as { serial: number; models: unknown[] };
    assert.equal(catalogue.models.length, 2);
  });

  it('lets an entitled site download a package that verifies with the author key the signed catalogue names', async () => {
    const signed = await (await catalogueOf(siteA.token)).json() as SignedCatalogue;
    const entry = verifyCatalogue(signed, readFileSync(join(h.dir, 'registry.pub'), 'utf8')).models.find((m) => m.id === 'ct-head-brain');
    assert.ok(entry);
    const response = await h.call('GET', centralPaths.modelPackage(entry.id, entry.version), siteA.token);
    assert.equal(response.status, 200);
    const files = unpackArchive(await response.json(), 'download');
    const verified = verifyPackageFiles('download', archiveReader(files, 'download'), [entry.author.publicKeyPem]);
    assert.equal(verified.keyId, entry.author.keyId);
    assert.equal(verified.manifest.version, entry.version);
    const refused = await h.call('GET', centralPaths.modelPackage(entry.id, entry.version), siteB.token);
    assert.deepEqual([refused.status, (await errorOf(refused)).code], [403, 'CENTRAL_NOT_ENTITLED']);
  });

  it('requires a token (401), keeps admin routes from site tokens and site routes from the admin token (403)', async () => {
    for (const token of [undefined, 'not-a-token']) {
      const response = await catalogueOf(token as string);
      assert.deepEqual([response.status, (await errorOf(response)).code], [401, 'CENTRAL_UNAUTHENTICATED']);
    }
    for (const path of [centralPaths.adminSites, centralPaths.adminAudit, centralPaths.adminRequests, centralPaths.adminTraining]) {
      const response = await h.call('GET', path, siteA.token);
      assert.deepEqual([response.status, (await errorOf(response)).code], [403, 'CENTRAL_FORBIDDEN'], path);
    }
    const publishAsSite = await publish(h.packageCopy('ct-head-brain', h.author), siteA.token);
    assert.equal(publishAsSite.status, 403);
    const adminOnSiteRoute = await catalogueOf(h.adminToken);
    assert.equal(adminOnSiteRoute.status, 403);
    const sites = await (await h.call('GET', centralPaths.adminSites, h.adminToken)).json() as { siteId: string; lastSeenAt: string | null }[];
    assert.deepEqual(sites.map((s) => s.siteId), ['site-a', 'site-b']);
    assert.ok(sites[0]?.lastSeenAt !== null);
    // The token is shown once and kept only as a hash.
    assert.ok(!readFileSync(join(h.dir, 'central.sqlite')).includes(Buffer.from(siteA.token)));
  });

  it('audits every request: who, what, when, bytes, result', async () => {
    const text = await (await h.call('GET', centralPaths.adminAudit, h.adminToken)).text();
    const lines = text.trim().split('\n').map((l) => JSON.parse(l) as { actor: string; path: string; status: number; result: string; bytesIn: number; bytesOut: number; at: string });
    assert.ok(lines.some((l) => l.actor === 'site:site-a' && l.path === centralPaths.catalogue && l.status === 304 && l.result === 'ok'));
    // Requests without a valid token are counted, never written one by one (a flood of them cannot fill the disk).
    assert.ok(lines.every((l) => l.actor !== 'anonymous'), 'no anonymous request in the permanent audit');
    const counters = await (await h.call('GET', centralPaths.adminCounters, h.adminToken)).json() as CentralCounters;
    assert.ok(counters.unauthenticated >= 2, JSON.stringify(counters));
    assert.ok(lines.some((l) => l.actor === 'admin' && l.path === centralPaths.adminModels && l.result === 'CENTRAL_SIGNATURE_INVALID' && l.bytesIn > 1000));
    assert.ok(lines.some((l) => l.actor === 'site:site-a' && l.path.endsWith('/package') && l.bytesOut > 1000));
    assert.ok(lines.every((l) => !Number.isNaN(Date.parse(l.at))));
    assert.ok(existsSync(join(h.dir, 'audit.jsonl')));
  });
});
