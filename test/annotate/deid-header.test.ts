import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import dcmjs from 'dcmjs';

import { readDeidHeader } from '../../plugin/annotate/deid-header';
import { sharedFile } from '../harness/bridge-orthanc';

const SLICE = 'tcia-lung-pet-ct-dx/Lung_Dx-A0002_B40f/1-01.dcm';

/** The slice written again by dcmjs, with `change` applied to its dataset (naturalized). */
function rewritten(dir: string, name: string, change: (dataset: Record<string, unknown>) => void): string {
  const bytes = readFileSync(sharedFile(SLICE));
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  const message = dcmjs.data.DicomMessage.readFile(copy);
  const dataset = dcmjs.data.DicomMetaDictionary.naturalizeDataset(message.dict);
  change(dataset);
  message.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset);
  const path = join(dir, name);
  writeFileSync(path, Buffer.from(message.write()));
  return path;
}

describe('readDeidHeader: the header from the first 64 KiB, or from the whole file', () => {
  let dir = '';
  before(() => { dir = mkdtempSync(join(tmpdir(), 'aib-deid-header-')); });
  after(() => { rmSync(dir, { recursive: true, force: true }); });

  it('reads a real CT slice: modality, UIDs, geometry', () => {
    const header = readDeidHeader(sharedFile(SLICE));
    assert.equal(header.modality, 'CT');
    assert.equal(header.seriesInstanceUid, '1.3.6.1.4.1.14519.5.2.1.6655.2359.207154000096236603057216610983');
    assert.equal(header.geometry.imageOrientationPatient?.length, 6);
    assert.ok(header.geometry.imagePositionPatient !== null);
  });

  // Number of Slices (0054,0081) comes after Image Comments (0020,4000): read only when the parse goes past the 64 KiB cut.
  it('reads a header that ends past the first 64 KiB (a 100 kB comment before Pixel Data) whole, values after the cut included', () => {
    const path = rewritten(dir, 'long-header.dcm', (d) => {
      d['ImageComments'] = 'x'.repeat(100_000); d['NumberOfSlices'] = 30; delete d['ImagesInAcquisition'];
      d['SeriesDescription'] = 'LUNG WINDOW'; d['ViewPosition'] = 'AP';
    });
    assert.ok(statSync(path).size > 100_000);
    const header = readDeidHeader(path);
    assert.equal(header.expectedInstances, 30);
    assert.equal(header.seriesDescription, 'LUNG WINDOW');
    assert.equal(header.viewPosition, 'AP');
    assert.equal(header.modality, 'CT');
    assert.deepEqual(header.geometry, readDeidHeader(sharedFile(SLICE)).geometry);
  });

  it('reads a header after which there is no Pixel Data, in a file longer than 64 KiB', () => {
    const path = rewritten(dir, 'no-pixels.dcm', (d) => {
      delete d['PixelData']; d['ImageComments'] = 'y'.repeat(70_000); d['NumberOfSlices'] = 12; delete d['ImagesInAcquisition']; d['PatientSex'] = 'O';
    });
    const header = readDeidHeader(path);
    assert.equal(header.expectedInstances, 12);
    assert.equal(header.patientSex, 'O');
    assert.equal(header.modality, 'CT');
  });
});
