import { strict as assert } from 'node:assert';
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';

import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import { orthancRequest } from '../../plugin/cli/orthanc-http';
import type { AuditResponse, BulkListResponse, BulkView, HealthResponse, QuarantineResponse } from '../../plugin/core/admin-api';
import { eventually, startBridgeOrthanc, tempDir, uploadFile } from '../harness/bridge-orthanc';
import { writeUncleanableInstance } from '../harness/unsafe-instance';

const basic = (user: string, password: string): string => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

describe('PHI view with Orthanc authentication on (AiBridge.PhiViewers)', function () {
  this.timeout(240_000);
  let orthanc: RunningOrthanc & { cleanup: () => Promise<void> };
  const work = tempDir('phi-view');

  before(async () => {
    orthanc = await startBridgeOrthanc({
      aiBridge: { ChangesPollSeconds: 2, Annotate: false, PhiViewers: ['alice'] },
      extraConfig: { AuthenticationEnabled: true, RegisteredUsers: { alice: 'alice-pw', bob: 'bob-pw' } },
      authorization: basic('alice', 'alice-pw'),
    });
    const file = writeUncleanableInstance(work.path, 'short-frames.dcm', '1.2.3.4.5.6.7.8.11');
    assert.ok((await uploadFile(orthanc, file)).id);
  });
  after(async () => {
    await orthanc.cleanup();
    work.remove();
  });

  const quarantineAs = async (authorization: string): Promise<{ status: number; body: QuarantineResponse }> => {
    const response = await orthancRequest(orthanc.httpPort, 'GET', '/ai-bridge/quarantine', undefined, undefined, { authorization });
    const text = response.body.toString('utf8');
    // Orthanc's own 401 has no body.
    return { status: response.status, body: (text === '' ? { entries: [], total: 0, phiView: { allowed: false, user: null, reason: '' } } : JSON.parse(text)) as QuarantineResponse };
  };

  it('shows identifiers to a listed user Orthanc authenticated, masks them for another', async () => {
    const alice = await eventually(async () => {
      const q = await quarantineAs(basic('alice', 'alice-pw'));
      return q.body.entries.length === 1 ? q.body : undefined;
    }, 'the instance with short frames in quarantine');
    assert.deepEqual(alice.phiView, { allowed: true, user: 'alice', reason: 'user alice is in AiBridge.PhiViewers' });
    const entry = alice.entries[0];
    assert.ok(entry?.identifiers);
    const patient = await orthanc.json<{ MainDicomTags: { PatientName: string; PatientID: string } }>('GET', `/instances/${entry.job.instanceId}/patient`);
    assert.equal(entry.identifiers.patientName, patient.MainDicomTags.PatientName);
    assert.equal(entry.identifiers.patientId, patient.MainDicomTags.PatientID);

    const bob = await quarantineAs(basic('bob', 'bob-pw'));
    assert.equal(bob.status, 200);
    assert.equal(bob.body.phiView.allowed, false);
    assert.equal(bob.body.phiView.reason, 'user bob is not in AiBridge.PhiViewers');
    assert.equal(bob.body.entries[0]?.identifiers, null);
    assert.doesNotMatch(JSON.stringify(bob.body), new RegExp(patient.MainDicomTags.PatientName.replace(/\^/g, '\\^')));

    // A forged user with a wrong password never reaches the gateway: Orthanc refuses it.
    assert.equal((await quarantineAs(basic('alice', 'wrong'))).status, 401);
  });

  it('masks a bulk run\'s identifying query values for a user outside PhiViewers, in the run, its list and the audit', async () => {
    const patient = await orthanc.json<{ MainDicomTags: { PatientName: string } }[]>('GET', '/patients?expand');
    const name = patient[0]?.MainDicomTags.PatientName ?? assert.fail('no patient');
    const started = await orthancRequest(orthanc.httpPort, 'POST', '/ai-bridge/bulk', { query: { PatientName: name, Modality: 'MR' } }, undefined, { authorization: basic('alice', 'alice-pw') });
    assert.equal(started.status, 202, started.body.toString('utf8'));
    const run = JSON.parse(started.body.toString('utf8')) as BulkView;
    assert.deepEqual([run.query, run.queryMasked], [{ PatientName: name, Modality: 'MR' }, false], 'alice is a PhiViewer');
    const as = async (user: string, password: string, path: string): Promise<string> =>
      (await orthancRequest(orthanc.httpPort, 'GET', path, undefined, undefined, { authorization: basic(user, password) })).body.toString('utf8');
    const bobList = JSON.parse(await as('bob', 'bob-pw', '/ai-bridge/bulk')) as BulkListResponse;
    assert.deepEqual(bobList.runs[0]?.query, { PatientName: '••••••', Modality: 'MR' });
    assert.equal(bobList.runs[0].queryMasked, true);
    const pattern = new RegExp(name.replace(/\^/g, '\\^'));
    assert.doesNotMatch(await as('bob', 'bob-pw', `/ai-bridge/bulk/${String(run.id)}`), pattern);
    assert.doesNotMatch(await as('bob', 'bob-pw', '/ai-bridge/audit'), pattern, 'the audit records the masked query');
    assert.match(await as('alice', 'alice-pw', `/ai-bridge/bulk/${String(run.id)}`), pattern);
    // A line an earlier version wrote with the whole query is masked when read, in every format, for bob only.
    const { dataDirectory } = await orthanc.json<HealthResponse>('GET', '/ai-bridge/health');
    appendFileSync(join(dataDirectory, 'audit.jsonl'), `${JSON.stringify({ at: new Date().toISOString(), event: 'bulk-started', detail: `bulk 99: 1 instance(s) for ${JSON.stringify({ PatientName: name })}` })}\n`);
    for (const format of ['json', 'csv', 'jsonl']) {
      const text = await as('bob', 'bob-pw', `/ai-bridge/audit?format=${format}`);
      assert.doesNotMatch(text, pattern, format);
      assert.match(text, /bulk 99/, format);
    }
    assert.match(await as('alice', 'alice-pw', '/ai-bridge/audit?format=jsonl'), pattern);
  });

  it('records the authenticated user of a deletion in the audit log', async () => {
    const id = (await quarantineAs(basic('bob', 'bob-pw'))).body.entries[0]?.job.id;
    assert.ok(id);
    const deleted = await orthancRequest(orthanc.httpPort, 'DELETE', `/ai-bridge/jobs/${id}`, undefined, undefined, { authorization: basic('bob', 'bob-pw') });
    assert.equal(deleted.status, 200);
    const audit = await orthanc.json<AuditResponse>('GET', '/ai-bridge/audit');
    assert.ok(audit.entries.some((e) => e.event === 'job-deleted' && e.jobId === id && e.user === 'bob'), JSON.stringify(audit.entries));
  });
});
