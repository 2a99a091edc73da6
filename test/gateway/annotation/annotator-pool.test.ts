import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AiBridgeError } from '../../../plugin/core/ai-bridge-error';
import { AnnotatorPool } from '../../../plugin/gateway/annotation/annotator-pool';
import type { Logger } from '../../../plugin/gateway/logger';

const ANNOTATOR = join(__dirname, '..', '..', '..', 'plugin', 'annotate', 'annotator-main.js');
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

function annotatorPids(): number[] {
  return readdirSync('/proc').filter((e) => /^\d+$/.test(e)).flatMap((e) => {
    try {
      const stat = readFileSync(`/proc/${e}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (Number(fields[1]) !== process.pid || fields[0] === 'Z') return [];
      return readFileSync(`/proc/${e}/cmdline`, 'utf8').includes('annotator-main.js') ? [Number(e)] : [];
    } catch {
      return [];
    }
  });
}

async function refusal(promise: Promise<unknown>): Promise<AiBridgeError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof AiBridgeError, String(error));
    return error;
  }
  assert.fail('the request was answered');
}

async function ready(pool: AnnotatorPool): Promise<void> {
  const deadline = Date.now() + 110_000;
  while (pool.readyCount < 1) {
    if (Date.now() > deadline) throw new Error('the annotator was not ready after 110 s');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe('AnnotatorPool: bounded work (the real annotator process, stopped with SIGSTOP)', function () {
  this.timeout(240_000);
  let root = '';
  let pool: AnnotatorPool;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'aib-annotator-bounded-'));
    for (const dir of ['deid', 'outbox', 'models', 'central']) mkdirSync(join(root, dir));
    pool = new AnnotatorPool({
      processes: 1, script: ANNOTATOR, deidDirectory: join(root, 'deid'), outboxDirectory: join(root, 'outbox'),
      modelsDirectory: join(root, 'models'), centralDirectory: join(root, 'central'), requestTimeoutMs: 1500, maxWaiting: 1,
    }, quiet);
    pool.start();
    await ready(pool);
  });
  after(async () => {
    await pool.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('kills an annotator that does not answer in time (AIB_ANNOTATOR_TIMEOUT), refuses over the queue bound (AIB_ANNOTATOR_BUSY), bounds the wait for a free one, and answers from a fresh one', async () => {
    const [stuck] = annotatorPids();
    assert.ok(stuck !== undefined, 'the annotator is a child of this process');
    process.kill(stuck, 'SIGSTOP');
    const first = refusal(pool.centralStatus());
    const second = refusal(pool.centralStatus());
    const busy = await refusal(pool.centralStatus());
    assert.equal(busy.code, 'AIB_ANNOTATOR_BUSY');
    const timeout = await first;
    assert.equal(timeout.code, 'AIB_ANNOTATOR_TIMEOUT');
    assert.equal(timeout.transient, true);
    assert.match(timeout.message, /annotator 0 did not answer in 1\.5 s and was killed/);
    const waited = await second;
    assert.equal(waited.code, 'AIB_ANNOTATOR_TIMEOUT');
    assert.match(waited.message, /no annotator was free to take the request within 1\.5 s/);
    while (annotatorPids().includes(stuck)) await new Promise((resolve) => setTimeout(resolve, 50));
    await ready(pool);
    await pool.centralStatus();
  });
});
