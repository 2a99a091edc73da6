import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AiBridgeError } from '../../../plugin/core/ai-bridge-error';
import type { CleanPixelsSettings } from '../../../plugin/core/deid-messages';
import { PixelRegionRules } from '../../../plugin/deid/burned-in/pixel-regions';
import type { FrameDecision, RenderedFrame, TextRegionFinder } from '../../../plugin/deid/burned-in/text-regions';
import { createDeidEngine, type DeidEngine } from '../../../plugin/deid/deid-engine';
import { deidentifyFileCleaningPixels, deidentifyInstanceCleaningPixels } from '../../../plugin/deid/deidentify-instance';
import { SiteKey } from '../../../plugin/deid/pseudonyms';
import { sharedFile } from '../corpus/planted-corpus';

/**
 * Bad pixel data under Clean Pixel Data: each case is a real file damaged by
 * the test, and each must be refused with its code, a message naming the
 * input and the transfer syntax, and never transient (the pipeline
 * quarantines it rather than passing its pixels on).
 */
class OneBox implements TextRegionFinder {
  find(frame: RenderedFrame): Promise<FrameDecision> {
    return Promise.resolve({ cover: [{ x: 0, y: 0, width: Math.min(8, frame.width), height: Math.min(8, frame.height), reason: 'text', rule: 'cover-all-text' }], kept: [] });
  }
}

const REFERENCES = { sopInstanceUid: '1.2.3.4', seriesInstanceUid: '1.2.3.5', studyInstanceUid: '1.2.3.6' };

function engineWith(settings: CleanPixelsSettings): DeidEngine {
  return createDeidEngine('research', SiteKey.fromBytes(Buffer.alloc(32, 0x11), 'test key'),
    { settings, deviceRules: new PixelRegionRules([]), ocr: new OneBox() });
}

/** Overwrites the first occurrence of `find` after `from` with `replace` (same length). */
function patch(bytes: Buffer, find: Buffer, replace: Buffer, from = 0): Buffer {
  const at = bytes.indexOf(find, from);
  assert.ok(at >= 0, `pattern ${find.toString('hex')} not found`);
  const out = Buffer.from(bytes);
  replace.copy(out, at);
  return out;
}

/** Offset of the first pixel item's value (encapsulated Pixel Data: item 0 is the offset table). */
function firstFragment(bytes: Buffer): number {
  const pixelData = bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  const table = bytes.indexOf(Buffer.from([0xfe, 0xff, 0x00, 0xe0]), pixelData);
  const tableLength = bytes.readUInt32LE(table + 4);
  return table + 8 + tableLength + 8;
}

