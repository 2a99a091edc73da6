import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AnnotatorPool } from '../../../plugin/gateway/annotation/annotator-pool';
import type { Logger } from '../../../plugin/gateway/logger';
import { childrenRunning, refusal } from '../../harness/child-processes';

const ANNOTATOR = join(__dirname, '..', '..', '..', 'plugin', 'annotate', 'annotator-main.js');
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

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
    const [stuck] = childrenRunning('annotator-main.js');
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
    while (childrenRunning('annotator-main.js').includes(stuck)) await new Promise((resolve) => setTimeout(resolve, 50));
    await ready(pool);
    await pool.centralStatus();
  });
});
