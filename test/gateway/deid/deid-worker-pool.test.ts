import { strict as assert } from 'node:assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { DeidWorkerPool } from '../../../plugin/gateway/deid/deid-worker-pool';
import type { Logger } from '../../../plugin/gateway/logger';
import { sharedFile } from '../../harness/bridge-orthanc';

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
      workers: 2, script: WORKER, profile: 'research', deidDirectory: join(root, 'deid'), siteKeyFile: join(root, 'phi', 'site.key'),
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
