import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { sharedFile } from '../../harness/bridge-orthanc';
import type { SealedOcrResult } from './sealed-ocr-child';

describe('OCR inside the sealed de-identification worker', function () {
  this.timeout(300000);

  it('loads the models before the seal and reads burned-in text after it, with the network closed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'sealed-ocr-'));
    try {
      const child = spawnSync(process.execPath, [join(__dirname, 'sealed-ocr-child.js'), sharedFile('deid-data/ultrasounds/RGB_IMAGE.dcm'), dir], { encoding: 'utf8' });
      assert.equal(child.status, 0, child.stderr);
      const result = JSON.parse(child.stdout.trim()) as SealedOcrResult;
      assert.equal(result.seccomp, true);
      assert.equal(result.tcpError, 'EACCES');
      assert.ok(result.cover > 0);
      assert.ok(result.identifierRules.some((r) => r.startsWith('blacklist:patient-name')), result.identifierRules.join(' '));
      assert.ok(result.identifierRules.some((r) => r.startsWith('blacklist:id')), result.identifierRules.join(' '));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
