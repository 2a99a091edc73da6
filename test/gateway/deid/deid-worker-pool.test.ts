import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DeidWorkerPool } from '../../../plugin/gateway/deid/deid-worker-pool';
import type { Logger } from '../../../plugin/gateway/logger';
import { childrenRunning, refusal } from '../../harness/child-processes';
import { SHARED_DATA, sharedFile } from '../../harness/bridge-orthanc';

const WORKER = join(__dirname, '..', '..', '..', 'plugin', 'deid', 'worker-main.js');
const quiet: Logger = { info: () => undefined, warn: () => undefined, error: () => undefined };

async function ready(pool: DeidWorkerPool, count: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (pool.readyWorkers < count) {
    if (Date.now() > deadline) throw new Error(`${pool.readyWorkers}/${count} workers ready after 60 s`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

describe('DeidWorkerPool: plain workers without OCR, one OCR worker on demand (real sealed processes)', function () {
  this.timeout(120_000);
  let root = '';
  let pool: DeidWorkerPool;

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'aib-deid-pool-'));
    mkdirSync(join(root, 'phi'), { mode: 0o700 });
    pool = new DeidWorkerPool({
      workers: 2, script: WORKER, profile: 'research', deidDirectory: join(root, 'deid'), siteKeyFile: join(root, 'phi', 'site.key'), inputDirectories: [SHARED_DATA],
      cleanPixels: { apply: 'auto', modalities: ['US'], mode: 'all-text' },
    }, quiet);
    pool.start();
    await ready(pool, 2);
  });
  after(async () => {
    await pool.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('starts plain workers that load no OCR models, and no OCR worker for a CT slice', async () => {
    assert.deepEqual(pool.sealReports().map((r) => r.ocr), [false, false]);
    const ct = sharedFile('tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-01.dcm');
    const result = await pool.deidentify({ instanceId: 'ct', inputPath: ct });
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.ok(result.pixels === undefined, 'a CT slice is not cleaned under auto');
    assert.equal(pool.sealReports().length, 2, 'no OCR worker was started');
  });

  it('sends an image that needs Clean Pixel Data to the one OCR worker, which cleans it with OCR', async () => {
    const us = sharedFile('deid-data/ultrasounds/GREYSCALE_IMAGE.dcm');
    const result = await pool.deidentify({ instanceId: 'us', inputPath: us });
    assert.equal(result.ok, true, JSON.stringify(result));
    assert.ok(result.pixels !== undefined, 'the ultrasound was cleaned');
    assert.ok(result.pixels.finders.includes('ocr'), `finders: ${result.pixels.finders.join(',')}`);
    assert.ok(result.pixels.boxes.length > 0);
    const reports = pool.sealReports();
    assert.equal(reports.length, 3);
    assert.equal(reports.filter((r) => r.ocr === true).length, 1, 'one OCR worker');
  });
});

describe('DeidWorkerPool: bounded work (real sealed processes, one stopped with SIGSTOP)', function () {
  this.timeout(120_000);
  let root = '';
  let pool: DeidWorkerPool;
  const ct = (n: number): Parameters<DeidWorkerPool['deidentify']>[0] => ({
    instanceId: `ct-${n}`, inputPath: sharedFile(`tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-0${n}.dcm`),
  });

  before(async () => {
    root = mkdtempSync(join(tmpdir(), 'aib-deid-bounded-'));
    mkdirSync(join(root, 'phi'), { mode: 0o700 });
    pool = new DeidWorkerPool({
      workers: 1, script: WORKER, profile: 'research', deidDirectory: join(root, 'deid'), siteKeyFile: join(root, 'phi', 'site.key'), inputDirectories: [SHARED_DATA],
      requestTimeoutMs: 1500, maxWaiting: 1,
    }, quiet);
    pool.start();
    await ready(pool, 1);
  });
  after(async () => {
    await pool.stop();
    rmSync(root, { recursive: true, force: true });
  });

  it('kills a worker that does not answer in time, bounds the wait for a free one (AIB_DEID_WORKER_TIMEOUT), refuses a request over the queue bound (AIB_DEID_WORKERS_BUSY), and goes on with a fresh worker', async () => {
    const [stuck] = childrenRunning('worker-main.js');
    assert.ok(stuck !== undefined, 'the worker process is a child of this process');
    process.kill(stuck, 'SIGSTOP');
    const first = refusal(pool.deidentify(ct(1)));
    const second = refusal(pool.deidentify(ct(2)));
    const busy = await refusal(pool.deidentify(ct(3)));
    assert.equal(busy.code, 'AIB_DEID_WORKERS_BUSY');
    assert.equal(busy.transient, true);
    const timeout = await first;
    assert.equal(timeout.code, 'AIB_DEID_WORKER_TIMEOUT');
    assert.equal(timeout.transient, true, 'retried by the pipeline, then quarantined');
    assert.match(timeout.message, /instance ct-1: de-identification worker 0 did not answer in 1\.5 s and was killed/);
    const waited = await second;
    assert.equal(waited.code, 'AIB_DEID_WORKER_TIMEOUT');
    assert.match(waited.message, /instance ct-2: no de-identification worker was free to take the request within 1\.5 s/);
    // The stuck worker was killed: it leaves this process's live children (the mocha timeout fails the test otherwise).
    while (childrenRunning('worker-main.js').includes(stuck)) await new Promise((resolve) => setTimeout(resolve, 50));
    await ready(pool, 1);
    const served = await pool.deidentify(ct(4));
    assert.equal(served.ok, true, JSON.stringify(served));
  });
});
