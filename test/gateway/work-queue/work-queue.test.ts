import { strict as assert } from 'node:assert';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, existsSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';

import Database from 'better-sqlite3';

import { GatewayError } from '../../../plugin/gateway/gateway-errors';
import { migrate } from '../../../plugin/gateway/work-queue/migrations';
import { openConnection, openWorkQueue, type DatabaseConfig } from '../../../plugin/gateway/work-queue/open-work-queue';
import type { RetryPolicy } from '../../../plugin/gateway/work-queue/retry-policy';
import { SqlWorkQueue } from '../../../plugin/gateway/work-queue/sql-work-queue';
import type { WorkItem } from '../../../plugin/gateway/work-queue/work-item';
import { eventually, tempDir } from '../../harness/bridge-orthanc';
import { startPostgres, type RunningPostgres } from '../../harness/postgres-server';

const CLAIMER = join(__dirname, 'claimer-process.js');
const POLICY: RetryPolicy = { maxAttempts: 3, firstDelayMs: 1_000, maxDelayMs: 60_000 };
const LEASE = 30_000;

function code(expected: string): (error: unknown) => boolean {
  return (error) => error instanceof GatewayError && error.code === expected;
}

for (const backend of ['sqlite', 'postgresql'] as const) {
  describe(`work queue on ${backend}`, () => {
    const dir = tempDir(`queue-${backend}`);
    let server: RunningPostgres | undefined;
    let schemas = 0;
    let database: DatabaseConfig;
    let stateDb: string;
    let clock: number;
    const now = (): number => clock;
    const open: SqlWorkQueue[] = [];

    before(async function () {
      if (backend === 'postgresql') server = await startPostgres();
    });
    after(async () => {
      await server?.stop();
      dir.remove();
    });
    beforeEach(() => {
      // Every test on a fresh database: a new file, or a new schema of the one cluster.
      schemas++;
      stateDb = join(dir.path, `state-${schemas}.sqlite`);
      database = server === undefined ? { Backend: 'sqlite' } : { Backend: 'postgresql', ConnectionUri: server.uri, Schema: `t${schemas}` };
      clock = 1_700_000_000_000;
    });
    afterEach(async () => {
      await Promise.all(open.splice(0).map((q) => q.close()));
    });

    /** One more gateway on the same database (its own connection, its own clock reading). */
    async function node(retry: RetryPolicy = POLICY, maxEventsPerItem?: number): Promise<SqlWorkQueue> {
      const { queue } = await openWorkQueue(database, stateDb, retry, now);
      open.push(queue);
      if (maxEventsPerItem === undefined) return queue;
      const sql = await openConnection(database, stateDb);
      const bounded = new SqlWorkQueue(sql, { retry, maxEventsPerItem, now });
      open.push(bounded);
      return bounded;
    }

    async function enqueue(queue: SqlWorkQueue, n: number): Promise<WorkItem[]> {
      const items: WorkItem[] = [];
      for (let i = 0; i < n; i++) items.push((await queue.enqueue({ kind: 'instance', key: `instance-${i}`, payload: { n: i } })).item);
      return items;
    }

    it('gives each item to exactly one of two claimers', async () => {
      const a = await node();
      const b = await node();
      await enqueue(a, 40);
      const drain = async (queue: SqlWorkQueue, owner: string): Promise<number[]> => {
        const got: number[] = [];
        for (;;) {
          const item = await queue.claim('instance', owner, LEASE);
          if (item === undefined) return got;
          got.push(item.id);
          // Yield to the other claimer between claim and complete, as real work would.
          await new Promise((resolve) => setImmediate(resolve));
          await queue.complete(item.id, owner, 'done by test');
        }
      };
      const [byA, byB] = await Promise.all([drain(a, 'node-a'), drain(b, 'node-b')]);
      const all = [...byA, ...byB];
      assert.equal(all.length, 40, 'every item claimed once');
      assert.equal(new Set(all).size, 40, 'no item claimed twice');
      if (backend === 'postgresql') assert.ok(byA.length > 0 && byB.length > 0, `both claimers worked (${byA.length}/${byB.length})`);
      assert.deepEqual(await a.countsByState('instance'), { queued: 0, running: 0, retrying: 0, done: 40, quarantined: 0 });
      for (const id of all.slice(0, 5)) {
        assert.equal((await a.events(id)).filter((e) => e.event === 'started').length, 1);
      }
    });

    it('gives each item to exactly one of three claiming processes', async () => {
      const a = await node();
      await enqueue(a, 150);
      const claimers = ['p1', 'p2', 'p3'].map((owner) =>
        promisify(execFile)(process.execPath, [CLAIMER, JSON.stringify(database), stateDb, owner]));
      const lists = (await Promise.all(claimers)).map((r) => JSON.parse(r.stdout) as number[]);
      const all = lists.flat();
      assert.equal(all.length, 150, `every item claimed once (${lists.map((l) => l.length).join('/')})`);
      assert.equal(new Set(all).size, 150, 'no item claimed twice');
      assert.equal((await a.countsByState('instance')).done, 150);
    });

    it('takes over the items of a claiming process killed with SIGKILL once their leases run out', async () => {
      const a = await node();
      await enqueue(a, 5);
      const doomed = spawn(process.execPath, [CLAIMER, JSON.stringify(database), stateDb, 'doomed', '3', '5000'], { stdio: ['ignore', 'pipe', 'inherit'] });
      const held = await new Promise<number[]>((resolve, reject) => {
        let out = '';
        doomed.stdout.on('data', (chunk: Buffer) => {
          out += chunk.toString();
          if (out.includes('\n')) resolve(JSON.parse(out) as number[]);
        });
        doomed.once('exit', (status) => { reject(new Error(`the claiming process exited (${String(status)}) before claiming`)); });
      });
      assert.equal(held.length, 3);
      doomed.kill('SIGKILL');
      // Real time from here: this node's clock is the wall clock, as in production.
      const survivor = new SqlWorkQueue(await openConnection(database, stateDb), { retry: POLICY });
      open.push(survivor);
      const free: number[] = [];
      for (let item = await survivor.claim('instance', 'survivor', LEASE); item !== undefined; item = await survivor.claim('instance', 'survivor', LEASE)) {
        free.push(item.id);
        await survivor.complete(item.id, 'survivor', 'done');
      }
      assert.equal(free.length, 2, 'only the items nobody held are due before the leases run out');
      const takenOver: WorkItem[] = [];
      await eventually(async () => {
        const item = await survivor.claim('instance', 'survivor', LEASE);
        if (item !== undefined) {
          takenOver.push(item);
          await survivor.complete(item.id, 'survivor', 'taken over');
        }
        return takenOver.length === 3 ? true : undefined;
      }, 'the killed process\'s items to be taken over');
      assert.deepEqual(takenOver.map((i) => i.id).sort(), [...held].sort());
      assert.deepEqual(takenOver.map((i) => i.attempts), [2, 2, 2], 'the killed attempt counts');
      for (const id of held) assert.ok((await survivor.events(id)).some((e) => e.event === 'lease-expired' && (e.detail ?? '').startsWith('doomed')));
      assert.equal((await survivor.countsByState('instance')).done, 5);
    });

    it('lets another node take over an expired lease and refuses the late owner', async () => {
      const a = await node();
      const b = await node();
      const [item] = await enqueue(a, 1);
      assert.ok(item);
      const claimed = await a.claim('instance', 'node-a', LEASE);
      assert.equal(claimed?.leaseOwner, 'node-a');
      assert.equal(claimed.leaseExpiresAt, clock + LEASE);
      clock += LEASE / 2;
      assert.equal(await a.heartbeat(item.id, 'node-a', LEASE), true, 'the owner renews');
      clock += LEASE - 1;
      assert.equal(await b.claim('instance', 'node-b', LEASE), undefined, 'a renewed lease is not taken');
      clock += 2;
      const taken = await b.claim('instance', 'node-b', LEASE);
      assert.equal(taken?.id, item.id);
      assert.equal(taken.attempts, 2, 'the lost attempt counts');
      assert.equal(taken.leaseOwner, 'node-b');
      assert.equal(await a.heartbeat(item.id, 'node-a', LEASE), false);
      await assert.rejects(a.complete(item.id, 'node-a', 'late'), code('AIB_QUEUE_LEASE_LOST'));
      await assert.rejects(a.setStage(item.id, 'node-a', 'deidentify'), code('AIB_QUEUE_LEASE_LOST'));
      await b.complete(item.id, 'node-b', 'de-identified');
      const done = await a.get(item.id);
      assert.deepEqual([done?.state, done?.outcome, done?.leaseOwner], ['done', 'de-identified', null]);
      assert.deepEqual((await a.events(item.id)).map((e) => e.event), ['received', 'started', 'lease-expired', 'started', 'done']);
    });

    it('hands a restarted node\'s running items out again at once', async () => {
      const a = await node();
      const [mine, other] = await enqueue(a, 2);
      assert.ok(mine && other);
      await a.claim('instance', 'node_a:101', LEASE);
      await a.claim('instance', 'nodeXa:7', LEASE);
      // node_a restarts as a new process: its old leases end now, another node's stay.
      assert.equal(await a.expireLeasesOf('node_a'), 1, 'LIKE wildcards in the name are literal');
      const again = await a.claim('instance', 'node_a:202', LEASE);
      assert.deepEqual([again?.id, again?.attempts], [mine.id, 2]);
      assert.equal(await a.claim('instance', 'node_a:202', LEASE), undefined);
    });

    it('quarantines an item whose lease keeps expiring (a node-killing input) after MaxAttempts', async () => {
      const a = await node();
      const [item] = await enqueue(a, 2);
      assert.ok(item);
      for (let attempt = 1; attempt <= POLICY.maxAttempts; attempt++) {
        assert.equal((await a.claim('instance', `crashing-${attempt}`, LEASE))?.id, item.id);
        clock += LEASE + 1;
      }
      const next = await a.claim('instance', 'survivor', LEASE);
      assert.notEqual(next?.id, item.id, 'the poison item is not handed out a fourth time');
      const quarantined = await a.get(item.id);
      assert.equal(quarantined?.state, 'quarantined');
      assert.equal(quarantined.errorCode, 'AIB_JOB_ATTEMPTS_EXHAUSTED');
    });

    it('retries transient failures with the one backoff policy, then quarantines', async () => {
      const a = await node();
      const [item] = await enqueue(a, 1);
      assert.ok(item);
      const failure = { code: 'AIB_STOW_UNAVAILABLE', message: 'endpoint down', transient: true };
      for (const [attempt, delay] of [[1, 1_000], [2, 2_000]] as const) {
        const claimed = await a.claim('instance', 'node-a', LEASE);
        assert.equal(claimed?.attempts, attempt);
        const result = await a.fail(item.id, 'node-a', failure);
        assert.deepEqual(result, { state: 'retrying', retryAt: clock + delay });
        assert.equal(await a.nextDueAt('instance'), clock + delay);
        clock += delay - 1;
        assert.equal(await a.claim('instance', 'node-a', LEASE), undefined, `not before ${delay} ms`);
        clock += 1;
      }
      assert.equal((await a.claim('instance', 'node-a', LEASE))?.attempts, 3);
      const last = await a.fail(item.id, 'node-a', failure);
      assert.equal(last.state, 'quarantined');
      const stored = await a.get(item.id);
      assert.equal(stored?.errorCode, 'AIB_JOB_ATTEMPTS_EXHAUSTED');
      assert.match(stored.errorMessage ?? '', /3 attempts failed; last: AIB_STOW_UNAVAILABLE: endpoint down/);
      assert.equal(await a.claim('instance', 'node-a', LEASE), undefined, 'quarantined stays put');
      const requeued = await a.requeue(item.id, 'administrator');
      assert.deepEqual([requeued.state, requeued.attempts], ['queued', 0]);
    });

    it('writes a run\'s stages and facts with its end, in three events', async () => {
      const a = await node();
      const [item] = await enqueue(a, 2);
      assert.ok(item);
      await a.claim('instance', 'node-a', LEASE);
      await a.complete(item.id, 'node-a', 'de-identified', {
        stages: [{ stage: 'fetch', ms: 3 }, { stage: 'deidentify', ms: 41 }], payload: { deidPath: 'a/b/c.dcm' },
      });
      const done = await a.get(item.id);
      assert.deepEqual([done?.stage, done?.payload], ['deidentify', { n: 0, deidPath: 'a/b/c.dcm' }]);
      assert.deepEqual((await a.events(item.id)).map((e) => [e.event, e.stage, e.detail]), [
        ['received', 'queued', null], ['started', 'queued', 'attempt 1 by node-a'], ['stages', 'deidentify', 'fetch 3 ms, deidentify 41 ms'], ['done', 'deidentify', 'de-identified'],
      ]);
      const other = await a.claim('instance', 'node-a', LEASE);
      assert.ok(other);
      const failed = await a.fail(other.id, 'node-a', { code: 'AIB_DEID_FAILED', message: 'refused', transient: false }, { stages: [{ stage: 'fetch', ms: 2 }] });
      assert.equal(failed.state, 'quarantined');
      assert.equal((await a.get(other.id))?.stage, 'fetch', 'the stage it failed in');
    });

    it('keeps a retried run\'s stage and facts, and refuses a late owner\'s failure', async () => {
      const a = await node();
      const b = await node();
      const [item, other] = await enqueue(a, 2);
      assert.ok(item && other);
      await a.claim('instance', 'node-a', LEASE);
      const result = await a.fail(item.id, 'node-a', { code: 'AIB_INGEST_UNREADABLE', message: 'busy', transient: true },
        { stages: [{ stage: 'fetch', ms: 2 }, { stage: 'deidentify', ms: 9 }], payload: { sopInstanceUid: '1.2.3' } });
      assert.equal(result.state, 'retrying');
      const retrying = await a.get(item.id);
      assert.deepEqual([retrying?.state, retrying?.stage, retrying?.payload, retrying?.leaseOwner, retrying?.errorCode],
        ['retrying', 'deidentify', { n: 0, sopInstanceUid: '1.2.3' }, null, 'AIB_INGEST_UNREADABLE']);
      assert.deepEqual((await a.events(item.id)).map((e) => [e.event, e.stage]),
        [['received', 'queued'], ['started', 'queued'], ['stages', 'deidentify'], ['retry-scheduled', 'deidentify']]);
      // The other item's lease runs out and node-b takes it: node-a's late failure changes nothing.
      await a.claim('instance', 'node-a', LEASE);
      clock += LEASE + 1;
      const taken = await b.claim('instance', 'node-b', LEASE);
      assert.equal(taken?.id, other.id);
      await assert.rejects(a.fail(other.id, 'node-a', { code: 'AIB_DEID_FAILED', message: 'late', transient: false }, { stages: [{ stage: 'fetch', ms: 1 }] }),
        code('AIB_QUEUE_LEASE_LOST'));
      const held = await a.get(other.id);
      assert.deepEqual([held?.state, held?.leaseOwner, held?.stage, held?.errorCode], ['running', 'node-b', 'queued', null]);
    });

    it('quarantines a permanent failure at once, with its own code', async () => {
      const a = await node();
      const [item] = await enqueue(a, 1);
      assert.ok(item);
      await a.claim('instance', 'node-a', LEASE);
      const result = await a.fail(item.id, 'node-a', { code: 'AIB_INGEST_NOT_DICOM', message: 'not Part 10', transient: false });
      assert.deepEqual(result, { state: 'quarantined', code: 'AIB_INGEST_NOT_DICOM', message: 'not Part 10' });
    });

    it('keeps only the newest events of an item', async () => {
      const a = await node(POLICY, 5);
      const [item] = await enqueue(a, 1);
      assert.ok(item);
      for (let i = 0; i < 12; i++) {
        await a.claim('instance', 'node-a', LEASE);
        await a.complete(item.id, 'node-a', `run ${i}`);
        await a.requeue(item.id, `round ${i}`);
      }
      const events = await a.events(item.id);
      assert.equal(events.length, 5);
      assert.deepEqual(events.at(-1), { at: clock, event: 'requeued', stage: 'queued', detail: 'round 11, was done' });
    });

    it('enqueues a key once, parks items in their kind\'s held states only', async () => {
      const a = await node();
      const first = await a.enqueue({ kind: 'annotation', key: 'series:1.2.3:lung@1', payload: { members: 1 }, state: 'collecting' });
      const again = await a.enqueue({ kind: 'annotation', key: 'series:1.2.3:lung@1', payload: { members: 9 }, state: 'collecting' });
      assert.deepEqual([first.created, again.created, again.item.id, again.item.payload], [true, false, first.item.id, { members: 1 }]);
      assert.equal(await a.claim('annotation', 'node-a', LEASE), undefined, 'a collecting series is not due');
      await a.mergePayload(first.item.id, { expected: 3 });
      await a.release(first.item.id, 'series complete');
      const claimed = await a.claim<{ members: number; expected: number }>('annotation', 'node-a', LEASE);
      assert.deepEqual(claimed?.payload, { members: 1, expected: 3 });
      await assert.rejects(a.hold(first.item.id, 'approval', 'no such state'), code('AIB_QUEUE_UNKNOWN_STATE'));
      await assert.rejects(a.enqueue({ kind: 'instance', key: 'x', payload: {}, state: 'collecting' }), code('AIB_QUEUE_UNKNOWN_STATE'));
      await assert.rejects(a.enqueue({ kind: 'fax', key: 'x', payload: {} }), code('AIB_QUEUE_UNKNOWN_KIND'));
    });

    // PostgreSQL keeps its files itself: the SQLite file is the gateway's to protect.
    if (backend === 'sqlite') it('keeps state.sqlite and its WAL owner-only, and narrows a file an earlier version left readable', async () => {
      // What an earlier version left: the database and its WAL readable by everyone (the umask's 0644).
      const earlier = new Database(stateDb);
      earlier.pragma('journal_mode = WAL');
      earlier.exec('CREATE TABLE left_behind (x INTEGER)');
      chmodSync(stateDb, 0o644);
      const wal = `${stateDb}-wal`;
      chmodSync(wal, 0o644);
      const a = await node();
      await enqueue(a, 1);
      for (const file of [stateDb, wal, `${stateDb}-shm`]) {
        assert.ok(existsSync(file), `${file} exists while the queue is open`);
        assert.equal(statSync(file).mode & 0o777, 0o600, `${file} is owner-only`);
      }
      earlier.close();
      // A new database is created owner-only before SQLite writes a byte of it.
      stateDb = join(dir.path, `state-new-${schemas}.sqlite`);
      await enqueue(await node(), 1);
      assert.equal(statSync(stateDb).mode & 0o777, 0o600);
      assert.equal(statSync(`${stateDb}-wal`).mode & 0o777, 0o600);
    });

    it('migrates once and refuses a database a newer gateway migrated', async () => {
      const a = await node();
      const sql = await openConnection(database, stateDb);
      try {
        assert.equal(await migrate(sql), 0, 'already at the newest version');
        await sql.run(`INSERT INTO work_queue_migrations (version, name, applied_at) VALUES (99, 'from the future', 0)`);
        await assert.rejects(migrate(sql), code('AIB_QUEUE_SCHEMA_TOO_NEW'));
      } finally {
        await sql.close();
      }
      assert.ok(a);
    });
  });
}
