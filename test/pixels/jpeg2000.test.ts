import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';

import { decodeImage, PixelError } from '../../plugin/pixels';
import { readJpeg2000Header } from '../../plugin/pixels/jpeg2000';
import { sharedFile } from '../harness/bridge-orthanc';

/** Offset of the SIZ segment's length field (just after SOC FF4F, SIZ FF51) in the first codestream of the file. */
function sizAt(bytes: Buffer): number {
  const pixelData = bytes.lastIndexOf(Buffer.from([0xe0, 0x7f, 0x10, 0x00]));
  const at = bytes.indexOf(Buffer.from([0xff, 0x4f, 0xff, 0x51]), pixelData);
  assert.ok(at > 0, 'the file holds a JPEG 2000 codestream');
  return at + 4;
}

function refusal(bytes: Buffer): PixelError {
  try {
    decodeImage(bytes);
  } catch (error) {
    assert.ok(error instanceof PixelError, String(error));
    return error;
  }
  assert.fail('decoded a frame whose codestream disagrees with its DICOM header');
}

describe('JPEG 2000 frames are checked against the DICOM header before decoding', () => {
  const original = readFileSync(sharedFile('pydicom-data/US1_J2KR.dcm'));

  it('reads the size and depths from the SIZ segment of a real file, and decodes it', () => {
    const siz = sizAt(original);
    const header = readJpeg2000Header(original.subarray(siz - 4));
    const image = decodeImage(original);
    assert.deepEqual(header, { width: image.columns, height: image.rows, depths: [8, 8, 8], fullResolution: true });
  });

  it('refuses a codestream that claims 65535 x 65535 (gigabytes once decoded) without decoding it', () => {
    const bytes = Buffer.from(original);
    const siz = sizAt(bytes);
    bytes.writeUInt32BE(65535, siz + 4);
    bytes.writeUInt32BE(65535, siz + 8);
    const error = refusal(bytes);
    assert.equal(error.code, 'AIB_PIXELS_CORRUPT');
    assert.match(error.message, /is 65535x65535x3, the DICOM header says \d+x\d+x3 .*not decoded \(transfer syntax 1\.2\.840\.10008\.1\.2\.4\.90\)/);
  });

  it('refuses components deeper than BitsAllocated', () => {
    const bytes = Buffer.from(original);
    const siz = sizAt(bytes);
    // First component's Ssiz: unsigned, 16 bits, in an 8-bit image.
    bytes[siz + 38] = 15;
    const error = refusal(bytes);
    assert.equal(error.code, 'AIB_PIXELS_CORRUPT');
    assert.match(error.message, /16\/8\/8-bit components, the DICOM header says .* at 8 bits allocated/);
  });

  it('refuses a fragment with no SIZ segment', () => {
    const bytes = Buffer.from(original);
    bytes.writeUInt16BE(0xff00, sizAt(bytes) - 2);
    assert.match(refusal(bytes).message, /no readable SIZ marker segment; not decoded/);
  });
});
