import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';

import { readPart10, type NaturalDataset } from '../../../plugin/annotate/results/part10-writer';
import type { AnnotationListResponse, AnnotationView } from '../../../plugin/core/admin-api';
import { lungCtSlices } from '../../annotate/results/lung-ct-fixture';
import { eventually, health, startBridgeOrthanc, tempDir, uploadFile, waitForHealth } from '../../harness/bridge-orthanc';
import { freePort, PeerReceiver } from './hl7-peer-process';

type Bridge = Awaited<ReturnType<typeof startBridgeOrthanc>>;

const ACCESSION = 'ACC-OUT-4711';
const PATIENT_ID = 'PAT-OUT-0815';

/** The TEXT item the preliminary report is in (DCM 121111), anywhere in the SR's content tree. */
function reportText(items: unknown): string | undefined {
  for (const item of Array.isArray(items) ? items as NaturalDataset[] : []) {
    const name = (item['ConceptNameCodeSequence'] as NaturalDataset[] | undefined)?.[0];
    if (item['ValueType'] === 'TEXT' && name?.['CodeValue'] === '121111') return item['TextValue'] as string;
    const inner = reportText(item['ContentSequence']);
    if (inner !== undefined) return inner;
  }
  return undefined;
}

describe('report link, claim 9: the AI preliminary report goes to the report system once, across a gateway kill -9 (real Orthanc, MLLP peer)', function () {
  this.timeout(300_000);
  const temp = tempDir('report-out');
  let orthanc: Bridge;
  let peer: PeerReceiver;
  const slices = lungCtSlices(30).slice(12, 18);
  const studyUid = (slices[0]?.header['StudyInstanceUID'] as string | undefined) ?? '';

  before(async () => {
    const peerPort = await freePort();
    // The peer records the first ORU^R01 and withholds its ACK: the gateway is killed while it waits.
    peer = await PeerReceiver.start(peerPort, true);
    orthanc = await startBridgeOrthanc({
      aiBridge: {
        ChangesPollSeconds: 1, Annotate: true, RetryBackoffSeconds: 0.5,
        Reports: { Enabled: true, Outbound: { Host: '127.0.0.1', Port: peerPort, AckTimeoutSeconds: 120, ReceivingApplication: 'RIS' } },
      },
      extraConfig: { StableAge: 3600 },
    });
    for (const [index, slice] of slices.entries()) {
      const copy = join(temp.path, `slice-${String(index)}.dcm`);
      copyFileSync(slice.path, copy);
      const run = spawnSync('dcmodify', ['-nb', '-i', `(0020,1002)=${String(slices.length)}`, '-i', `(0008,0050)=${ACCESSION}`, '-m', `(0010,0020)=${PATIENT_ID}`, copy], { encoding: 'utf8' });
      assert.equal(run.status, 0, run.stderr);
      assert.equal((await uploadFile(orthanc, copy)).status, 200);
    }
  });
  after(async () => {
    await orthanc.cleanup();
    peer.stop();
    temp.remove();
  });

  it('sends the ORU^R01 with the original accession, IDs and the SR\'s text; resent with the same control ID after kill -9, ACKed once', async () => {
    const held = await eventually(() => Promise.resolve(peer.events.find((e) => e.event === 'held')), 'the first ORU^R01 at the peer');
    const before = await health(orthanc);
    process.kill(before.gatewayPid, 'SIGKILL');
    await waitForHealth(orthanc, before.gatewayPid);

    let last = '';
    const sent = await eventually(async () => {
      const o = await orthanc.json<{ sent: { state: string; controlId: string; status: string; outcome: string | null; srSopInstanceUid: string }[] }>('GET', '/ai-bridge/reports');
      last = JSON.stringify(o.sent);
      return o.sent.length === 1 && o.sent[0]?.state === 'done' ? o.sent[0] : undefined;
    }, 'the outbound report ACKed').catch((error: unknown) => {
      throw new Error(`${String(error)}; sent: ${last}; peer: ${JSON.stringify(peer.events)}; log: ${orthanc.logText().split('\n').filter((l) => /report|gateway/i.test(l)).slice(-30).join('\n')}`);
    });
    assert.match(sent.outcome ?? '', /ACK AA/);
    const received = peer.received();
    assert.ok(received.length >= 2, 'sent again after the kill');
    assert.deepEqual([...new Set(received.map((r) => r.controlId))], [held.controlId], 'one message, one control ID, however often it was sent');
    assert.equal(received.filter((r) => r.copies === 1).length, 1, 'the report system took it once; every other arrival was a resend of it');
    const oru = received[0] ?? assert.fail();
    assert.equal(oru.type, 'ORU^R01');
    assert.equal(oru.accession, ACCESSION);
    assert.equal(oru.placer, ACCESSION);
    assert.equal(oru.patientId, PATIENT_ID);
    assert.equal(oru.studyUid, studyUid);
    assert.equal(oru.status, 'P');
    assert.match(String(oru.text), /AI PRELIMINARY RESULT, NOT A DIAGNOSIS/);
    assert.match(String(oru.text), /ct-chest-lung-fields/);

    // The same words are in the SR that was delivered to the study.
    const annotations = (await orthanc.json<AnnotationListResponse>('GET', '/ai-bridge/annotations?limit=100')).annotations;
    const done = annotations.find((a: AnnotationView) => a.state === 'done' && a.results.includes(sent.srSopInstanceUid)) ?? assert.fail('no annotation delivered that SR');
    assert.equal(done.studyInstanceUid, studyUid);
    const found = await orthanc.json<{ ID: string; Type: string }[]>('POST', '/tools/lookup', Buffer.from(sent.srSopInstanceUid));
    const srId = found.find((f) => f.Type === 'Instance')?.ID ?? assert.fail('the SR is not in Orthanc');
    const { dataset } = readPart10((await orthanc.request('GET', `/instances/${srId}/file`)).body);
    assert.equal(reportText(dataset['ContentSequence'])?.replace(/\r\n/g, '\n'), oru.text);
  });
});
