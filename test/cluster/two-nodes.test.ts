import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

import pg from 'pg';

import type { AnnotationListResponse, HealthResponse } from '../../plugin/core/admin-api';
import { lungCtSlices } from '../annotate/results/lung-ct-fixture';
import { eventually, health, sharedFile, startBridgeOrthanc, tempDir, uploadFile, waitForHealth } from '../harness/bridge-orthanc';
import { startPostgres, type RunningPostgres } from '../harness/postgres-server';

const COMPREHENSIVE_SR = '1.2.840.10008.5.1.4.1.1.88.33';
const GSPS = '1.2.840.10008.5.1.4.1.1.11.1';
/** Other instances, of other patients, stored through both nodes. */
const OTHERS = ['pydicom/test_files/MR_small.dcm', 'pydicom/test_files/CT_small.dcm', 'fo-dicom/CR-MONO1-10-chest.dcm'];

type Node = Awaited<ReturnType<typeof startBridgeOrthanc>>;

/** Files under `dir`, recursively: the de-identified copies in the shared store. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true, recursive: true }).filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

/** The chest CT series with its size in the headers (Images in Acquisition), so the series is released when its last slice is in. */
function chestSeries(dir: string, count: number): string[] {
  return lungCtSlices(30).slice(8, 8 + count).map((slice, index) => {
    const copy = join(dir, `slice-${String(index)}.dcm`);
    copyFileSync(slice.path, copy);
    const run = spawnSync('dcmodify', ['-nb', '-i', `(0020,1002)=${String(count)}`, copy], { encoding: 'utf8' });
    assert.equal(run.status, 0, run.stderr);
    return copy;
  });
}

async function upload(node: Node, file: string): Promise<string> {
  const stored = await uploadFile(node, file);
  assert.equal(stored.status, 200, file);
  return stored.id ?? assert.fail();
}

async function cluster(node: Node): Promise<NonNullable<HealthResponse['cluster']>> {
  return (await health(node)).cluster ?? assert.fail('health shows no cluster');
}

