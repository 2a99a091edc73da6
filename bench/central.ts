/**
 * Catalogue poll cost: requests/s one central server (its own process, as
 * deployed) sustains while 100 simulated sites poll their catalogue with
 * If-None-Match (answered 304), against the baseline of the same sites
 * fetching the full signed catalogue every time (no ETag). Rounds alternate
 * so both modes see the same machine load.
 *
 * Publish → serving: two real Orthanc sites with the plugin (annotator and
 * central link, PollSeconds as given) and the time from the admin's publish
 * until both sites' GET /ai-bridge/models shows the new version active, for
 * several new versions; the named baseline is the site-side work alone (the
 * same package verified, commissioned and activated in-process, no network,
 * no polling). The expected gap is the poll interval.
 *
 * `npm run bench -- central [--sites N] [--seconds S] [--rounds N] [--poll-seconds S] [--publish-rounds N] [--no-sites]`
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { centralPaths, type IssuedSite } from '../plugin/core/central-api.js';
import { keygen, packFolder, signPackage } from '../plugin/core/model-package/index.js';
import { ModelRegistry } from '../plugin/annotate/models/model-registry.js';
import { addTrustedKey } from '../plugin/annotate/models/site-keys.js';
import { startOrthanc, type RunningOrthanc } from '../plugin/cli/orthanc-launcher.js';
import type { ModelListResponse } from '../plugin/core/admin-api.js';
import { machine, median, round, textTable } from './report.js';

const REPO = join(__dirname, '..', '..');


async function startCentralProcess(dir: string, trust: string): Promise<{ child: ChildProcess; url: string }> {
  // The bench measures the server's ceiling: its rate limits (which would answer 429 to 100 sites on one address) are set out of reach.
  const child = spawn(process.execPath, [join(REPO, 'bin', 'orthanc-ai-bridge.js'), 'central', '--data', dir, '--port', '0', '--trust', trust,
    '--rate-address', '1000000/1000000', '--rate-token', '1000000/1000000'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const match = /central server at (\S+)/.exec(out);
      if (match?.[1] !== undefined) resolve(match[1]);
    });
    child.once('exit', (code) => { reject(new Error(`central exited with ${String(code)}`)); });
  });
  return { child, url };
}

// node:http with keep-alive rather than fetch: the load generator shares the 2 CPUs with the server, and undici's fetch costs more CPU per request than the server's answer does.
const agent = new Agent({ keepAlive: true, maxSockets: 1000 });

function get(url: URL, headers: Record<string, string>): Promise<{ status: number; etag: string | undefined }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { agent, headers }, (response) => {
      response.resume();
      response.once('end', () => { resolve({ status: response.statusCode ?? 0, etag: response.headers.etag }); });
    });
    request.once('error', reject);
    request.end();
  });
}

async function poll(url: string, tokens: readonly string[], seconds: number, withEtag: boolean): Promise<{ perSecond: number; statuses: Record<string, number> }> {
  const statuses: Record<string, number> = {};
  const deadline = performance.now() + seconds * 1000;
  const start = performance.now();
  const target = new URL(`${url}${centralPaths.catalogue}`);
  let done = 0;
  await Promise.all(tokens.map(async (token) => {
    let etag: string | undefined;
    while (performance.now() < deadline) {
      const response = await get(target, { authorization: `Bearer ${token}`, ...(withEtag && etag !== undefined ? { 'if-none-match': etag } : {}) });
      etag = response.etag;
      statuses[String(response.status)] = (statuses[String(response.status)] ?? 0) + 1;
      done++;
    }
  }));
  return { perSecond: done / ((performance.now() - start) / 1000), statuses };
}

export async function runCentralBench(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...args], options: { sites: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' }, 'poll-seconds': { type: 'string' }, 'publish-rounds': { type: 'string' }, 'no-sites': { type: 'boolean' } }, strict: true });
  const siteCount = Number(values.sites ?? '100');
  const seconds = Number(values.seconds ?? '3');
  const rounds = Number(values.rounds ?? '3');
  const pollSeconds = Number(values['poll-seconds'] ?? '5');
  const publishRounds = Number(values['publish-rounds'] ?? '3');
  const work = mkdtempSync(join(tmpdir(), 'aib-central-bench-'));
  const author = keygen();
  writeFileSync(join(work, 'author.pub'), author.publicKeyPem);
  const { child, url } = await startCentralProcess(join(work, 'central'), `${join(work, 'author.pub')}=ct-head-brain,ct-chest-lung-fields`);
  try {
    const tokenFile = join(work, 'central', 'admin.token');
    const admin = readFileSync(tokenFile, 'utf8').trim();
    const post = (path: string, body: unknown): Promise<Response> =>
      fetch(`${url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    for (const name of ['ct-head-brain', 'ct-chest-lung-fields']) {
      const dir = join(work, name);
      cpSync(join(REPO, 'model-packages', name), dir, { recursive: true });
      signPackage(dir, author.privateKeyPem);
      const published = await post(centralPaths.adminModels, packFolder(dir));
      if (!published.ok) throw new Error(`publish ${name}: ${await published.text()}`);
    }
    const tokens: string[] = [];
    for (let i = 0; i < siteCount; i++) tokens.push((await (await post(centralPaths.adminSites, { siteId: `bench-${String(i)}`, name: `bench ${String(i)}`, models: ['ct-head-brain', 'ct-chest-lung-fields'] })).json() as IssuedSite).token);
    const catalogueBytes = (await (await fetch(`${url}${centralPaths.catalogue}`, { headers: { authorization: `Bearer ${tokens[0] ?? ''}` } })).arrayBuffer()).byteLength;
    const withEtag: number[] = [];
    const without: number[] = [];
    const statuses: Record<string, number> = {};
    await poll(url, tokens, 1, true);
    for (let r = 0; r < rounds; r++) {
      const a = await poll(url, tokens, seconds, true);
      const b = await poll(url, tokens, seconds, false);
      withEtag.push(a.perSecond);
      without.push(b.perSecond);
      for (const [k, v] of Object.entries(a.statuses)) statuses[`etag ${k}`] = (statuses[`etag ${k}`] ?? 0) + v;
      for (const [k, v] of Object.entries(b.statuses)) statuses[`full ${k}`] = (statuses[`full ${k}`] ?? 0) + v;
    }
    const value = median(withEtag);
    const baseline = median(without);
    const line = {
      measure: 'central_catalogue_poll', unit: 'requests/s', value: round(value, 1),
      baseline: round(baseline, 1), baseline_name: 'full signed catalogue, no If-None-Match', ratio: round(value / baseline, 2),
      sites: siteCount, seconds_per_round: seconds, rounds, catalogue_bytes: catalogueBytes, statuses,
      samples: withEtag.map((v) => round(v, 1)), baseline_samples: without.map((v) => round(v, 1)), ...machine(),
    };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    const serving = values['no-sites'] === true ? undefined
      : await publishToServing({ work, url, admin, authorPrivateKeyPem: author.privateKeyPem, authorPublicKeyPem: author.publicKeyPem, pollSeconds, publishRounds });
    if (serving !== undefined) {
      process.stdout.write(`${JSON.stringify({
        measure: 'central_publish_to_serving', unit: 'ms', value: round(median(serving.publishToServing), 0), samples: serving.publishToServing.map((v) => round(v, 0)),
        baseline: round(median(serving.localInstall), 0), baseline_name: 'the same package verified, commissioned and activated in-process at one site (no network, no poll)',
        baseline_samples: serving.localInstall.map((v) => round(v, 0)), sites: 2, poll_seconds: pollSeconds, ...machine(),
      })}\n`);
    }
    process.stdout.write(`\n${textTable(['mode', 'requests/s (median)', 'samples'], [
      ['If-None-Match → 304', value.toFixed(1), withEtag.map((v) => v.toFixed(0)).join(' ')],
      ['baseline: full catalogue', baseline.toFixed(1), without.map((v) => v.toFixed(0)).join(' ')],
    ])}\n${String(siteCount)} sites, catalogue ${String(catalogueBytes)} bytes\n`);
    if (serving !== undefined) {
      process.stdout.write(`\n${textTable(['publish → both sites serving', 'ms (median)', 'samples'], [
        [`2 Orthanc sites, PollSeconds ${String(pollSeconds)}`, median(serving.publishToServing).toFixed(0), serving.publishToServing.map((v) => v.toFixed(0)).join(' ')],
        ['baseline: verify + commission + activate in-process', median(serving.localInstall).toFixed(0), serving.localInstall.map((v) => v.toFixed(0)).join(' ')],
      ])}\n`);
    }
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(work, { recursive: true, force: true });
  }
}

/** A copy of a shipped package with another version, signed by the author key. */
function versionOf(work: string, name: string, version: string, authorPrivateKeyPem: string): string {
  const dir = join(work, `${name}-${version}`);
  cpSync(join(REPO, 'model-packages', name), dir, { recursive: true });
  const manifestPath = join(dir, 'manifest.json');
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as Record<string, unknown>;
  writeFileSync(manifestPath, `${JSON.stringify({ ...manifest, version }, null, 2)}\n`);
  signPackage(dir, authorPrivateKeyPem);
  return dir;
}