describe('Clean Pixel Data refuses pixel data it cannot read', function () {
  this.timeout(120_000);
  let tmp = '';
  const engine = (): DeidEngine => engineWith({ apply: 'always', modalities: [], mode: 'all-text' });

  before(() => { tmp = mkdtempSync(join(tmpdir(), 'aib-clean-errors-')); });
  after(() => { rmSync(tmp, { recursive: true, force: true }); });

  async function refused(bytes: Buffer, label: string, code: string, syntax: string): Promise<void> {
    await assert.rejects(deidentifyInstanceCleaningPixels(engine(), bytes, REFERENCES, label), (error: unknown) => {
      assert.ok(error instanceof AiBridgeError, String(error));
      assert.equal(error.code, code, error.message);
      assert.equal(error.transient, false);
      assert.ok(error.message.includes(label), `the message names the input: ${error.message}`);
      assert.ok(error.message.includes(syntax), `the message names the transfer syntax: ${error.message}`);
      return true;
    });
  }

  it('a JPEG baseline stream whose SOI marker is damaged → AIB_PIXELS_CORRUPT', async () => {
    const original = readFileSync(sharedFile('pydicom/test_files/SC_rgb_jpeg_dcmtk.dcm'));
    const at = firstFragment(original);
    assert.equal(original.readUInt16BE(at), 0xffd8, 'the fragment starts with SOI');
    const damaged = Buffer.from(original);
    damaged.writeUInt16BE(0x0000, at);
    await refused(damaged, 'corrupt-jpeg.dcm', 'AIB_PIXELS_CORRUPT', '1.2.840.10008.1.2.4.50');
  });

  it('a JPEG 2000 codestream whose SOC marker is damaged → AIB_PIXELS_CORRUPT', async () => {
    const original = readFileSync(sharedFile('pydicom-data/US1_J2KR.dcm'));
    const at = firstFragment(original);
    assert.equal(original.readUInt16BE(at), 0xff4f, 'the fragment starts with SOC');
    const damaged = Buffer.from(original);
    damaged.writeUInt32BE(0, at);
    await refused(damaged, 'corrupt-j2k.dcm', 'AIB_PIXELS_CORRUPT', '1.2.840.10008.1.2.4.90');
  });

  it('native frames shorter than NumberOfFrames says → AIB_PIXELS_CORRUPT', async () => {
    const file = join(tmp, 'frames.dcm');
    copyFileSync(sharedFile('pydicom-data/emri_small_big_endian.dcm'), file);
    execFileSync('dcmodify', ['-nb', '-m', '(0028,0008)=11', file], { stdio: 'pipe' });
    await refused(readFileSync(file), 'frames.dcm', 'AIB_PIXELS_CORRUPT', '1.2.840.10008.1.2.2');
  });

  it('native pixel data longer than Rows x Columns (a frame of the wrong length) → AIB_PIXELS_CORRUPT', async () => {
    const file = join(tmp, 'rows.dcm');
    copyFileSync(sharedFile('deid-data/ultrasounds/GREYSCALE_IMAGE.dcm'), file);
    execFileSync('dcmodify', ['-nb', '-m', '(0028,0010)=700', file], { stdio: 'pipe' });
    await refused(readFileSync(file), 'rows.dcm', 'AIB_PIXELS_CORRUPT', '1.2.840.10008.1.2.1');
  });

  it('a transfer syntax without a decoder (JPEG Extended 3 & 5, retired) → AIB_PIXELS_UNSUPPORTED_SYNTAX', async () => {
    const original = readFileSync(sharedFile('pydicom/test_files/SC_rgb_jpeg_dcmtk.dcm'));
    const relabelled = patch(original, Buffer.from('1.2.840.10008.1.2.4.50'), Buffer.from('1.2.840.10008.1.2.4.52'));
    await refused(relabelled, 'relabelled.dcm', 'AIB_PIXELS_UNSUPPORTED_SYNTAX', '1.2.840.10008.1.2.4.52');
  });

  it('an original nested deeper than the parser allows is refused before any pixel is decoded', async () => {
    const element = (group: number, elem: number, vr: string, value: Buffer): Buffer => {
      const head = Buffer.alloc(8);
      head.writeUInt16LE(group, 0);
      head.writeUInt16LE(elem, 2);
      head.write(vr, 4, 'latin1');
      head.writeUInt16LE(value.length, 6);
      return Buffer.concat([head, value]);
    };
    const us16 = (v: number): Buffer => { const b = Buffer.alloc(2); b.writeUInt16LE(v); return b; };
    const meta = Buffer.concat([Buffer.alloc(128), Buffer.from('DICM'), element(2, 0x10, 'UI', Buffer.from('1.2.840.10008.1.2.1\0'))]);
    const level = Buffer.from([0x40, 0x00, 0x30, 0xa7, 0x53, 0x51, 0, 0, 0xff, 0xff, 0xff, 0xff, 0xfe, 0xff, 0x00, 0xe0, 0xff, 0xff, 0xff, 0xff]);
    const close = Buffer.from([0xfe, 0xff, 0x0d, 0xe0, 0, 0, 0, 0, 0xfe, 0xff, 0xdd, 0xe0, 0, 0, 0, 0]);
    const pixelData = Buffer.concat([Buffer.from([0xe0, 0x7f, 0x10, 0x00]), Buffer.from('OB'), Buffer.alloc(2), Buffer.from([4, 0, 0, 0]), Buffer.alloc(4)]);
    const bytes = Buffer.concat([meta, element(8, 0x18, 'UI', Buffer.from('1.2.3\0')), element(8, 0x60, 'CS', Buffer.from('US')),
      element(0x28, 0x02, 'US', us16(1)), element(0x28, 0x04, 'CS', Buffer.from('MONOCHROME2 ')), element(0x28, 0x10, 'US', us16(2)),
      element(0x28, 0x11, 'US', us16(2)), element(0x28, 0x100, 'US', us16(8)), element(0x28, 0x101, 'US', us16(8)), element(0x28, 0x102, 'US', us16(7)),
      element(0x28, 0x103, 'US', us16(0)), ...Array<Buffer>(65).fill(level), ...Array<Buffer>(65).fill(close), pixelData]);
    await assert.rejects(deidentifyInstanceCleaningPixels(engine(), bytes, REFERENCES, 'nested.dcm'),
      (error: unknown) => error instanceof AiBridgeError && error.code === 'AIB_DEID_NOT_DICOM' && /nesting deeper than 64/.test(error.message));
  });

  it('a forged size (Rows x Columns x NumberOfFrames over 2^28 samples) is refused without allocating it', async () => {
    const file = join(tmp, 'huge.dcm');
    copyFileSync(sharedFile('pydicom-data/emri_small_big_endian.dcm'), file);
    execFileSync('dcmodify', ['-nb', '-m', '(0028,0010)=65535', '-m', '(0028,0011)=65535', file], { stdio: 'pipe' });
    await refused(readFileSync(file), 'huge.dcm', 'AIB_PIXELS_UNSUPPORTED_LAYOUT', '1.2.840.10008.1.2.2');
  });

  it('a file path as the label: deidentifyFileCleaningPixels names the file', async () => {
    const file = join(tmp, 'frames-file.dcm');
    copyFileSync(sharedFile('pydicom-data/emri_small_big_endian.dcm'), file);
    execFileSync('dcmodify', ['-nb', '-m', '(0028,0008)=12', file], { stdio: 'pipe' });
    await assert.rejects(deidentifyFileCleaningPixels(engine(), file, REFERENCES, () => join(tmp, 'never.dcm')),
      (error: unknown) => error instanceof AiBridgeError && error.code === 'AIB_PIXELS_CORRUPT' && error.message.includes(file));
  });

  it('auto: a CT without BurnedInAnnotation is not cleaned, its pixel data spliced byte for byte', async () => {
    const input = sharedFile('tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-01.dcm');
    const auto = engineWith({ apply: 'auto', modalities: ['US', 'SC', 'OT', 'XC', 'DOC'], mode: 'all-text' });
    const target = join(tmp, 'ct.dcm');
    const written = await deidentifyFileCleaningPixels(auto, input, REFERENCES, () => target);
    assert.equal(written.pixels, undefined);
    assert.equal(written.pixelDataSpliced, true);
    const tail = (b: Buffer): Buffer => b.subarray(b.length - 512 * 512 * 2);
    assert.ok(tail(readFileSync(target)).equals(tail(readFileSync(input))));
  });

  it('auto: a CT whose header says BurnedInAnnotation YES is cleaned', async () => {
    const file = join(tmp, 'ct-burned.dcm');
    copyFileSync(sharedFile('tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-01.dcm'), file);
    execFileSync('dcmodify', ['-nb', '-i', '(0028,0301)=YES', file], { stdio: 'pipe' });
    const auto = engineWith({ apply: 'auto', modalities: ['US'], mode: 'all-text' });
    const result = await deidentifyInstanceCleaningPixels(auto, readFileSync(file), REFERENCES, 'ct-burned.dcm');
    assert.ok(result.pixels);
    assert.equal(result.pixels.boxes.length, 1);
    assert.equal(result.pixels.burnedInAnnotation, 'NO');
  });

  it('never: nothing is cleaned, whatever the modality', async () => {
    const never = engineWith({ apply: 'never', modalities: ['US'], mode: 'all-text' });
    const input = readFileSync(sharedFile('deid-data/ultrasounds/GREYSCALE_IMAGE.dcm'));
    const result = await deidentifyInstanceCleaningPixels(never, input, REFERENCES, 'us.dcm');
    assert.equal(result.pixels, undefined);
    writeFileSync(join(tmp, 'never.dcm'), result.bytes);
    assert.ok(result.bytes.subarray(result.bytes.length - 768 * 1024).equals(input.subarray(input.length - 768 * 1024)), 'pixels untouched');
  });
});
