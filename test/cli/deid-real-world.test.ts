import { strict as assert } from 'node:assert';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

import { repoRoot } from '../../plugin/cli/repo-root.js';
import { SHARED_DATA, tempDir } from '../harness/bridge-orthanc.js';

const CLI = path.join(repoRoot(), 'bin', 'orthanc-ai-bridge.js');
const PREFIX = 'orthanc-ai-bridge deid';

function deid(args: readonly string[], cwd: string): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, 'deid', ...args], { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(new Error(`deid: ${error.message}`));
        return;
      }
      resolve({ code: error === null ? 0 : Number(error.code), stderr });
    });
  });
}

describe('cli/deid on real-world files (issue 13)', function () {
  this.timeout(120_000);
  const work = tempDir('deid-real-world');
  after(() => { work.remove(); });

  it('reports a genuine vault conflict (another key, same vault) and writes no output for it', async () => {
    const first = path.join(work.path, 'first.dcm');
    const second = path.join(work.path, 'second.dcm');
    fs.copyFileSync(path.join(SHARED_DATA, 'pydicom', 'test_files', 'MR_small.dcm'), first);
    fs.copyFileSync(first, second);
    // Another instance of the same study and series.
    execFileSync('dcmodify', ['-nb', '-gin', second], { stdio: 'pipe' });
    const vault = path.join(work.path, 'phi', 'vault.sqlite');
    const a = await deid(['--out', path.join(work.path, 'out-a'), '--key-file', path.join(work.path, 'a.key'), '--vault', vault, first], work.path);
    assert.equal(a.code, 0, a.stderr);
    const out = path.join(work.path, 'out-b');
    const b = await deid(['--out', out, '--key-file', path.join(work.path, 'b.key'), '--vault', vault, second], work.path);
    assert.equal(b.code, 1, b.stderr);
    assert.match(b.stderr, /FAILED .*second\.dcm: AIB_VAULT_CONFLICT/);
    assert.equal(fs.existsSync(path.join(out, 'second.dcm')), false, 'no de-identified copy without its vault entry');
    assert.ok(fs.existsSync(path.join(out, 'quarantine', 'second.dcm')), 'the input is quarantined');
  });

  it('carries only its own lines on stderr over the whole shared data (no dcmjs "Invalid vr type")', async function () {
    this.timeout(600_000);
    const r = await deid(['--out', path.join(work.path, 'out-all'), '--key-file', path.join(work.path, 'c.key'), '--workers', '2', SHARED_DATA], work.path);
    const foreign = r.stderr.split('\n').filter((l) => l !== '' && !l.startsWith(`${PREFIX}:`));
    assert.deepEqual(foreign, []);
    assert.match(r.stderr, /\d+ written, \d+ failed/);
  });
});
