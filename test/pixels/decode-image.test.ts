import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';

import { decodeImage, PixelError, type DecodedImage } from '../../plugin/pixels';
import { sharedFile } from '../harness/bridge-orthanc';

function decode(relative: string): DecodedImage {
  return decodeImage(readFileSync(sharedFile(relative)));
}

function grayFrames(image: DecodedImage): readonly Float32Array[] {
  const pixels = image.pixels;
  assert.ok(pixels.kind === 'grayscale', `${pixels.kind} is not grayscale`);
  return pixels.frames;
}

function rgbFrame(image: DecodedImage): Uint8Array {
  assert.equal(image.pixels.kind, 'rgb');
  const frame = image.pixels.frames[0];
  assert.ok(frame instanceof Uint8Array);
  return frame;
}

function range(values: ArrayLike<number>): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (let i = 0; i < values.length; i++) {
    const v = values[i] ?? 0;
    if (v < min) min = v;
    if (v > max) max = v;
  }
  return [min, max];
}

function rgbAt(frame: Uint8Array, columns: number, row: number, column: number): [number, number, number] {
  const o = (row * columns + column) * 3;
  return [frame[o] ?? -1, frame[o + 1] ?? -1, frame[o + 2] ?? -1];
}

function assertClose(actual: readonly number[], expected: readonly number[], tolerance: number): void {
  actual.forEach((v, i) => { assert.ok(Math.abs(v - (expected[i] ?? NaN)) <= tolerance, `${String(actual)} vs ${String(expected)}`); });
}

/** Every transfer syntax in ../shared/data, one file each: [file, syntax UID, rows, columns, frames]. */
const SYNTAXES: readonly (readonly [string, string, number, number, number])[] = [
  ['dcm_qa_ts/1.dcm', '1.2.840.10008.1.2.1', 384, 384, 1],
  ['dcm_qa_ts/2.dcm', '1.2.840.10008.1.2', 384, 384, 1],
  ['dcm_qa_ts/3.dcm', '1.2.840.10008.1.2.2', 384, 384, 1],
  ['pydicom/test_files/image_dfl.dcm', '1.2.840.10008.1.2.1.99', 512, 512, 1],
  ['dcm_qa_ts/4.dcm', '1.2.840.10008.1.2.5', 384, 384, 1],
  ['deid-data/humans/ctbrain1.dcm', '1.2.840.10008.1.2.4.50', 456, 510, 1],
  ['pydicom/test_files/JPEG-lossy.dcm', '1.2.840.10008.1.2.4.51', 1024, 256, 1],
  ['dcm_qa_ts/5.dcm', '1.2.840.10008.1.2.4.70', 384, 384, 1],
  ['dcm_qa_ts/7.dcm', '1.2.840.10008.1.2.4.80', 384, 384, 1],
  ['pydicom-data/JLSN_RGB_ILV0.dcm', '1.2.840.10008.1.2.4.81', 256, 256, 1],
  ['dcm_qa_ts/9.dcm', '1.2.840.10008.1.2.4.90', 384, 384, 1],
  ['pydicom-data/RG1_J2KI.dcm', '1.2.840.10008.1.2.4.91', 1955, 1841, 1],
  ['fo-dicom/CR-MONO1-10-chest.dcm', '1.2.840.10008.1.2', 440, 440, 1],
];

describe('decodeImage: transfer syntaxes', () => {
  for (const [file, syntax, rows, columns, frames] of SYNTAXES) {
    it(`decodes ${syntax} (${file})`, () => {
      const image = decode(file);
      assert.equal(image.transferSyntaxUid, syntax);
      assert.equal(image.rows, rows);
      assert.equal(image.columns, columns);
      assert.equal(image.numberOfFrames, frames);
      assert.equal(image.pixels.frames.length, frames);
      const frame = image.pixels.frames[0];
      assert.ok(frame);
      assert.equal(frame.length, rows * columns * (image.pixels.kind === 'rgb' ? 3 : 1));
      const [min, max] = range(frame);
      assert.ok(Number.isFinite(min) && Number.isFinite(max) && max > min, `${file}: flat or non-finite image ${String(min)}..${String(max)}`);
    });
  }
});

