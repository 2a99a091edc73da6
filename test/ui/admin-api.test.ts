import { strict as assert } from 'node:assert';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import type {
  AuditResponse, BulkView, ConfigResponse, JobDeletedResponse, JobDetailResponse, JobListResponse, PrivacyResponse, QuarantineResponse, StatsResponse,
} from '../../plugin/core/admin-api';
import { eventually, sharedFile, startBridgeOrthanc, tempDir, uploadFile, waitForSettledJobs } from '../harness/bridge-orthanc';
import { writeUncleanableInstance } from '../harness/unsafe-instance';

describe('admin API behind the UI (real Orthanc + plugin)', function () {
  this.timeout(240_000);
  let orthanc: RunningOrthanc & { cleanup: () => Promise<void> };
  const work = tempDir('admin-api');
  let goodId = '';

  before(async () => {
    orthanc = await startBridgeOrthanc({
      aiBridge: {
        ChangesPollSeconds: 2, RetryBackoffSeconds: 0.2, Annotate: false, PhiViewers: ['alice'],
        ViewerUrl: 'http://viewer.example/viewer?StudyInstanceUIDs={StudyInstanceUID}', DicomWebAuthorization: 'Basic c2VjcmV0OnNlY3JldA==',
      },
    });
    const stored = await uploadFile(orthanc, sharedFile('pydicom/test_files/MR_small.dcm'));
    assert.ok(stored.id);
    goodId = stored.id;
    await waitForSettledJobs(orthanc, 1);
  });
  after(async () => {
    await orthanc.cleanup();
    work.remove();
  });

  // eslint-disable-next-line @typescript-eslint/no-unnecessary-type-parameters -- the caller names the JSON shape it expects
  const get = async <T>(path: string): Promise<{ status: number; headers: Record<string, string>; body: T }> => {
    const response = await orthanc.request('GET', path);
    return { status: response.status, headers: response.headers, body: JSON.parse(response.body.toString('utf8')) as T };
  };

  it('serves the UI: index.html no-cache with its <base> for every client route, hashed assets immutable, 304 on a matching ETag', async () => {
    const root = await orthanc.request('GET', '/ai-bridge/ui/');
    assert.equal(root.status, 200);
    assert.match(root.headers['content-type'] ?? '', /^text\/html/);
    assert.equal(root.headers['cache-control'], 'no-cache');
    const html = root.body.toString('utf8');
    assert.match(html, /<base href="\/ai-bridge\/ui\/">/);
    const deep = await orthanc.request('GET', '/ai-bridge/ui/jobs/12');
    assert.equal(deep.status, 200, 'a client-side route gets index.html');
    assert.equal(deep.body.toString('utf8'), html);
    assert.equal((await orthanc.request('GET', '/ai-bridge/ui')).status, 200);
    const script = /src="\.\/(assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, html);
    const asset = await orthanc.request('GET', `/ai-bridge/ui/${script}`);
    assert.equal(asset.status, 200);
    assert.match(asset.headers['content-type'] ?? '', /^text\/javascript/);
    assert.match(asset.headers['cache-control'] ?? '', /immutable/);
    const etag = asset.headers['etag'] ?? '';
    assert.ok(etag !== '');
    const again = await new Promise<number>((resolve, reject) => {
      import('node:http').then((http) => {
        http.get({ host: '127.0.0.1', port: orthanc.httpPort, path: `/ai-bridge/ui/${script}`, headers: { 'if-none-match': etag } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      }, reject);
    });
    assert.equal(again, 304);
    for (const escape of ['/ai-bridge/ui/%2e%2e/%2e%2e/%2e%2e/package.json', '/ai-bridge/ui/..%2F..%2F..%2Fpackage.json', '/ai-bridge/ui/%E0%A4%A.js']) {
      const answer = await orthanc.request('GET', escape);
      assert.ok(answer.status >= 400 && answer.status < 500, `${escape}: ${answer.status}`);
      assert.doesNotMatch(answer.body.toString('utf8'), /orthanc-ai-bridge/, `${escape} leaves the UI folder`);
    }
    const missing = await orthanc.request('GET', '/ai-bridge/ui/assets/nope.js');
    assert.equal(missing.status, 404);
    assert.match(missing.body.toString('utf8'), /AIB_API_NOT_FOUND/);
  });

  it('GET /ai-bridge/stats: throughput, depths, latency; an unchanged answer is a 304', async () => {
    const stats = await get<StatsResponse>('/ai-bridge/stats?minutes=10');
    assert.equal(stats.status, 200);
    assert.equal(stats.body.throughput.length, 10);
    assert.ok(stats.body.throughput.reduce((n, b) => n + b.deidentified, 0) >= 1);
    assert.ok(stats.body.latency.storeToDeidentified.count >= 1);
    assert.ok((stats.body.latency.storeToDeidentified.p95Ms ?? -1) >= (stats.body.latency.storeToDeidentified.p50Ms ?? 0));
    assert.equal(stats.body.jobs.done, 1);
    const etag = stats.headers['etag'] ?? '';
    const status = await new Promise<number>((resolve, reject) => {
      import('node:http').then((http) => {
        http.get({ host: '127.0.0.1', port: orthanc.httpPort, path: '/ai-bridge/stats?minutes=10', headers: { 'if-none-match': etag } }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        }).on('error', reject);
      }, reject);
    });
    assert.equal(status, 304);
    const bad = await get<{ error: { code: string } }>('/ai-bridge/stats?minutes=0');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.code, 'AIB_API_BAD_PARAMETER');
  });

  it('GET /ai-bridge/jobs filters by modality, text and date', async () => {
    const count = async (query: string): Promise<number> => (await get<JobListResponse>(`/ai-bridge/jobs?${query}`)).body.total;
    assert.equal(await count('modality=MR'), 1);
    assert.equal(await count('modality=CT'), 0);
    assert.equal(await count(`q=${goodId.slice(0, 8)}`), 1);
    assert.equal(await count('q=no-such-thing'), 0);
    const today = new Date().toISOString().slice(0, 10);
    assert.equal(await count(`from=${today}&to=${today}`), 1);
    assert.equal(await count('from=2999-01-01'), 0);
    assert.equal(await count('model=lung-fields'), 0);
    const bad = await get<{ error: { code: string; details: { parameter: string } } }>('/ai-bridge/jobs?from=yesterday');
    assert.equal(bad.status, 400);
    assert.equal(bad.body.error.details.parameter, 'from');
  });

  it('GET /ai-bridge/jobs/{id} links the study in Orthanc Explorer and the configured viewer', async () => {
    const job = (await get<JobListResponse>('/ai-bridge/jobs')).body.jobs[0];
    assert.ok(job);
    const detail = (await get<JobDetailResponse>(`/ai-bridge/jobs/${job.id}`)).body;
    const study = await orthanc.json<{ ID: string; MainDicomTags: { StudyInstanceUID: string } }>('GET', `/instances/${goodId}/study`);
    assert.equal(detail.study?.explorerPath, `/app/explorer.html#study?uuid=${study.ID}`);
    assert.equal(detail.study.viewerUrl, `http://viewer.example/viewer?StudyInstanceUIDs=${study.MainDicomTags.StudyInstanceUID}`);
  });

  it('quarantine lists reason, rule and file with identifiers masked; DELETE leaves an audit entry naming the job', async () => {
    const file = writeUncleanableInstance(work.path, 'short-frames.dcm', '1.2.3.4.5.6.7.8.9');
    const stored = await uploadFile(orthanc, file);
    assert.ok(stored.id);
    const quarantined = await eventually(async () => {
      const q = (await get<QuarantineResponse>('/ai-bridge/quarantine')).body;
      return q.entries.length === 1 ? q : undefined;
    }, 'the instance with short frames in quarantine');
    const entry = quarantined.entries[0];
    assert.ok(entry);
    assert.equal(entry.rule, 'AIB_DEID_FAILED');
    assert.match(entry.reason, /AIB_PIXELS_CORRUPT/);
    assert.equal(entry.fileName, `${stored.id}.dcm`);
    assert.equal(entry.identifiers, null);
    assert.equal(quarantined.phiView.allowed, false);
    assert.match(quarantined.phiView.reason, /authentication is off/);

    const deleted = await orthanc.request('DELETE', `/ai-bridge/jobs/${entry.job.id}`);
    assert.equal(deleted.status, 200, deleted.body.toString('utf8'));
    const body = JSON.parse(deleted.body.toString('utf8')) as JobDeletedResponse;
    assert.equal(body.audit.event, 'job-deleted');
    assert.equal(body.audit.jobId, entry.job.id);
    assert.equal((await get<QuarantineResponse>('/ai-bridge/quarantine')).body.entries.length, 0);
    assert.equal((await orthanc.request('GET', `/ai-bridge/jobs/${entry.job.id}`)).status, 404);
    assert.equal((await orthanc.request('DELETE', `/ai-bridge/jobs/${entry.job.id}`)).status, 404);
    assert.equal((await orthanc.json<string[]>('GET', '/instances')).includes(stored.id), true, 'the original stays in Orthanc');
  });

  it('GET /ai-bridge/audit as JSON, CSV and JSONL', async () => {
    const json = (await get<AuditResponse>('/ai-bridge/audit')).body;
    const deletion = json.entries.find((e) => e.event === 'job-deleted');
    assert.ok(deletion, JSON.stringify(json.entries));
    assert.equal(deletion.detail, 'was quarantined (AIB_DEID_FAILED)');
    const csv = await orthanc.request('GET', '/ai-bridge/audit?format=csv');
    assert.match(csv.headers['content-type'] ?? '', /^text\/csv/);
    assert.match(csv.headers['content-disposition'] ?? '', /attachment; filename="ai-bridge-audit-.*\.csv"/);
    const rows = csv.body.toString('utf8').trim().split('\r\n');
    assert.equal(rows[0], 'at,event,jobId,instanceId,annotationId,user,detail');
    assert.equal(rows.length, json.total + 1);
    const jsonl = (await orthanc.request('GET', '/ai-bridge/audit?format=jsonl')).body.toString('utf8').trim().split('\n');
    assert.equal(jsonl.length, json.total);
    for (const line of jsonl) assert.equal(typeof (JSON.parse(line) as { event: unknown }).event, 'string');
    assert.equal((await orthanc.request('GET', '/ai-bridge/audit?format=xml')).status, 400);
  });

  it('GET /ai-bridge/config: every schema key with its description, set keys marked, secrets masked', async () => {
    const config = (await get<ConfigResponse>('/ai-bridge/config')).body;
    const key = (name: string): ConfigResponse['keys'][number] => {
      const found = config.keys.find((k) => k.key === name);
      assert.ok(found, name);
      return found;
    };
    assert.deepEqual(key('PhiViewers').value, ['alice']);
    assert.equal(key('PhiViewers').isDefault, false);
    assert.equal(key('Concurrency').isDefault, true);
    assert.equal(key('DicomWebAuthorization').secret, true);
    assert.doesNotMatch(JSON.stringify(config), /c2VjcmV0/, 'the secret never leaves the gateway');
    for (const k of config.keys) assert.ok(k.description.length > 10, k.key);
  });

  it('GET /ai-bridge/privacy: profile, term lists, central traffic from the counter file', async () => {
    const before = (await get<PrivacyResponse>('/ai-bridge/privacy')).body;
    assert.equal(before.profile.name, 'research');
    assert.ok(before.profile.options.includes('cleanDescriptors'));
    assert.ok((before.termLists.find((t) => t.name === 'whitelist')?.terms ?? 0) > 100);
    assert.equal(before.central.bytesSent, 0);
    assert.ok(before.audit.entries >= 2);
    writeFileSync(join(orthanc.dataDir, 'ai-bridge', 'central', 'traffic.json'), JSON.stringify({ bytesSent: 12345, bytesReceived: 99, requests: 3, lastAt: '2026-01-01T00:00:00Z' }));
    const after = (await get<PrivacyResponse>('/ai-bridge/privacy')).body;
    assert.deepEqual([after.central.bytesSent, after.central.requests, after.central.lastAt], [12345, 3, '2026-01-01T00:00:00Z']);
  });

  it('POST /ai-bridge/bulk runs an Orthanc query through the pipeline again, with progress', async () => {
    const started = await orthanc.request('POST', '/ai-bridge/bulk', { query: { Modality: 'MR' } });
    assert.equal(started.status, 202, started.body.toString('utf8'));
    const run = JSON.parse(started.body.toString('utf8')) as BulkView;
    // Modality is a series attribute in Orthanc's index: the copy without it shares MR_small's series and matches.
    assert.equal(run.instances, 2);
    const finished = await eventually(async () => {
      const view = (await get<BulkView>(`/ai-bridge/bulk/${run.id}`)).body;
      return view.finished ? view : undefined;
    }, 'the bulk run to finish');
    assert.deepEqual([finished.jobs.done, finished.jobs.quarantined], [1, 1], 'the deleted job came back as a new job and was quarantined again');
    const job = (await get<JobListResponse>('/ai-bridge/jobs?modality=MR')).body.jobs[0];
    assert.ok(job);
    const events = (await get<JobDetailResponse>(`/ai-bridge/jobs/${job.id}`)).body.events.map((e) => e.event);
    assert.ok(events.includes('requeued'), events.join());
    assert.equal(events.filter((e) => e === 'done').length, 2);
    const bad = await orthanc.request('POST', '/ai-bridge/bulk', { query: {} });
    assert.equal(bad.status, 400);
    assert.equal((await orthanc.request('GET', '/ai-bridge/bulk/999')).status, 404);
  });
});
