import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import type { PixelCleaningRecord } from '../../plugin/core/deid-messages';
import { createOcrTextFinder } from '../../plugin/deid/burned-in/ocr-text-finder';
import { renderFrame } from '../../plugin/deid/burned-in/render-frame';
import { decodeImage } from '../../plugin/pixels';
import { health, sharedFile, startBridgeOrthanc, tempDir, uploadFile, waitForSettledJobs } from '../harness/bridge-orthanc';

/** Offset of the first pixel item's value (item 0 is the Basic Offset Table). */
function firstFragment(bytes: Buffer): number {
  const pixelData = bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  const table = bytes.indexOf(Buffer.from([0xfe, 0xff, 0x00, 0xe0]), pixelData);
  return table + 8 + bytes.readUInt32LE(table + 4) + 8;
}

interface AuditLine {
  readonly event: string;
  readonly instanceId?: string;
  readonly pixels?: PixelCleaningRecord;
}

describe('Clean Pixel Data in the pipeline (real Orthanc, sealed worker)', function () {
  this.timeout(240_000);
  let orthanc: RunningOrthanc & { cleanup: () => Promise<void> };
  const work = tempDir('clean-pixels');
  let usId = '';
  let corruptId = '';

  before(async () => {
    orthanc = await startBridgeOrthanc({ aiBridge: { ChangesPollSeconds: 2, Annotate: false, YieldToIngestMilliseconds: 0 } });
    // The deid-data ultrasound says BurnedInAnnotation YES; its screen is in config/deid/pixel-regions.json.
    const us = await uploadFile(orthanc, sharedFile('deid-data/ultrasounds/GREYSCALE_IMAGE.dcm'));
    assert.equal(us.status, 200);
    usId = us.id ?? '';
    // A JPEG 2000 ultrasound whose codestream is damaged: Orthanc stores it, the worker cannot decode it.
    const original = readFileSync(sharedFile('pydicom-data/US1_J2KR.dcm'));
    const damaged = Buffer.from(original);
    damaged.writeUInt32BE(0, firstFragment(damaged));
    const corruptFile = join(work.path, 'corrupt-j2k.dcm');
    writeFileSync(corruptFile, damaged);
    const corrupt = await uploadFile(orthanc, corruptFile);
    assert.equal(corrupt.status, 200);
    corruptId = corrupt.id ?? '';
  });
  after(async () => {
    await orthanc.cleanup();
    work.remove();
  });

  it('writes a cleaned copy of the ultrasound: banner filled, uncompressed, 113101, and audits the boxes', async () => {
    const jobs = await waitForSettledJobs(orthanc, 2);
    const job = jobs.find((j) => j.instanceId === usId);
    assert.ok(job);
    assert.equal(job.state, 'done', JSON.stringify(job.error));
    assert.match(job.outcome ?? '', /\d+ pixel box\(es\) filled/);
    const status = await health(orthanc);
    const copy = join(status.dataDirectory, 'deid', job.deidPath ?? '');
    const dump = execFileSync('dcmdump', ['-Un', '+U8', copy], { encoding: 'utf8' });
    assert.match(dump, /\(0002,0010\) UI \[1\.2\.840\.10008\.1\.2\.1\]/);
    assert.match(dump, /\(0008,0100\) SH \[113101\]/, 'Clean Pixel Data Option recorded');
    // OCR in 'all-text' mode searched the frame and covered every region it found.
    assert.match(dump, /\(0028,0301\) CS \[NO\]/);

    const cleaned = decodeImage(readFileSync(copy));
    const frame = cleaned.pixels.frames[0];
    assert.ok(frame);
    for (let i = 0; i < 1024 * 28; i++) assert.equal(frame[i], 0, 'banner pixels are black');

    // Read back by the same OCR: no part of the fake PHI on this screen is legible any more.
    const ocr = await createOcrTextFinder();
    try {
      const before = (await ocr.read(renderFrame(decodeImage(readFileSync(sharedFile('deid-data/ultrasounds/GREYSCALE_IMAGE.dcm'))), 0))).map((l) => l.text).join(' | ');
      assert.match(before, /0007924|PATIENT|1951/i, `the OCR reads the original banner: ${before}`);
      const after = (await ocr.read(renderFrame(cleaned, 0))).map((l) => l.text).join(' | ');
      assert.doesNotMatch(after, /0007924|9241539|PATIENT|1951|08\/29|CLEVELAN|03\/02\/2017|05:24/i, `still legible after cleaning: ${after}`);
    } finally {
      await ocr.release();
    }

    const audit = readFileSync(join(status.dataDirectory, 'audit.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as AuditLine);
    const entry = audit.find((l) => l.event === 'pixels-cleaned' && l.instanceId === usId);
    assert.ok(entry?.pixels, 'a pixels-cleaned audit line');
    assert.equal(entry.pixels.transferSyntaxUid, '1.2.840.10008.1.2.1');
    assert.deepEqual(entry.pixels.finders, ['ocr', 'device-rules']);
    assert.equal(entry.pixels.burnedInAnnotation, 'NO');
    // Text outside the banner (probe, depth, "4.0cm") is covered by OCR boxes.
    assert.ok(entry.pixels.boxes.some((b) => b.y > 28 && (b.reason === 'text' || b.reason === 'identifier')), JSON.stringify(entry.pixels.boxes));
    assert.ok(entry.pixels.boxes.some((b) => b.rule === 'device:philips-epiq-5g-1024x768/patient-banner' && b.frame === 0 && b.width === 1024 && b.height === 28));
    assert.doesNotMatch(JSON.stringify(entry), /TEST PATIENT|CLEVELAN|00079241539/i, 'no text read in the audit');
  });

  it('quarantines the instance whose compressed pixel data is damaged, naming the code and the transfer syntax', async () => {
    const jobs = await waitForSettledJobs(orthanc, 2);
    const job = jobs.find((j) => j.instanceId === corruptId);
    assert.ok(job);
    assert.equal(job.state, 'quarantined');
    assert.equal(job.deidPath, null, 'no de-identified copy');
    assert.match(job.error?.message ?? '', /AIB_PIXELS_CORRUPT/);
    assert.match(job.error?.message ?? '', /1\.2\.840\.10008\.1\.2\.4\.90/);
    assert.match(job.error?.message ?? '', new RegExp(`instance ${corruptId}`));
    const status = await health(orthanc);
    const listing = execFileSync('find', [join(status.dataDirectory, 'deid'), '-name', '*.dcm'], { encoding: 'utf8' }).trim().split('\n');
    assert.equal(listing.length, 1, 'only the cleaned ultrasound is in the de-identified store');
  });
});