describe('decodeImage: the same image in lossless syntaxes decodes identically', () => {
  const families: readonly (readonly string[])[] = [
    // dcm_qa_ts: one MR slice in LE explicit, implicit, BE, RLE, JPEG lossless SV1 (x2), JPEG-LS (x2), J2K lossless.
    ['dcm_qa_ts/1.dcm', 'dcm_qa_ts/2.dcm', 'dcm_qa_ts/3.dcm', 'dcm_qa_ts/4.dcm', 'dcm_qa_ts/5.dcm', 'dcm_qa_ts/6.dcm',
      'dcm_qa_ts/7.dcm', 'dcm_qa_ts/8.dcm', 'dcm_qa_ts/9.dcm'],
    ['pydicom/test_files/MR_small.dcm', 'pydicom/test_files/MR_small_implicit.dcm', 'pydicom/test_files/MR_small_bigendian.dcm',
      'pydicom/test_files/MR_small_RLE.dcm', 'pydicom/test_files/MR_small_jpeg_ls_lossless.dcm', 'pydicom/test_files/MR_small_jp2klossless.dcm'],
    // Enhanced multi-frame, 10 frames each.
    ['pydicom-data/emri_small.dcm', 'pydicom-data/emri_small_RLE.dcm', 'pydicom-data/emri_small_big_endian.dcm',
      'pydicom-data/emri_small_jpeg_ls_lossless.dcm'],
  ];
  for (const family of families) {
    const [reference, ...others] = family;
    for (const other of others) {
      it(`${other} equals ${String(reference)}`, () => {
        const a = grayFrames(decode(reference ?? ''));
        const b = grayFrames(decode(other));
        assert.equal(b.length, a.length);
        a.forEach((frame, i) => { assert.deepEqual(b[i], frame, `frame ${String(i + 1)}`); });
      });
    }
  }
});

describe('decodeImage: values and photometric interpretations', () => {
  it('applies the rescale: CT in Hounsfield units (air below -900 HU)', () => {
    const image = decode('tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-15.dcm');
    assert.equal(image.rescaleIntercept, -1024);
    assert.deepEqual(image.pixelSpacing, [0.646484375, 0.646484375]);
    const frame = grayFrames(image)[0] ?? new Float32Array();
    // Corner (outside the body): air.
    assert.ok((frame[5 * 512 + 5] ?? 0) < -900);
    assert.equal(image.header.modality, 'CT');
    assert.equal(image.header.bodyPartExamined, 'CHEST');
  });

  it('keeps MONOCHROME1 values as modality values and says so', () => {
    for (const file of ['fo-dicom/CR-MONO1-10-chest.dcm', 'highdicom/dx_image.dcm', 'pydicom-data/RG1_J2KI.dcm']) {
      const image = decode(file);
      assert.equal(image.photometricInterpretation, 'MONOCHROME1', file);
      const [min, max] = range(grayFrames(image)[0] ?? []);
      assert.ok(min >= 0 && max > min, file);
    }
  });

  it('converts YBR_FULL (JPEG) to RGB: the colour bars of SC_rgb come out red, green, blue, grey', () => {
    const image = decode('pydicom/test_files/SC_rgb_jpeg_dcmtk.dcm');
    assert.equal(image.photometricInterpretation, 'YBR_FULL');
    const frame = rgbFrame(image);
    assertClose(rgbAt(frame, 100, 0, 50), [255, 0, 0], 3);
    assertClose(rgbAt(frame, 100, 20, 50), [0, 255, 0], 3);
    assertClose(rgbAt(frame, 100, 40, 50), [0, 0, 255], 3);
    assertClose(rgbAt(frame, 100, 70, 50), [64, 64, 64], 3);
    assertClose(rgbAt(frame, 100, 90, 50), [255, 255, 255], 3);
  });

  it('converts YBR_FULL_422 (JPEG baseline) and YBR_RCT (JPEG 2000) to RGB', () => {
    for (const file of ['deid-data/dicom-cookies/image1.dcm', 'pydicom-data/US1_J2KR.dcm']) {
      const image = decode(file);
      assert.match(image.photometricInterpretation, /^YBR_/);
      const frame = rgbFrame(image);
      let coloured = 0;
      for (let i = 0; i < frame.length; i += 3) if (Math.abs((frame[i] ?? 0) - (frame[i + 2] ?? 0)) > 30) coloured++;
      assert.ok(coloured > 100, `${file}: ${String(coloured)} coloured pixels`);
    }
  });

  it('reads RGB as stored and expands PALETTE COLOR through its lookup tables', () => {
    const rgb = decode('deid-data/ultrasounds/RGB_IMAGE.dcm');
    assert.equal(rgb.photometricInterpretation, 'RGB');
    assert.equal(rgbFrame(rgb).length, 768 * 1024 * 3);
    const palette = decode('pydicom-data/OBXXXX1A_rle.dcm');
    assert.equal(palette.photometricInterpretation, 'PALETTE COLOR');
    const frame = rgbFrame(palette);
    let coloured = 0;
    for (let i = 0; i < frame.length; i += 3) if (Math.abs((frame[i] ?? 0) - (frame[i + 1] ?? 0)) > 20) coloured++;
    assert.ok(coloured > 10000, `${String(coloured)} coloured pixels`);
  });

  it('reads per-frame rescale and spacing of an enhanced multi-frame image from its functional groups', () => {
    const image = decode('dcm_qa_enh/Philips/IM_0027_fMAP.dcm');
    assert.equal(image.numberOfFrames, 64);
    assert.equal(image.frameGeometry.length, 64);
    assert.deepEqual(image.pixelSpacing, [4, 4]);
    assert.ok(image.rescaleSlope !== 1, 'Philips stores a non-unit slope in the Pixel Value Transformation macro');
  });
});

