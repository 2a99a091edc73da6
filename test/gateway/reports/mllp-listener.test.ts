import { strict as assert } from 'node:assert';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

import { AuditLog } from '../../../plugin/gateway/audit-log';
import { MllpListener } from '../../../plugin/gateway/reports/mllp-listener';
import { ReportIntake } from '../../../plugin/gateway/reports/report-intake';
import { ReportStore } from '../../../plugin/gateway/reports/report-store';
import { openWorkQueue } from '../../../plugin/gateway/work-queue/open-work-queue';
import type { SqlConnection } from '../../../plugin/gateway/work-queue/sql-connection';
import type { SqlWorkQueue } from '../../../plugin/gateway/work-queue/sql-work-queue';
import { tempDir } from '../../harness/bridge-orthanc';
import { oruR01, peerSend, type PeerEvent } from './hl7-peer-process';

const MAX_BYTES = 1024 * 1024;

function acks(events: readonly PeerEvent[]): PeerEvent[] {
  return events.filter((e) => e.event === 'ack' || e.event === 'closed');
}

describe('report link: MLLP listener answered by a peer on another HL7 library (node-hl7-client)', function () {
  this.timeout(120_000);
  const work = tempDir('mllp');
  let queue: SqlWorkQueue;
  let sql: SqlConnection;
  let store: ReportStore;
  let intake: ReportIntake;
  let listener: MllpListener;
  let port = 0;

  before(async () => {
    ({ queue, sql } = await openWorkQueue({ Backend: 'sqlite' }, join(work.path, 'state.sqlite'), { maxAttempts: 3, firstDelayMs: 1000, maxDelayMs: 10_000 }));
    store = new ReportStore(queue, sql);
    intake = new ReportIntake(store, new AuditLog(join(work.path, 'audit.jsonl')), MAX_BYTES, () => undefined);
    listener = new MllpListener({ host: '127.0.0.1', port: 0, allowedPeers: ['127.0.0.1'] }, intake);
    port = await listener.start();
  });
  after(async () => {
    await listener.stop();
    await queue.close();
    work.remove();
  });

  it('stores an ORU^R01 and an MDM^T02 with their keys, answers AA, and takes a resend once', async () => {
    const oru = oruR01({ controlId: 'MSG0001', patientId: 'PAT-778899', patientName: 'DOE^JANE', accession: 'ACC5566', studyUid: '1.2.3.4.5', body: ['No acute findings.'] });
    const mdm = ['MSH|^~\\&|RIS|HOSP|AIBRIDGE|SITE|20240105120000||MDM^T02|MSG0002|P|2.5', 'PID|1||PAT-111222||ROE^RICHARD', 'TXA|1|RAD|TX|||||||||||ACC7788||||AU', 'OBX|1|TX|REPORT^Report^L||Normal study.||||||F'].join('\r');
    // Segments end where their last field is: fields past it are simply empty.
    const short = ['MSH|^~\\&|RIS|HOSP|AIBRIDGE|SITE|20240105120000||ORU^R01|MSG0003|P|2.5', 'PID|1||PAT-333', 'OBR|1||ACC333', 'OBX|1|TX|R^R^L||Short.'].join('\r');
    const events = acks(await peerSend(port, [{ text: oru }, { text: mdm }, { text: oru }, { text: short }], work.path));
    assert.deepEqual(events.map((e) => [e.code, e.controlId]), [['AA', 'MSG0001'], ['AA', 'MSG0002'], ['AA', 'MSG0001'], ['AA', 'MSG0003']]);
    const stored = await store.list(10);
    assert.equal(stored.length, 3, 'the resend of MSG0001 is not stored twice');
    assert.ok((await store.newestFor({ studyInstanceUid: '', accessionNumber: 'ACC333', patientId: 'PAT-333' }))?.text.includes('Short.'));
    const byStudy = await store.newestFor({ studyInstanceUid: '1.2.3.4.5', accessionNumber: '', patientId: '' });
    assert.ok(byStudy?.text.includes('PAT-778899'));
    const byAccession = await store.newestFor({ studyInstanceUid: '9.9', accessionNumber: 'ACC7788', patientId: 'PAT-111222' });
    assert.ok(byAccession?.text.includes('Normal study.'));
    assert.equal(await store.newestFor({ studyInstanceUid: '9.9', accessionNumber: 'ACC7788', patientId: 'SOMEONE-ELSE' }), undefined, 'same accession, other patient');
  });

  it('answers malformed messages AE or AR with a reason and stores nothing', async () => {
    const before = (await store.list(100)).length;
    const good = oruR01({ controlId: 'MSG0100', patientId: 'P1', patientName: 'A^B', accession: 'ACC1', body: ['x'] });
    const badSegment = good.replace('\rPV1|', '\rP!1|');
    const badEncoding = good.replace('MSH|^~\\&|', 'MSH|#~\\&|');
    const unknownType = good.replace('ORU^R01', 'ADT^A01');
    const noKey = ['MSH|^~\\&|RIS|HOSP|AIBRIDGE|SITE|20240105120000||ORU^R01|MSG0104|P|2.5', 'OBX|1|TX|REPORT^Report^L||text||||||F'].join('\r');
    // 10 MB: a report with a scanned attachment, over MaxMessageBytes (1 MiB here).
    const huge = oruR01({ controlId: 'MSG0105', patientId: 'P1', patientName: 'A^B', accession: 'ACC1', body: ['y'.repeat(10 * 1024 * 1024)] });
    const raw = (text: string): { raw: string } => ({ raw: Buffer.from(text, 'utf8').toString('base64') });
    const events = acks(await peerSend(port, [raw(badSegment), raw(badEncoding), raw(unknownType), raw(noKey), raw(huge), raw('hello, not HL7')], work.path));
    assert.deepEqual(events.map((e) => e.code), ['AE', 'AR', 'AR', 'AE', 'AR', 'AE']);
    assert.match(String(events[0]?.reason), /line 3 is not an HL7 segment/);
    assert.match(String(events[1]?.reason), /encoding characters/);
    assert.match(String(events[2]?.reason), /ADT\^A01 is not accepted/);
    assert.match(String(events[3]?.reason), /no Accession Number, Patient ID or Study Instance UID/);
    assert.match(String(events[4]?.reason), /longer than Reports\.MaxMessageBytes/);
    assert.equal(events[4]?.controlId, 'MSG0105', 'the oversize message is answered by its control ID');
    assert.equal((await store.list(100)).length, before, 'nothing stored');
    assert.deepEqual(intake.errors().slice(0, 6).map((e) => e.code).reverse(),
      ['AIB_REPORT_MALFORMED', 'AIB_REPORT_ENCODING', 'AIB_REPORT_UNSUPPORTED_TYPE', 'AIB_REPORT_NO_STUDY_KEY', 'AIB_REPORT_TOO_LARGE', 'AIB_REPORT_MALFORMED']);
    // The connection still serves after a refusal: a good message is then stored.
    const after = acks(await peerSend(port, [{ text: good }], work.path));
    assert.equal(after[0]?.code, 'AA');
  });

  it('over TLS (a self-signed certificate made now with openssl): the peer gets AA; a plain connection to the TLS port stores nothing', async () => {
    const cert = join(work.path, 'listener.crt');
    const key = join(work.path, 'listener.key');
    const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', key, '-out', cert, '-days', '1',
      '-subj', '/CN=aib-test-listener', '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
    assert.equal(made.status, 0, made.stderr);
    const secure = new MllpListener({ host: '127.0.0.1', port: 0, allowedPeers: ['127.0.0.1'], tls: { certificateFile: cert, keyFile: key } }, intake);
    const securePort = await secure.start();
    try {
      const before = (await store.list(100)).length;
      const overTls = oruR01({ controlId: 'MSG0300', patientId: 'P3', patientName: 'E^F', accession: 'ACC3', body: ['Over TLS.'] });
      const events = acks(await peerSend(securePort, [{ text: overTls }], work.path, { PEER_TLS_CA: cert }));
      assert.deepEqual(events.map((e) => [e.event, e.code, e.controlId]), [['ack', 'AA', 'MSG0300']]);
      assert.equal((await store.list(100)).length, before + 1);
      assert.ok((await store.newestFor({ studyInstanceUid: '', accessionNumber: 'ACC3', patientId: 'P3' }))?.text.includes('Over TLS.'));
      // The same listener's port, a plain MLLP frame: the TLS handshake fails, the connection closes, nothing is stored.
      const plain = oruR01({ controlId: 'MSG0301', patientId: 'P4', patientName: 'G^H', accession: 'ACC4', body: ['In clear.'] });
      const refused = acks(await peerSend(securePort, [{ raw: Buffer.from(plain).toString('base64') }], work.path));
      assert.deepEqual(refused.map((e) => e.event), ['closed']);
      assert.equal(intake.errors()[0]?.code, 'AIB_REPORT_TLS_REFUSED', 'the failed handshake is listed with its reason');
      assert.equal((await store.list(100)).length, before + 1, 'nothing stored from the plain connection');
      assert.equal(await store.newestFor({ studyInstanceUid: '', accessionNumber: 'ACC4', patientId: 'P4' }), undefined);
    } finally {
      await secure.stop();
    }
  });

  it('mutual TLS (CaFile): a peer with a certificate CaFile signed gets AA; without one, or with another, nothing is stored', async () => {
    const make = (name: string): { cert: string; key: string } => {
      const files = { cert: join(work.path, `${name}.crt`), key: join(work.path, `${name}.key`) };
      const made = spawnSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', files.key, '-out', files.cert, '-days', '1',
        '-subj', `/CN=${name}`, '-addext', 'subjectAltName=IP:127.0.0.1'], { encoding: 'utf8' });
      assert.equal(made.status, 0, made.stderr);
      return files;
    };
    const server = make('mtls-listener');
    const client = make('mtls-ris');
    const stranger = make('mtls-stranger');
    const mutual = new MllpListener({ host: '127.0.0.1', port: 0, allowedPeers: ['127.0.0.1'], tls: { certificateFile: server.cert, keyFile: server.key, caFile: client.cert } }, intake);
    const mutualPort = await mutual.start();
    try {
      const before = (await store.list(100)).length;
      const message = (id: string): string => oruR01({ controlId: id, patientId: `P-${id}`, patientName: 'I^J', accession: `ACC-${id}`, body: ['Mutual.'] });
      const accepted = acks(await peerSend(mutualPort, [{ text: message('MSG0400') }], work.path, { PEER_TLS_CA: server.cert, PEER_TLS_CERT: client.cert, PEER_TLS_KEY: client.key }));
      assert.deepEqual(accepted.map((e) => [e.event, e.code]), [['ack', 'AA']]);
      for (const [id, env] of [
        ['MSG0401', { PEER_TLS_CA: server.cert }],
        ['MSG0402', { PEER_TLS_CA: server.cert, PEER_TLS_CERT: stranger.cert, PEER_TLS_KEY: stranger.key }],
      ] as const) {
        const refused = acks(await peerSend(mutualPort, [{ raw: Buffer.from(message(id)).toString('base64') }], work.path, env));
        assert.deepEqual(refused.map((e) => e.event), ['closed'], id);
        assert.equal(intake.errors()[0]?.code, 'AIB_REPORT_TLS_REFUSED', id);
      }
      assert.equal((await store.list(100)).length, before + 1, 'only the message of the certified peer is stored');
    } finally {
      await mutual.stop();
    }
  });

  it('closes a connection from an address not in AllowedPeers before reading it', async () => {
    const strict = new MllpListener({ host: '127.0.0.1', port: 0, allowedPeers: ['127.0.0.2'] }, intake);
    const strictPort = await strict.start();
    try {
      const before = (await store.list(100)).length;
      const oru = oruR01({ controlId: 'MSG0200', patientId: 'P2', patientName: 'C^D', accession: 'ACC2', body: ['z'] });
      const events = acks(await peerSend(strictPort, [{ raw: Buffer.from(oru).toString('base64') }], work.path));
      assert.deepEqual(events.map((e) => e.event), ['closed']);
      assert.equal(intake.errors()[0]?.code, 'AIB_REPORT_PEER_REFUSED');
      assert.equal((await store.list(100)).length, before);
    } finally {
      await strict.stop();
    }
  });
});