describe('two Orthanc nodes on one PostgreSQL database (issue 17)', function () {
  const temp = tempDir('cluster');
  let postgres: RunningPostgres | undefined;
  let db: pg.Client | undefined;
  const nodes: Node[] = [];

  before(async function () {
    postgres = await startPostgres();
    db = new pg.Client({ connectionString: postgres.uri });
    await db.connect();
    const storage = join(temp.path, 'storage');
    const deid = join(temp.path, 'deid');
    mkdirSync(storage);
    mkdirSync(deid, { mode: 0o700 });
    for (const name of ['node-a', 'node-b']) {
      nodes.push(await startBridgeOrthanc({
        dataDir: join(temp.path, name),
        cluster: { databaseUri: postgres.uri, storageDirectory: storage, deidDirectory: deid, nodeName: name },
        aiBridge: { ChangesPollSeconds: 2, Annotate: true, RetryBackoffSeconds: 0.5 },
        // Only the header count releases the series, never Orthanc's StableSeries of one node's half.
        extraConfig: { StableAge: 3600 },
      }));
    }
  });
  after(async function () {
    for (const node of nodes) await node.cleanup();
    await db?.end();
    await postgres?.stop();
    temp.remove();
  });

  it('a chest CT series half through each node, other instances through both, the follower killed -9 mid-way: each instance de-identified once, one SR + one GSPS, one pseudonym per patient, nothing stuck', async function () {
    const [a, b] = nodes;
    if (a === undefined || b === undefined || db === undefined) assert.fail('the nodes did not start');
    const client = db;
    // Both registered; one of them follows the change log.
    const before = await eventually(async () => {
      const view = await cluster(a);
      return view.nodes.length === 2 && view.nodes.filter((n) => n.follower).length === 1 && view.nodes.every((n) => n.alive) ? view : undefined;
    }, 'both nodes registered, one follower');
    assert.equal(before.backend, 'postgresql');
    const followerName = before.nodes.find((n) => n.follower)?.name;
    const [victim, survivor] = followerName === 'node-a' ? [a, b] : [b, a];

    const series = chestSeries(temp.path, 12);
    const stored = new Set<string>();
    // First half of the series and the first other instances, alternately through each node.
    for (const [i, file] of series.slice(0, 6).entries()) stored.add(await upload(i % 2 === 0 ? a : b, file));
    stored.add(await upload(a, sharedFile(OTHERS[0] ?? '')));
    stored.add(await upload(b, sharedFile(OTHERS[1] ?? '')));

    // The follower's Orthanc dies at once (its gateway loses its socket and goes with it).
    const pid = victim.pid() ?? assert.fail();
    process.kill(pid, 'SIGKILL');
    await victim.exited();
    // The rest of the series and the last other instance through the node still up; it takes the change log over.
    for (const file of series.slice(6)) stored.add(await upload(survivor, file));
    stored.add(await upload(survivor, sharedFile(OTHERS[2] ?? '')));
    await eventually(async () => ((await cluster(survivor)).nodes.find((n) => n.name === (survivor === a ? 'node-a' : 'node-b'))?.follower === true ? true : undefined),
      'the surviving node to follow the change log');
    await victim.restart();
    await waitForHealth(victim);

    // Every instance stored has one instance job, done; nothing queued, running or retrying.
    const jobs = await eventually(async () => {
      const rows = (await client.query<{ key: string; state: string }>(`SELECT key, state FROM aibridge.work_items WHERE kind = 'instance'`)).rows;
      const ours = rows.filter((r) => stored.has(r.key));
      return ours.length === stored.size && rows.every((r) => r.state === 'done' || r.state === 'quarantined') ? ours : undefined;
    }, 'every stored instance to have a settled job');
    assert.deepEqual(jobs.filter((j) => j.state !== 'done'), []);
    // One de-identified copy and one link token per instance, in the store and the vault every node shares.
    assert.equal(filesUnder(join(temp.path, 'deid')).filter((f) => f.endsWith('.dcm')).length, stored.size);
    const tokens = (await client.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM aibridge_phi.link_tokens`)).rows[0]?.n;
    assert.equal(tokens, stored.size);
    // One pseudonym per patient: the series' patient and the three others.
    const patients = (await client.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM aibridge_phi.patients`)).rows[0]?.n;
    assert.equal(patients, 1 + OTHERS.length);

    // The series, half through each node, gets one annotation, one SR and one GSPS.
    const studyUid = lungCtSlices(30)[8]?.header['StudyInstanceUID'] as string;
    const annotation = await eventually(async () => {
      const list = (await a.json<AnnotationListResponse>('GET', '/ai-bridge/annotations?limit=1000')).annotations.filter((x) => x.unit === 'series');
      return list.length > 0 && list.every((x) => x.state === 'done' || x.state === 'quarantined') ? list : undefined;
    }, 'the series annotation to settle');
    assert.equal(annotation.length, 1, JSON.stringify(annotation));
    const [only] = annotation;
    assert.equal(only?.state, 'done', JSON.stringify(only));
    assert.equal(only.members, series.length);
    const study = (await a.json<{ ID: string; Type: string }[]>('POST', '/tools/lookup', Buffer.from(studyUid))).find((h) => h.Type === 'Study') ?? assert.fail();
    const results = await eventually(async () => {
      const instances = await a.json<{ ID: string }[]>('GET', `/studies/${study.ID}/instances`);
      const classes = await Promise.all(instances.map(async (i) => (await a.json<Record<string, string>>('GET', `/instances/${i.ID}/tags?short`))['0008,0016'] ?? ''));
      const found = classes.filter((c) => c === COMPREHENSIVE_SR || c === GSPS);
      return found.length >= 2 ? found : undefined;
    }, 'the SR and the GSPS in the study');
    // A moment for a second result to show up, were one on its way.
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const instances = await a.json<{ ID: string }[]>('GET', `/studies/${study.ID}/instances`);
    const classes = await Promise.all(instances.map(async (i) => (await a.json<Record<string, string>>('GET', `/instances/${i.ID}/tags?short`))['0008,0016'] ?? ''));
    assert.deepEqual(classes.filter((c) => c === COMPREHENSIVE_SR || c === GSPS).sort(), [COMPREHENSIVE_SR, GSPS].sort(), `results found first: ${results.join(', ')}`);

    // Settled: no lease held anywhere, nothing due.
    const open = (await client.query<{ n: number }>(`SELECT COUNT(*)::int AS n FROM aibridge.work_items WHERE state IN ('queued','running','retrying')`)).rows[0]?.n;
    assert.equal(open, 0);
  });

  it('a drained node claims nothing and hands the change log on; POST without the write header is refused', async function () {
    const [a, b] = nodes;
    if (a === undefined || b === undefined) assert.fail('the nodes did not start');
    // Like every mutation: refused without the write header, and from a page of another origin.
    assert.equal((await fetch(`${a.baseUrl}/ai-bridge/nodes/node-b/drain`, { method: 'POST' })).status, 403);
    assert.equal((await fetch(`${a.baseUrl}/ai-bridge/nodes/node-b/drain`, {
      method: 'POST', headers: { 'x-requested-by': 'orthanc-ai-bridge', origin: 'http://evil.example' },
    })).status, 403);
    assert.equal((await cluster(a)).nodes.find((n) => n.name === 'node-b')?.state, 'active');
    const ok = await a.json<{ state: string }>('POST', '/ai-bridge/nodes/node-b/drain', Buffer.alloc(0));
    assert.equal(ok.state, 'draining');
    await eventually(async () => {
      const view = await cluster(b);
      const self = view.nodes.find((n) => n.name === 'node-b');
      const other = view.nodes.find((n) => n.name === 'node-a');
      return self?.state === 'draining' && !self.follower && other?.follower === true ? true : undefined;
    }, 'node-b draining and node-a following');
    const id = await upload(b, lungCtSlices(30)[25]?.path ?? assert.fail());
    const owner = await eventually(async () => {
      const rows = (await (db ?? assert.fail()).query<{ state: string; lease_owner: string | null; detail: string | null }>(
        `SELECT i.state, e.detail FROM aibridge.work_items i JOIN aibridge.work_events e ON e.item_id = i.id
         WHERE i.kind = 'instance' AND i.key = $1 AND e.event = 'started'`, [id])).rows;
      return rows.length > 0 ? rows : undefined;
    }, 'the job stored through the drained node to run');
    assert.ok(owner.every((r) => (r.detail ?? '').includes('node-a')), JSON.stringify(owner));
    await a.json('POST', '/ai-bridge/nodes/node-b/resume', Buffer.alloc(0));
  });
});