async function activeVersion(site: RunningOrthanc, id: string): Promise<string | null | undefined> {
  try {
    return (await site.json<ModelListResponse>('GET', '/ai-bridge/models')).models.find((m) => m.id === id)?.active;
  } catch {
    return undefined; // the annotator is still starting
  }
}

async function until(probe: () => Promise<boolean>, what: string): Promise<void> {
  // A bound so a broken site cannot hang the bench; not a performance limit.
  for (let i = 0; i < 6000; i++) {
    if (await probe()) return;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`bench central: gave up waiting for ${what}`);
}

async function publishToServing(o: {
  work: string; url: string; admin: string; authorPrivateKeyPem: string; authorPublicKeyPem: string; pollSeconds: number; publishRounds: number;
}): Promise<{ publishToServing: number[]; localInstall: number[] }> {
  const MODEL = 'ct-chest-lung-fields';
  const post = (path: string, body: unknown): Promise<Response> =>
    fetch(`${o.url}${path}`, { method: 'POST', headers: { authorization: `Bearer ${o.admin}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const sites: RunningOrthanc[] = [];
  try {
    for (const siteId of ['bench-site-a', 'bench-site-b']) {
      const issued = await (await post(centralPaths.adminSites, { siteId, name: siteId, models: [MODEL] })).json() as IssuedSite;
      const dir = join(o.work, siteId);
      cpSync(join(o.work, 'central', 'registry.pub'), join(o.work, `${siteId}.registry.pub`));
      writeFileSync(join(o.work, `${siteId}.token`), issued.token, { mode: 0o600 });
      sites.push(await startOrthanc({
        dataDir: dir,
        aiBridge: {
          ChangesPollSeconds: 2, Annotate: true,
          Central: { Url: o.url, SiteId: siteId, SiteTokenFile: join(o.work, `${siteId}.token`), RegistryPublicKeyFile: join(o.work, `${siteId}.registry.pub`), PollSeconds: o.pollSeconds },
        },
      }));
    }
    // Both sites serve the bundled 1.0.0 before the first publish.
    for (const site of sites) await until(async () => (await activeVersion(site, MODEL)) === '1.0.0', 'the bundled model at both sites');
    const publishToServingMs: number[] = [];
    const localInstall: number[] = [];
    for (let r = 0; r < o.publishRounds; r++) {
      const version = `1.${String(r + 1)}.0`;
      const dir = versionOf(o.work, MODEL, version, o.authorPrivateKeyPem);
      // Baseline: what a site does with the package once it has it.
      const registry = new ModelRegistry(join(o.work, `local-${String(r)}`));
      addTrustedKey(registry.modelsDir, 'author', o.authorPublicKeyPem);
      const l0 = performance.now();
      await registry.install(dir);
      localInstall.push(performance.now() - l0);
      const t0 = performance.now();
      const published = await post(centralPaths.adminModels, packFolder(dir));
      if (!published.ok) throw new Error(`bench central: publish ${version}: ${await published.text()}`);
      await Promise.all(sites.map((site) => until(async () => (await activeVersion(site, MODEL)) === version, `${version} at a site`)));
      publishToServingMs.push(performance.now() - t0);
      process.stderr.write(`  central: ${version} served by both sites after ${(performance.now() - t0).toFixed(0)} ms\n`);
    }
    return { publishToServing: publishToServingMs, localInstall };
  } finally {
    for (const site of sites) await site.stop();
  }
}