describe('decodeImage: refusals carry a code and the transfer syntax', () => {
  function expectCode(bytes: Buffer, code: string, mentions?: string): void {
    assert.throws(() => decodeImage(bytes), (error: unknown) => {
      assert.ok(error instanceof PixelError);
      assert.equal(error.code, code);
      if (mentions !== undefined) assert.ok(error.message.includes(mentions), error.message);
      return true;
    });
  }

  /** Offset of the first byte after the last encapsulated item header (the last fragment's data). */
  function lastFragment(bytes: Buffer): { start: number; length: number } {
    const tag = Buffer.from([0xfe, 0xff, 0x00, 0xe0]);
    const at = bytes.lastIndexOf(tag);
    assert.ok(at > 0);
    return { start: at + 8, length: bytes.readUInt32LE(at + 4) };
  }

  it('a truncated file is AIB_PIXELS_CORRUPT', () => {
    expectCode(readFileSync(sharedFile('pydicom/malformed/MR_truncated.dcm')), 'AIB_PIXELS_CORRUPT', '1.2.840.10008.1.2.1');
    const whole = readFileSync(sharedFile('dcm_qa_ts/1.dcm'));
    expectCode(whole.subarray(0, whole.length - 1000), 'AIB_PIXELS_CORRUPT', '1.2.840.10008.1.2.1');
    expectCode(Buffer.from('not dicom at all'), 'AIB_PIXELS_CORRUPT');
  });

  for (const [file, syntax] of [['dcm_qa_ts/7.dcm', '1.2.840.10008.1.2.4.80'], ['dcm_qa_ts/5.dcm', '1.2.840.10008.1.2.4.70'],
    ['dcm_qa_ts/9.dcm', '1.2.840.10008.1.2.4.90'], ['dcm_qa_ts/4.dcm', '1.2.840.10008.1.2.5']] as const) {
    it(`a damaged codestream in ${syntax} is AIB_PIXELS_CORRUPT naming the syntax`, () => {
      const bytes = Buffer.from(readFileSync(sharedFile(file)));
      const { start, length } = lastFragment(bytes);
      bytes.fill(0, start, start + Math.min(length, 64));
      expectCode(bytes, 'AIB_PIXELS_CORRUPT', syntax);
    });
  }

  it('a transfer syntax without a decoder is AIB_PIXELS_UNSUPPORTED_SYNTAX naming it', () => {
    // JPEG Extended (Process 3 & 5, retired): DCMTK knows the UID but registers no decoder for it.
    const bytes = Buffer.from(readFileSync(sharedFile('dcm_qa_ts/5.dcm')));
    const from = Buffer.from('1.2.840.10008.1.2.4.70');
    const at = bytes.indexOf(from);
    assert.ok(at > 0);
    Buffer.from('1.2.840.10008.1.2.4.52').copy(bytes, at);
    expectCode(bytes, 'AIB_PIXELS_UNSUPPORTED_SYNTAX', '1.2.840.10008.1.2.4.52');
  });

  it('an instance without pixel data is AIB_PIXELS_NO_PIXEL_DATA; 1-bit segmentations are AIB_PIXELS_UNSUPPORTED_LAYOUT', () => {
    expectCode(readFileSync(sharedFile('highdicom/sr_document.dcm')), 'AIB_PIXELS_NO_PIXEL_DATA');
    expectCode(readFileSync(sharedFile('highdicom/seg_image_ct_binary.dcm')), 'AIB_PIXELS_UNSUPPORTED_LAYOUT');
  });
});
