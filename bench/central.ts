/**
 * Catalogue poll cost: requests/s one central server (its own process, as
 * deployed) sustains while 100 simulated sites poll their catalogue with
 * If-None-Match (answered 304), against the baseline of the same sites
 * fetching the full signed catalogue every time (no ETag). Rounds alternate
 * so both modes see the same machine load.
 *
 * `npm run bench -- central [--sites N] [--seconds S] [--rounds N]`
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { centralPaths, type IssuedSite } from '../plugin/core/central-api.js';
import { keygen, packFolder, signPackage } from '../plugin/core/model-package/index.js';
import { machine, median, round, textTable } from './report.js';

const REPO = join(__dirname, '..', '..');

/**
 * Hook for the site half (issue 7 "time from publish to both sites serving"):
 * given the running central (URL, admin token file), publish a new version
 * and resolve with the milliseconds until every site serves it. Left empty
 * here: the site side lives on another branch; the lead adds the probe.
 */
export type PublishToServingProbe = (central: { url: string; tokenFile: string; authorKeyPem: string }) => Promise<number>;
export const publishToServingProbes: PublishToServingProbe[] = [];

async function startCentralProcess(dir: string, trust: string): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, [join(REPO, 'bin', 'orthanc-ai-bridge.js'), 'central', '--data', dir, '--port', '0', '--trust', trust], { stdio: ['ignore', 'pipe', 'inherit'] });
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
  const { values } = parseArgs({ args: [...args], options: { sites: { type: 'string' }, seconds: { type: 'string' }, rounds: { type: 'string' } }, strict: true });
  const siteCount = Number(values.sites ?? '100');
  const seconds = Number(values.seconds ?? '3');
  const rounds = Number(values.rounds ?? '3');
  const work = mkdtempSync(join(tmpdir(), 'aib-central-bench-'));
  const author = keygen();
  writeFileSync(join(work, 'author.pub'), author.publicKeyPem);
  const { child, url } = await startCentralProcess(join(work, 'central'), join(work, 'author.pub'));
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
    for (let i = 0; i < siteCount; i++) tokens.push((await (await post(centralPaths.adminSites, { siteId: `bench-${String(i)}`, name: `bench ${String(i)}` })).json() as IssuedSite).token);
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
    for (const probe of publishToServingProbes) {
      process.stdout.write(`${JSON.stringify({ measure: 'central_publish_to_serving', unit: 'ms', value: await probe({ url, tokenFile, authorKeyPem: author.privateKeyPem }), ...machine() })}\n`);
    }
    process.stdout.write(`\n${textTable(['mode', 'requests/s (median)', 'samples'], [
      ['If-None-Match → 304', value.toFixed(1), withEtag.map((v) => v.toFixed(0)).join(' ')],
      ['baseline: full catalogue', baseline.toFixed(1), without.map((v) => v.toFixed(0)).join(' ')],
    ])}\n${String(siteCount)} sites, catalogue ${String(catalogueBytes)} bytes, ${publishToServingProbes.length === 0 ? 'publish→serving: no site probe registered' : ''}\n`);
  } finally {
    child.kill('SIGTERM');
    await new Promise((resolve) => child.once('exit', resolve));
    rmSync(work, { recursive: true, force: true });
  }
}
