/**
 * The policy for logs, checked on a real run: every line the plugin's processes write into
 * Orthanc's log is one JSON event, and none carries a planted patient identifier, including the
 * retry and quarantine lines of a delivery that cannot succeed (its endpoint does not answer).
 */
import { strict as assert } from 'node:assert';
import { createServer } from 'node:net';
import { join } from 'node:path';

import { plantedChestStudy, searchForms } from '../central-site/planted-study';
import { startBridgeOrthanc, tempDir, uploadFile, waitForSettledJobs } from '../harness/bridge-orthanc';

/** What our processes write: the gateway through the SDK, and stderr of the gateway and its children. */
const OUR_LINE = /\[(ai-bridge|annotator|uplink)\] /;

async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => { resolve(); }));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

describe('log events in Orthanc\'s log', function () {
  it('are one JSON event per line with fields, and name no patient', async function () {
    const temp = tempDir('log-events');
    const study = plantedChestStudy(join(temp.path), {
      familyName: 'Vasquez-Hollingworth', givenName: 'Ottoline', patientId: 'MRN-L-390112', accession: 'ACCL77120',
      birthDate: '19480214', studyDate: '20240603', institution: 'Larkspur General', studyDescription: 'Chest Larkspur protocol',
    }, 3);
    const orthanc = await startBridgeOrthanc({
      aiBridge: { ChangesPollSeconds: 2, Annotate: true, RetryBackoffSeconds: 0.2, MaxAttempts: 2,
        DicomWebUrl: `http://127.0.0.1:${String(await closedPort())}/dicom-web` },
    });
    try {
      for (const file of study.files) assert.equal((await uploadFile(orthanc, file)).status, 200);
      await waitForSettledJobs(orthanc, study.files.length);
      await orthanc.waitForLog(/"event":"annotation-quarantined"/, 90_000);
      await orthanc.stop();
      const ours = orthanc.logText().split('\n').filter((line) => OUR_LINE.test(line));
      const events = ours.map((line) => {
        const json = line.slice(line.search(OUR_LINE)).replace(OUR_LINE, '');
        const event = JSON.parse(json) as Record<string, unknown>;
        assert.equal(typeof event['event'], 'string', line);
        assert.equal(typeof event['message'], 'string', line);
        return event;
      });
      const names = events.map((e) => e['event']);
      // Orthanc writes warnings and errors unless started with --verbose: the retry and the quarantine.
      for (const expected of ['annotation-retry', 'annotation-quarantined']) {
        assert.ok(names.includes(expected), `no ${expected} event in ${names.join(', ')}`);
      }
      const quarantined = events.find((e) => e['event'] === 'annotation-quarantined') ?? assert.fail();
      assert.equal(quarantined['code'], 'AIB_JOB_ATTEMPTS_EXHAUSTED');
      assert.equal(typeof quarantined['annotation'], 'number');
      assert.equal(typeof quarantined['stage'], 'string');
      const text = Buffer.from(ours.join('\n'), 'utf8');
      for (const form of searchForms(study)) assert.ok(!text.includes(form.bytes), `the log names ${form.label}`);
    } finally {
      await orthanc.cleanup();
      temp.remove();
    }
  });
});
