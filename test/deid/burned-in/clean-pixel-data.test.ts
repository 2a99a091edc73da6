import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import type { CleanPixelsSettings } from '../../../plugin/core/deid-messages';
import { PixelRegionRules } from '../../../plugin/deid/burned-in/pixel-regions';
import type { CoverBox, FrameDecision, RenderedFrame, TextRegionFinder } from '../../../plugin/deid/burned-in/text-regions';
import { createDeidEngine, type DeidEngine } from '../../../plugin/deid/deid-engine';
import { deidentifyInstance, deidentifyInstanceCleaningPixels } from '../../../plugin/deid/deidentify-instance';
import { SiteKey } from '../../../plugin/deid/pseudonyms';
import { decodeImage, type DecodedImage } from '../../../plugin/pixels';
import { sharedFile } from '../corpus/planted-corpus';
import { dciodvfyErrors } from '../dciodvfy-errors';

/**
 * Clean Pixel Data on real files in every transfer syntax and colour model the
 * issue names. A finder with known boxes stands where OCR will: the rewrite is
 * what is tested here. The output is decoded again through plugin/pixels (the
 * annotator's decoder) and compared with the original decoded the same way.
 */
interface Sample {
  readonly kind: string;
  /** Relative to ../shared/data, or (with `make`) the file a DCMTK encoder derives from it. */
  readonly path: string;
  readonly photometric: string;
  readonly lossy: boolean;
  /** DCMTK command that writes the sample from the shared file (argument order: input, output). */
  readonly make?: readonly string[];
}

const SAMPLES: readonly Sample[] = [
  { kind: 'LE MONOCHROME2 8-bit US', path: 'deid-data/ultrasounds/GREYSCALE_IMAGE.dcm', photometric: 'MONOCHROME2', lossy: false },
  { kind: 'LE RGB US', path: 'deid-data/ultrasounds/RGB_IMAGE.dcm', photometric: 'RGB', lossy: false },
  { kind: 'BE multi-frame', path: 'pydicom-data/emri_small_big_endian.dcm', photometric: 'MONOCHROME2', lossy: false },
  { kind: 'BE signed', path: 'pydicom/test_files/MR_small_bigendian.dcm', photometric: 'MONOCHROME2', lossy: false },
  { kind: 'RLE PALETTE COLOR US', path: 'pydicom-data/OBXXXX1A_rle.dcm', photometric: 'PALETTE COLOR', lossy: false },
  { kind: 'RLE multi-frame', path: 'pydicom-data/emri_small_RLE.dcm', photometric: 'MONOCHROME2', lossy: false },
  { kind: 'JPEG baseline YBR_FULL_422', path: 'deid-data/humans/ctbrain1.dcm', photometric: 'RGB', lossy: true },
  { kind: 'JPEG baseline YBR_FULL', path: 'pydicom/test_files/SC_rgb_jpeg_dcmtk.dcm', photometric: 'RGB', lossy: true },
  { kind: 'JPEG extended 12-bit', path: 'pydicom/test_files/JPEG-lossy.dcm', photometric: 'MONOCHROME2', lossy: true },
  { kind: 'JPEG lossless', path: 'dcm_qa_ts/5.dcm', photometric: 'MONOCHROME2', lossy: false },
  { kind: 'JPEG-LS lossless multi-frame', path: 'pydicom-data/emri_small_jpeg_ls_lossless.dcm', photometric: 'MONOCHROME2', lossy: false },
  { kind: 'JPEG-LS signed 16-bit', path: 'pydicom-data/JLSL_16_15_1_1F.dcm', photometric: 'MONOCHROME2', lossy: false },
  { kind: 'JPEG 2000 lossless YBR_RCT US', path: 'pydicom-data/US1_J2KR.dcm', photometric: 'RGB', lossy: false },
  { kind: 'JPEG 2000 lossy MONOCHROME1', path: 'pydicom-data/RG1_J2KI.dcm', photometric: 'MONOCHROME1', lossy: true },
  // Derived by DCMTK's own encoders from shared files, for layouts no shared file has.
  { kind: 'RLE RGB (planar segments)', path: 'deid-data/ultrasounds/RGB_IMAGE.dcm', photometric: 'RGB', lossy: false, make: ['dcmcrle'] },
  { kind: 'native YBR_FULL (lossy history)', path: 'deid-data/humans/ctbrain1.dcm', photometric: 'YBR_FULL', lossy: true, make: ['dcmdjpeg', '+cn'] },
  { kind: 'JPEG-LS near-lossless RGB', path: 'deid-data/ultrasounds/RGB_IMAGE.dcm', photometric: 'RGB', lossy: true, make: ['dcmcjpls', '+en'] },
];

