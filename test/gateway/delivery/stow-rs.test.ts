/**
 * Delivery and category search through dicomweb-client (on xhr2) against a real Orthanc with its
 * DICOMweb plugin: what is stored is confirmed, what is refused is not retried, an endpoint that
 * does not answer is retried, and QIDO-RS finds the series of a category.
 */
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

import dcmjs from 'dcmjs';

import { repoRoot } from '../../../plugin/cli/repo-root';
import { qidoSeries } from '../../../plugin/gateway/category-requests/pacs-search';
import { StowClient } from '../../../plugin/gateway/delivery/stow-rs';
import { GatewayError } from '../../../plugin/gateway/gateway-errors';
import { startBridgeOrthanc } from '../../harness/bridge-orthanc';

const CT_CHEST = join(repoRoot(), 'fixtures', 'samples', 'ct-chest-lung-dx-a0002-14.dcm');

function uidsOf(bytes: Buffer): { study: string; sop: string; series: string } {
  const parsed = dcmjs.data.DicomMessage.readFile(new Uint8Array(bytes).buffer);
  const data = dcmjs.data.DicomMetaDictionary.naturalizeDataset(parsed.dict);
  const [study, series, sop] = [data['StudyInstanceUID'], data['SeriesInstanceUID'], data['SOPInstanceUID']];
  if (typeof study !== 'string' || typeof series !== 'string' || typeof sop !== 'string') throw new Error(`${CT_CHEST} lacks its UIDs`);
  return { study, series, sop };
}

/** A 127.0.0.1 port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

async function refusal(promise: Promise<unknown>): Promise<GatewayError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof GatewayError) return error;
    throw error;
  }
  return assert.fail('expected a GatewayError');
}

describe('STOW-RS and QIDO-RS through dicomweb-client', function () {
  let orthanc: Awaited<ReturnType<typeof startBridgeOrthanc>> | undefined;
  const base = (): string => `http://127.0.0.1:${String((orthanc ?? assert.fail('no Orthanc')).httpPort)}/dicom-web`;

  before(async () => {
    orthanc = await startBridgeOrthanc({ aiBridge: false });
  });
  after(async () => {
    await orthanc?.cleanup();
  });

  it('stores an object into its study and reads the confirmation', async () => {
    const bytes = readFileSync(CT_CHEST);
    const { study, sop } = uidsOf(bytes);
    const outcome = await new StowClient({ url: base() }).store(study, [{ bytes, sopInstanceUid: sop }]);
    assert.deepEqual(outcome.stored, [sop]);
  });

  it('finds the stored series by Modality and Body Part Examined with QIDO-RS, and nothing for another category', async () => {
    const { study, series } = uidsOf(readFileSync(CT_CHEST));
    assert.deepEqual(await qidoSeries(base(), undefined, { modality: 'CT', bodyPart: 'CHEST' }), [{ studyInstanceUid: study, seriesInstanceUid: series }]);
    assert.deepEqual(await qidoSeries(base(), undefined, { modality: 'CT', bodyPart: 'HEAD' }), []);
  });

  it('an object the endpoint refuses is AIB_STOW_REFUSED, not retried', async () => {
    const { study } = uidsOf(readFileSync(CT_CHEST));
    const error = await refusal(new StowClient({ url: base() }).store(study, [{ bytes: Buffer.from('not a DICOM file'), sopInstanceUid: '1.2.3' }]));
    assert.equal(error.code, 'AIB_STOW_REFUSED');
    assert.equal(error.transient, false);
  });

  it('an endpoint that does not answer is AIB_STOW_UNAVAILABLE (retried), and a search of it AIB_CATEGORY_SEARCH_FAILED', async () => {
    const url = `http://127.0.0.1:${String(await closedPort())}/dicom-web`;
    const error = await refusal(new StowClient({ url }).store('1.2.3', [{ bytes: readFileSync(CT_CHEST), sopInstanceUid: '1.2.3' }]));
    assert.equal(error.code, 'AIB_STOW_UNAVAILABLE');
    assert.equal(error.transient, true);
    assert.match(error.message, /no answer/);
    const search = await refusal(qidoSeries(url, undefined, { modality: 'CT', bodyPart: 'CHEST' }));
    assert.equal(search.code, 'AIB_CATEGORY_SEARCH_FAILED');
  });
});
