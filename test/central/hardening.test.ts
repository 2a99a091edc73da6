import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import {
  centralPaths, type Catalogue, type CentralCounters, type CentralError, type IssuedSite, type SignedCatalogue, type SiteView,
} from '../../plugin/core/central-api';
import { packFolder, verifyCatalogue } from '../../plugin/core/model-package';
import { REPO, startHarness, type Harness } from './central-harness';

const BIN = join(REPO, 'bin', 'orthanc-ai-bridge.js');

async function errorOf(response: Response): Promise<CentralError['error']> {
  return (await response.json() as CentralError).error;
}

function auditLines(h: Harness): { actor: string; path: string; result: string }[] {
  return readFileSync(join(h.dir, 'audit.jsonl'), 'utf8').trim().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as { actor: string; path: string; result: string });
}

function cli(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [BIN, ...args], (error, stdout, stderr) => {
      resolve({ code: error === null ? 0 : (typeof error.code === 'number' ? error.code : 1), stdout, stderr });
    });
  });
}

describe('central server hardening: rate limits, counted anonymous requests, token revoke and rotate, entitlement, catalogue freshness, key binding, generic 500', function () {
  let h: Harness;
  const logged: string[] = [];

  before(async () => {
    // A per-token limit small enough for the test to reach: one request per second, bursts of 8 (the address limit is tested on its own server below).
    h = await startHarness({
      rateLimits: { perAddress: { ratePerSecond: 1000, burst: 1000 }, perToken: { ratePerSecond: 1, burst: 8 } },
      catalogueValiditySeconds: 600,
      log: (line) => { logged.push(line); },
    });
  });
  after(async () => { await h.stop(); });

  const publish = (dir: string): Promise<Response> =>
    h.call('POST', centralPaths.adminModels, h.adminToken, JSON.stringify(packFolder(dir)), { 'content-type': 'application/json' });

  it('binds author keys to model ids: a trusted key signing another id is refused', async () => {
    const headPublished = await publish(h.packageCopy('ct-head-brain', h.author));
    assert.equal(headPublished.status, 201, await headPublished.clone().text());
    const other = h.packageCopy('ct-head-brain', h.author, (dir) => {
      const file = join(dir, 'manifest.json');
      writeFileSync(file, readFileSync(file, 'utf8').replace('"ct-head-brain"', '"ct-head-other"'));
    });
    const refused = await publish(other);
    const error = await errorOf(refused);
    assert.deepEqual([refused.status, error.code], [422, 'CENTRAL_KEY_NOT_BOUND']);
    assert.match(error.message, /may sign ct-head-brain, ct-chest-lung-fields, not ct-head-other/);
  });

  it('entitles a new site to nothing until granted; a grant raises the serial; the catalogue names the site, issue and expiry', async () => {
    const site = await h.addSite('fresh-site');
    const registryPub = readFileSync(join(h.dir, 'registry.pub'), 'utf8');
    const read = async (): Promise<Catalogue> => verifyCatalogue(await (await h.call('GET', centralPaths.catalogue, site.token)).json() as SignedCatalogue, registryPub);
    const empty = await read();
    assert.deepEqual(empty.models, []);
    assert.equal(empty.siteId, 'fresh-site');
    const issued = Date.parse(empty.issuedAt);
    assert.ok(Math.abs(Date.parse(empty.expiresAt) - issued - 600_000) < 1000, `${empty.issuedAt} → ${empty.expiresAt}`);
    const denied = await h.call('GET', centralPaths.modelPackage('ct-head-brain', '1.0.0'), site.token);
    assert.deepEqual([denied.status, (await errorOf(denied)).code], [403, 'CENTRAL_NOT_ENTITLED']);
    const granted = await h.call('PUT', centralPaths.adminSiteModels('fresh-site'), h.adminToken, JSON.stringify({ models: ['ct-head-brain'] }), { 'content-type': 'application/json' });
    assert.equal(granted.status, 200, await granted.clone().text());
    assert.deepEqual((await granted.json() as SiteView).models, ['ct-head-brain']);
    const after = await read();
    assert.ok(after.serial > empty.serial, 'the grant raised the serial, so the site takes the new list');
    assert.deepEqual(after.models.map((m) => m.id), ['ct-head-brain']);
    assert.equal((await h.call('GET', centralPaths.modelPackage('ct-head-brain', '1.0.0'), site.token)).status, 200);
  });

  it('revokes a site token at once, and rotates it (API and CLI): only the newest token works', async () => {
    const site = await h.addSite('rotating-site', ['ct-head-brain']);
    assert.equal((await h.call('GET', centralPaths.requests, site.token)).status, 200);
    const revoked = await h.call('POST', centralPaths.adminSiteRevoke('rotating-site'), h.adminToken);
    assert.equal(revoked.status, 200);
    assert.notEqual((await revoked.json() as SiteView).revokedAt, null);
    const refused = await h.call('GET', centralPaths.requests, site.token);
    assert.deepEqual([refused.status, (await errorOf(refused)).code], [401, 'CENTRAL_TOKEN_REVOKED']);

    const rotated = await h.call('POST', centralPaths.adminSiteRotate('rotating-site'), h.adminToken);
    const fresh = await rotated.json() as IssuedSite;
    assert.notEqual(fresh.token, site.token);
    assert.equal((await h.call('GET', centralPaths.requests, fresh.token)).status, 200, 'a rotated token reinstates a revoked site');
    assert.equal((await h.call('GET', centralPaths.requests, site.token)).status, 401);

    const tokenFile = join(h.dir, 'admin.token');
    const run = await cli(['central', 'site', 'rotate', '--central', h.central.url, '--token-file', tokenFile, '--site', 'rotating-site']);
    assert.equal(run.code, 0, run.stderr);
    const byCli = JSON.parse(run.stdout) as IssuedSite;
    assert.equal((await h.call('GET', centralPaths.requests, fresh.token)).status, 401);
    assert.equal((await h.call('GET', centralPaths.requests, byCli.token)).status, 200);
    const revokedByCli = await cli(['central', 'site', 'revoke', '--central', h.central.url, '--token-file', tokenFile, '--site', 'rotating-site']);
    assert.equal(revokedByCli.code, 0, revokedByCli.stderr);
    assert.equal((await h.call('GET', centralPaths.requests, byCli.token)).status, 401);
    const unknown = await cli(['central', 'site', 'revoke', '--central', h.central.url, '--token-file', tokenFile, '--site', 'no-such-site']);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /CENTRAL_NOT_FOUND/);
  });

  it('answers a generic 500: the reference only, details in the server log', async () => {
    // A real fault: the stored archive of a published version disappears from disk.
    rmSync(join(h.dir, 'packages', 'ct-head-brain', '1.0.0.json'));
    const response = await h.call('GET', centralPaths.modelPackage('ct-head-brain', '1.0.0'), h.adminToken);
    const error = await errorOf(response);
    assert.deepEqual([response.status, error.code], [500, 'CENTRAL_INTERNAL']);
    const reference = /reference ([0-9a-f]{12})/.exec(error.message)?.[1] ?? assert.fail(error.message);
    assert.doesNotMatch(error.message, /ENOENT|packages|\//);
    assert.ok(logged.some((l) => l.includes(reference) && l.includes('ENOENT')), logged.join('\n'));
  });

  it('limits each token (429 + Retry-After), counts refusals and anonymous requests instead of auditing each, then lets the token in again', async () => {
    const site = await h.addSite('busy-site');
    const auditBefore = auditLines(h).length;
    const statuses: number[] = [];
    let retryAfter: string | null = null;
    for (let i = 0; i < 12; i++) {
      const response = await h.call('GET', centralPaths.requests, site.token);
      statuses.push(response.status);
      if (response.status === 429) {
        retryAfter ??= response.headers.get('retry-after');
        assert.equal((await errorOf(response)).code, 'CENTRAL_RATE_LIMITED');
      }
    }
    assert.ok(statuses.filter((s) => s === 200).length <= 9, statuses.join(' '));
    assert.ok(statuses.includes(429), statuses.join(' '));
    assert.match(retryAfter ?? '', /^[1-9]\d*$/);
    // Anonymous requests (no token, a wrong one) are counted, not written.
    for (let i = 0; i < 5; i++) await h.call('GET', centralPaths.catalogue, i % 2 === 0 ? undefined : 'wrong-token');
    const counters = await (await h.call('GET', centralPaths.adminCounters, h.adminToken)).json() as CentralCounters;
    assert.ok(counters.rateLimited >= 3, JSON.stringify(counters));
    assert.ok(counters.unauthenticated >= 5, JSON.stringify(counters));
    const added = auditLines(h).slice(auditBefore);
    assert.ok(added.every((l) => l.actor !== 'anonymous' && l.result !== 'CENTRAL_RATE_LIMITED'), JSON.stringify(added));
    await new Promise((resolve) => setTimeout(resolve, Number(retryAfter ?? '1') * 1000 + 100));
    assert.equal((await h.call('GET', centralPaths.requests, site.token)).status, 200, 'the token earned a request back');
  });

  it('limits each address, whatever token it uses: an unknown-token flood ends in 429', async () => {
    const flooded = await startHarness({ rateLimits: { perAddress: { ratePerSecond: 1, burst: 10 }, perToken: { ratePerSecond: 100, burst: 100 } } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 20; i++) statuses.push((await flooded.call('GET', centralPaths.catalogue, `guess-${String(i)}`)).status);
      assert.ok(statuses.includes(401) && statuses.includes(429), statuses.join(' '));
      assert.ok(statuses.lastIndexOf(401) < statuses.indexOf(429), `once limited, every further guess is refused before its token is looked at: ${statuses.join(' ')}`);
      const counters = await (await flooded.call('GET', centralPaths.adminCounters, flooded.adminToken)).json() as CentralCounters | CentralError;
      // The admin is on the same address: limited too until a token is earned back.
      assert.ok('error' in counters ? counters.error.code === 'CENTRAL_RATE_LIMITED' : counters.rateLimited > 0, JSON.stringify(counters));
    } finally {
      await flooded.stop();
    }
  });
});
