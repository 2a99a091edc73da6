/**
 * Work-queue cost: items/s through claim + complete (an empty run, so the
 * figure is the queue's own cost per item) on the SQLite backend and on a
 * throwaway PostgreSQL 15 cluster, with one and two claimers (separate
 * connections, as two nodes would have). Baseline, same run: SQLite's own
 * floor for the same work, two bare UPDATE statements per item (claim,
 * complete) through better-sqlite3 on a table of the same shape, no events,
 * no lease checks (the synchronous job store the queue replaced did about
 * this much plus its events).
 *
 * `npm run bench -- queue [--items N] [--rounds N]`
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';

import Database from 'better-sqlite3';

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
  const db = new Database(stateDb);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.exec(`CREATE TABLE jobs (id INTEGER PRIMARY KEY, key TEXT UNIQUE, state TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL DEFAULT 0, outcome TEXT, updated_at INTEGER)`);
  db.exec('CREATE INDEX jobs_due ON jobs (state, next_attempt_at, id)');
  const insert = db.prepare(`INSERT INTO jobs (key, state) VALUES (?, 'queued')`);
  db.transaction(() => { for (let i = 0; i < items; i++) insert.run(`bench-${i}`); })();
  const next = db.prepare(`SELECT id FROM jobs WHERE state = 'queued' AND next_attempt_at <= ? ORDER BY next_attempt_at, id LIMIT 1`);
  const claim = db.prepare(`UPDATE jobs SET state = 'running', attempts = attempts + 1, updated_at = ? WHERE id = ?`);
  const complete = db.prepare(`UPDATE jobs SET state = 'done', outcome = 'done', updated_at = ? WHERE id = ?`);
  const started = performance.now();
  for (;;) {
    const row = db.transaction(() => {
      const found = next.get(Date.now()) as { id: number } | undefined;
      if (found !== undefined) claim.run(Date.now(), found.id);
      return found;
    })();
    if (row === undefined) break;
    complete.run(Date.now(), row.id);
  }
  const seconds = (performance.now() - started) / 1000;
  db.close();
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
      note('baseline bare-sqlite/1', baselineRound(join(dir, `b${file++}.sqlite`), items));
      for (const claimers of [1, 2]) {
        note(`sqlite/${claimers}`, await queueRound({ Backend: 'sqlite' }, join(dir, `q${file++}.sqlite`), items, claimers));
        note(`postgresql/${claimers}`, await queueRound({ Backend: 'postgresql', ConnectionUri: postgres.uri, Schema: `b${file++}` }, '', items, claimers));
      }
    }
  } finally {
    await postgres.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  const baseline = median(results.get('baseline bare-sqlite/1') ?? []);
  const rows: string[][] = [];
  for (const [key, values] of results) {
    rows.push([key, String(round(median(values), 0)), String(round(median(values) / baseline, 2))]);
    const [backend, claimers] = key.split('/');
    process.stdout.write(`${JSON.stringify({
      measure: 'queue_claim_complete', backend, claimers: Number(claimers), unit: 'items/s', value: round(median(values), 0),
      rounds: values.length, items, baseline: round(baseline, 0), baselineName: 'bare better-sqlite3 SELECT+UPDATE claim, UPDATE complete, 1 claimer', ...machine(),
    })}\n`);
  }
  process.stdout.write(`\n${textTable(['backend/claimers', 'items/s (median)', 'vs bare SQLite'], rows)}\n`);
}