const ALWAYS: CleanPixelsSettings = { apply: 'always', modalities: [], mode: 'all-text' };

/** Two boxes per frame, the second running off the right and bottom edges (clipped). */
function boxesFor(frame: RenderedFrame, frameIndex: number): CoverBox[] {
  return [
    { x: 2 + frameIndex, y: 3, width: Math.floor(frame.width / 4), height: Math.floor(frame.height / 8), reason: 'text', rule: 'cover-all-text' },
    { x: frame.width - 5, y: frame.height - 4, width: 20, height: 20, reason: 'identifier', rule: 'graylist:date' },
  ];
}

/** The seam's contract, with boxes known in advance (OCR stands here in production). */
class KnownBoxes implements TextRegionFinder {
  find(frame: RenderedFrame, context: { readonly frameIndex: number }): Promise<FrameDecision> {
    return Promise.resolve({ cover: boxesFor(frame, context.frameIndex), kept: [] });
  }
}

function inside(boxes: readonly CoverBox[], columns: number, rows: number, x: number, y: number): boolean {
  return boxes.some((b) => x >= b.x && y >= b.y && x < Math.min(columns, b.x + b.width) && y < Math.min(rows, b.y + b.height));
}

/** Every value of `tag` in the file (meta header and nested items included), backslash-joined. */
function top(file: string, tag: string): string {
  const dump = execFileSync('dcmdump', ['-q', '-Un', '+s', '+P', tag, file], { encoding: 'latin1' });
  return [...dump.matchAll(/\[([^\]]*)\]/g)].map((m) => m[1]).join('\\');
}

function references(file: string): { sopInstanceUid: string; seriesInstanceUid: string; studyInstanceUid: string } {
  return { sopInstanceUid: top(file, '0008,0018'), seriesInstanceUid: top(file, '0020,000e'), studyInstanceUid: top(file, '0020,000d') };
}

/** Pixels outside the boxes identical; inside, one value, as dark as the darkest of the original frame. */
function checkFrames(original: DecodedImage, cleaned: DecodedImage): void {
  const { columns, rows } = original;
  assert.equal(cleaned.numberOfFrames, original.numberOfFrames);
  for (let f = 0; f < original.numberOfFrames; f++) {
    const boxes = boxesFor({ width: columns, height: rows, channels: 1, data: new Uint8Array(0) }, f);
    const before = original.pixels.frames[f];
    const after = cleaned.pixels.frames[f];
    assert.ok(before && after);
    const spp = original.pixels.kind === 'rgb' ? 3 : 1;
    const brightness = (frame: ArrayLike<number>, i: number): number => {
      let sum = 0;
      for (let s = 0; s < spp; s++) sum += frame[i * spp + s] ?? 0;
      return sum;
    };
    let darkest = Infinity;
    let brightest = -Infinity;
    for (let i = 0; i < rows * columns; i++) {
      darkest = Math.min(darkest, brightness(before, i));
      brightest = Math.max(brightest, brightness(before, i));
    }
    const mono1 = original.photometricInterpretation === 'MONOCHROME1';
    let fill: number | undefined;
    let changedOutside = 0;
    for (let y = 0; y < rows; y++) {
      for (let x = 0; x < columns; x++) {
        const i = y * columns + x;
        if (inside(boxes, columns, rows, x, y)) {
          const v = brightness(after, i);
          fill ??= v;
          assert.equal(v, fill, `frame ${String(f)} (${String(x)},${String(y)}) differs from the rest of the box`);
        } else {
          for (let s = 0; s < spp; s++) if (after[i * spp + s] !== before[i * spp + s]) changedOutside++;
        }
      }
    }
    assert.equal(changedOutside, 0, `frame ${String(f)}: samples outside the boxes changed`);
    assert.ok(fill !== undefined);
    if (mono1) assert.ok(fill >= brightest, `frame ${String(f)}: MONOCHROME1 fill ${String(fill)} is not the brightest value ${String(brightest)}`);
    else assert.ok(fill <= darkest, `frame ${String(f)}: fill ${String(fill)} is brighter than the darkest value ${String(darkest)}`);
  }
}

