/**
 * Work-queue cost: items/s through claim + complete (an empty run, so the
 * figure is the queue's own cost per item) on the SQLite backend and on a
 * throwaway PostgreSQL 15 cluster, with one and two claimers (separate
 * connections, as two nodes would have). Baseline, same run: the previous
 * synchronous store (SqliteJobStore claimNext + complete) over the same
 * number of jobs.
 *
 * `npm run bench -- queue [--items N] [--rounds N]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import { orthancInstanceId } from '../plugin/core/branded-ids.js';
import { SqliteJobStore } from '../plugin/gateway/sqlite-job-store.js';
import { openWorkQueue, type DatabaseConfig } from '../plugin/gateway/work-queue/open-work-queue.js';
import type { SqlWorkQueue } from '../plugin/gateway/work-queue/sql-work-queue.js';
import { startPostgres } from '../test/harness/postgres-server.js';
import { machine, median, round, textTable } from './report.js';

const POLICY = { maxAttempts: 5, firstDelayMs: 1_000, maxDelayMs: 60_000 };

async function drain(queue: SqlWorkQueue, owner: string): Promise<number> {
  let n = 0;
  for (;;) {
    const item = await queue.claim('instance', owner, 60_000);
    if (item === undefined) return n;
    await queue.complete(item.id, owner, 'done', { stages: [{ stage: 'bench', ms: 0 }] });
    n++;
  }
}

async function queueRound(database: DatabaseConfig, stateDb: string, items: number, claimers: number): Promise<number> {
  const queues = await Promise.all(Array.from({ length: claimers }, () => openWorkQueue(database, stateDb, POLICY)));
  const first = queues[0];
  if (first === undefined) throw new Error('no claimer');
  await first.queue.transaction(async (queue) => {
    for (let i = 0; i < items; i++) await queue.enqueue({ kind: 'instance', key: `bench-${i}`, payload: {} });
  });
  const started = performance.now();
  const done = (await Promise.all(queues.map((q, i) => drain(q.queue, `node-${i}`)))).reduce((a, b) => a + b, 0);
  const seconds = (performance.now() - started) / 1000;
  await Promise.all(queues.map((q) => q.queue.close()));
  if (done !== items) throw new Error(`claimed ${done} of ${items}`);
  return items / seconds;
}

function baselineRound(stateDb: string, items: number): number {
  const store = new SqliteJobStore(stateDb);
  store.recordChanges(Array.from({ length: items }, (_, i) => ({ seq: i + 1, instanceId: orthancInstanceId(`${i.toString(16).padStart(8, '0')}-00000000-00000000-00000000-00000000`) })), items);
  const started = performance.now();
  for (;;) {
    const job = store.claimNext(Date.now());
    if (job === undefined) break;
    store.setStage(job.id, 'bench');
    store.complete(job.id, 'done');
  }
  const seconds = (performance.now() - started) / 1000;
  store.close();
  return items / seconds;
}

export async function runQueueBench(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({ args: [...args], options: { items: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' } } });
  const items = Number(values.items);
  const rounds = Number(values.rounds);
  const dir = mkdtempSync(join(tmpdir(), 'aib-bench-queue-'));
  const postgres = await startPostgres();
  let file = 0;
  const results = new Map<string, number[]>();
  const note = (key: string, value: number): void => { results.set(key, [...(results.get(key) ?? []), value]); };
  try {
    for (let round = 0; round < rounds; round++) {
      note('baseline sqlite-job-store/1', baselineRound(join(dir, `b${file++}.sqlite`), items));
      for (const claimers of [1, 2]) {
        note(`sqlite/${claimers}`, await queueRound({ Backend: 'sqlite' }, join(dir, `q${file++}.sqlite`), items, claimers));
        note(`postgresql/${claimers}`, await queueRound({ Backend: 'postgresql', ConnectionUri: postgres.uri, Schema: `b${file++}` }, '', items, claimers));
      }
    }
  } finally {
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const baseline = median(results.get('baseline sqlite-job-store/1') ?? []);
  const rows: string[][] = [];
  for (const [key, values] of results) {
    rows.push([key, String(round(median(values), 0)), String(round(median(values) / baseline, 2))]);
    const [backend, claimers] = key.split('/');
    process.stdout.write(`${JSON.stringify({
      measure: 'queue_claim_complete', backend, claimers: Number(claimers), unit: 'items/s', value: round(median(values), 0),
      rounds: values.length, items, baseline: round(baseline, 0), baselineName: 'SqliteJobStore claimNext+setStage+complete, 1 claimer', ...machine(),
    })}\n`);
  }
  process.stdout.write(`\n${textTable(['backend/claimers', 'items/s (median)', 'vs previous store'], rows)}\n`);
}
