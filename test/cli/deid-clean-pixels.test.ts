import { strict as assert } from 'node:assert';
import { execFile, execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

import { repoRoot } from '../../plugin/cli/repo-root.js';

const DATA = path.join(__dirname, '..', '..', '..', '..', 'shared', 'data');
const US = path.join(DATA, 'deid-data', 'ultrasounds', 'GREYSCALE_IMAGE.dcm');
const JPEG_CT = path.join(DATA, 'deid-data', 'humans', 'ctbrain1.dcm');
const CLI = path.join(repoRoot(), 'bin', 'orthanc-ai-bridge.js');

interface Ran {
  readonly code: number;
  readonly stderr: string;
}

function cli(args: readonly string[], cwd: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [CLI, 'deid', ...args], { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, _stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(new Error(`${CLI}: ${error.message}`));
        return;
      }
      resolve({ code: error === null ? 0 : Number(error.code), stderr });
    });
  });
}

function dump(file: string): string {
  return execFileSync('dcmdump', ['-Un', file], { encoding: 'latin1' });
}

/** Offset of the first pixel item's value (item 0 is the Basic Offset Table). */
function firstFragment(bytes: Buffer): number {
  const pixelData = bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  const table = bytes.indexOf(Buffer.from([0xfe, 0xff, 0x00, 0xe0]), pixelData);
  return table + 8 + bytes.readUInt32LE(table + 4) + 8;
}

describe('deid --clean-pixels / --no-clean-pixels (built CLI, sealed workers)', function () {
  this.timeout(120_000);
  let work = '';
  let input = '';

  before(() => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-deid-pixels-'));
    input = path.join(work, 'in');
    fs.mkdirSync(input);
    fs.copyFileSync(US, path.join(input, 'us.dcm'));
    // A JPEG CT whose stream is damaged (SOI overwritten): decoding it must fail.
    const ct = fs.readFileSync(JPEG_CT);
    ct.writeUInt16BE(0, firstFragment(ct));
    fs.writeFileSync(path.join(input, 'ct-damaged.dcm'), ct);
  });
  after(() => { fs.rmSync(work, { recursive: true, force: true }); });

  const key = (): string => path.join(work, 'site.key');

  it('by default cleans the ultrasound (BurnedInAnnotation YES, known screen) and leaves the CT pixels alone', async () => {
    const out = path.join(work, 'default');
    const r = await cli(['--out', out, '--key-file', key(), '--workers', '1', input], work);
    assert.equal(r.code, 0, r.stderr);
    const us = dump(path.join(out, 'us.dcm'));
    assert.match(us, /\(0002,0010\) UI \[1\.2\.840\.10008\.1\.2\.1\]/);
    assert.match(us, /113101/);
    const ct = dump(path.join(out, 'ct-damaged.dcm'));
    assert.match(ct, /\(0002,0010\) UI \[1\.2\.840\.10008\.1\.2\.4\.50\]/, 'CT pixels not decoded, still JPEG');
    assert.doesNotMatch(ct, /113101/);
  });

  it('--no-clean-pixels: the ultrasound pixels pass through untouched', async () => {
    const out = path.join(work, 'off');
    const r = await cli(['--out', out, '--key-file', key(), '--workers', '1', '--no-clean-pixels', path.join(input, 'us.dcm')], work);
    assert.equal(r.code, 0, r.stderr);
    const written = fs.readFileSync(path.join(out, 'us.dcm'));
    const original = fs.readFileSync(US);
    const pixels = 768 * 1024;
    assert.ok(written.subarray(written.length - pixels).equals(original.subarray(original.length - pixels)));
    assert.doesNotMatch(dump(path.join(out, 'us.dcm')), /113101/);
  });

  it('--clean-pixels: every image is cleaned, so the damaged CT is quarantined with AIB_PIXELS_CORRUPT naming the file and syntax', async () => {
    const out = path.join(work, 'on');
    const r = await cli(['--out', out, '--key-file', key(), '--workers', '1', '--clean-pixels', input], work);
    assert.equal(r.code, 1, r.stderr);
    const failure = r.stderr.split('\n').find((l) => l.includes(': FAILED '));
    assert.ok(failure, r.stderr);
    assert.match(failure, /ct-damaged\.dcm/);
    assert.match(failure, /AIB_PIXELS_CORRUPT/);
    assert.match(failure, /1\.2\.840\.10008\.1\.2\.4\.50/);
    assert.ok(fs.existsSync(path.join(out, 'quarantine', 'ct-damaged.dcm')));
    assert.ok(!fs.existsSync(path.join(out, 'ct-damaged.dcm')), 'never written with its pixels unexamined');
    assert.match(dump(path.join(out, 'us.dcm')), /113101/);
  });

  it('refuses both flags together (exit 2)', async () => {
    const r = await cli(['--out', path.join(work, 'both'), '--clean-pixels', '--no-clean-pixels', input], work);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /--clean-pixels and --no-clean-pixels exclude each other/);
  });
});
