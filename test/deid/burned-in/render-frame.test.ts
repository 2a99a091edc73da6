import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';

import { renderFrame } from '../../../plugin/deid/burned-in/render-frame';
import { decodeImage, type DecodedImage } from '../../../plugin/pixels';
import { sharedFile } from '../../harness/bridge-orthanc';

function decode(relative: string): DecodedImage {
  return decodeImage(readFileSync(sharedFile(relative)));
}

function mean(data: Uint8Array): number {
  let sum = 0;
  for (const v of data) sum += v;
  return sum / data.length;
}

describe('renderFrame', () => {
  it('maps a CT through its window: air black, dense bone white, 8 bits per pixel', () => {
    const image = decode('tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-10.dcm');
    const frame = renderFrame(image, 0);
    assert.equal(frame.channels, 1);
    assert.equal(frame.data.length, image.rows * image.columns);
    assert.ok(image.pixels.kind === 'grayscale');
    const values = image.pixels.frames[0];
    assert.ok(values);
    const c = image.windowCenter ?? 0;
    const w = image.windowWidth ?? 1;
    for (let i = 0; i < values.length; i += 97) {
      const v = values[i] ?? 0;
      if (v < c - w / 2 - 1) assert.equal(frame.data[i], 0);
      if (v > c + w / 2 + 1) assert.equal(frame.data[i], 255);
    }
  });

  it('lets the caller replace the image\'s own window', () => {
    const image = decode('dcm_qa_ts/1.dcm');
    const a = renderFrame(image, 0);
    const b = renderFrame(image, 0, { window: { center: 100, width: 50 } });
    assert.notDeepEqual(a.data, b.data);
  });

  it('inverts MONOCHROME1 so that the lungs of a chest radiograph read dark, like on a viewer', () => {
    const image = decode('fo-dicom/CR-MONO1-10-chest.dcm');
    assert.equal(image.photometricInterpretation, 'MONOCHROME1');
    const frame = renderFrame(image, 0);
    const inverted = renderFrame({ ...image, photometricInterpretation: 'MONOCHROME2' }, 0);
    for (let i = 0; i < frame.data.length; i += 101) assert.equal(frame.data[i], 255 - (inverted.data[i] ?? 0));
    assert.ok(mean(frame.data) > 0 && mean(frame.data) < 255);
  });

  it('passes colour through as interleaved RGB', () => {
    const image = decode('deid-data/ultrasounds/RGB_IMAGE.dcm');
    const frame = renderFrame(image, 0);
    assert.equal(frame.channels, 3);
    assert.equal(frame.data.length, image.rows * image.columns * 3);
  });

  it('refuses a frame index outside the image', () => {
    const image = decode('dcm_qa_ts/1.dcm');
    assert.throws(() => renderFrame(image, 1), RangeError);
  });
});