describe('cleanPixelData on real files in every transfer syntax', function () {
  this.timeout(300_000);
  let tmp = '';
  let engine: DeidEngine;

  before(() => {
    tmp = mkdtempSync(join(tmpdir(), 'aib-clean-pixels-'));
    engine = createDeidEngine('research', SiteKey.fromBytes(Buffer.alloc(32, 0x5a), 'test key'),
      { settings: ALWAYS, deviceRules: new PixelRegionRules([]), ocr: new KnownBoxes() });
  });
  after(() => { rmSync(tmp, { recursive: true, force: true }); });

  for (const sample of SAMPLES) {
    it(`${sample.kind} (${sample.make ? `${sample.make.join(' ')} ` : ''}${sample.path})`, async () => {
      let input = sharedFile(sample.path);
      if (sample.make) {
        const [tool = '', ...options] = sample.make;
        const derived = join(tmp, `derived-${sample.kind.replace(/\W/g, '')}.dcm`);
        execFileSync(tool, [...options, input, derived], { stdio: 'pipe' });
        input = derived;
      }
      const result = await deidentifyInstanceCleaningPixels(engine, readFileSync(input), references(input), sample.path);
      const output = join(tmp, `${sample.kind.replace(/\W/g, '')}.dcm`);
      writeFileSync(output, result.bytes);

      const record = result.pixels;
      assert.ok(record, 'an audit record');
      assert.equal(record.outputTransferSyntaxUid, '1.2.840.10008.1.2.1');
      assert.equal(record.outputPhotometricInterpretation, sample.photometric);
      assert.equal(record.burnedInAnnotation, 'NO');
      const original = decodeImage(readFileSync(input));
      assert.equal(record.boxes.length, 2 * original.numberOfFrames);
      assert.ok(record.boxes.every((b) => b.x + b.width <= original.columns && b.y + b.height <= original.rows), 'boxes clipped to the image');
      assert.ok(!JSON.stringify(record).includes('PATIENT'), 'no text in the record');

      checkFrames(original, decodeImage(result.bytes));

      assert.equal(top(output, '0002,0010'), '1.2.840.10008.1.2.1');
      assert.equal(top(output, '0028,0004'), sample.photometric);
      assert.equal(top(output, '0028,0301'), 'NO');
      assert.ok(top(output, '0008,0100').split('\\').includes('113101'), 'Clean Pixel Data Option in the method codes');
      if (sample.lossy) {
        assert.equal(top(output, '0028,2110'), '01', 'lossy history kept');
        assert.notEqual(top(output, '0028,2114'), '', 'lossy method recorded');
      }
      // Baseline: the input's errors and those the header profile alone makes (e.g. research removes
      // SC Equipment's ConversionType); Clean Pixel Data must add none.
      const headerOnly = join(tmp, `${sample.kind.replace(/\W/g, '')}-header-only.dcm`);
      writeFileSync(headerOnly, deidentifyInstance(engine, readFileSync(input), references(input)).bytes);
      const baseline = new Set([...dciodvfyErrors(input), ...dciodvfyErrors(headerOnly)]);
      const added = [...dciodvfyErrors(output)].filter((e) => !baseline.has(e));
      assert.deepEqual(added, [], `new dciodvfy errors for ${sample.path}`);
    });
  }
});
