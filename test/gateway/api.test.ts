import { strict as assert } from 'node:assert';

import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import type { JobListResponse } from '../../plugin/core/admin-api';
import { sharedFile, startBridgeOrthanc, uploadFile, waitForSettledJobs } from '../harness/bridge-orthanc';

interface ErrorBody { error: { code: string; message: string; details: Record<string, unknown> } }

describe('REST API under /ai-bridge/', function () {
  this.timeout(120_000);
  let orthanc: RunningOrthanc & { cleanup: () => Promise<void> };

  before(async () => {
    orthanc = await startBridgeOrthanc();
    for (const n of [1, 2, 3]) await uploadFile(orthanc, sharedFile(`dcm_qa_nih/20180918GE/mr_0004/axial_epi_fmri_interleaved_i_to_s-0000${n}.dcm`));
    await waitForSettledJobs(orthanc, 3);
  });
  after(async () => { await orthanc.cleanup(); });

  async function error(method: 'GET' | 'POST', path: string): Promise<{ status: number; body: ErrorBody }> {
    const response = await orthanc.request(method, path);
    assert.match(response.headers['content-type'] ?? '', /application\/json/);
    return { status: response.status, body: JSON.parse(response.body.toString('utf8')) as ErrorBody };
  }

  it('pages and filters jobs', async () => {
    const page = await orthanc.json<JobListResponse>('GET', '/ai-bridge/jobs?limit=2&offset=1');
    assert.equal(page.total, 3);
    assert.equal(page.jobs.length, 2);
    assert.equal(page.limit, 2);
    assert.equal(page.offset, 1);
    const done = await orthanc.json<JobListResponse>('GET', '/ai-bridge/jobs?state=done');
    assert.equal(done.total, 3);
    const none = await orthanc.json<JobListResponse>('GET', '/ai-bridge/jobs?state=quarantined');
    assert.equal(none.total, 0);
  });

  it('answers bad parameters with 400 naming the parameter', async () => {
    const badState = await error('GET', '/ai-bridge/jobs?state=finished');
    assert.equal(badState.status, 400);
    assert.equal(badState.body.error.code, 'AIB_API_BAD_PARAMETER');
    assert.equal(badState.body.error.details['parameter'], 'state');
    const badLimit = await error('GET', '/ai-bridge/jobs?limit=-1');
    assert.equal(badLimit.body.error.details['parameter'], 'limit');
    const badId = await error('GET', '/ai-bridge/jobs/abc');
    assert.equal(badId.status, 400);
  });

  it('answers unknown jobs and routes with 404, wrong methods with 405, done-job retry with 202', async () => {
    assert.equal((await error('GET', '/ai-bridge/jobs/999999')).status, 404);
    const route = await error('GET', '/ai-bridge/nothing-here');
    assert.equal(route.status, 404);
    assert.equal(route.body.error.code, 'AIB_API_NOT_FOUND');
    // Orthanc sends 405 itself (SendMethodNotAllowed): status and Allow header, no body.
    const wrongMethod = await orthanc.request('POST', '/ai-bridge/health');
    assert.equal(wrongMethod.status, 405);
    assert.equal(wrongMethod.headers['allow'], 'GET');
    const retry = await orthanc.request('POST', '/ai-bridge/jobs/1/retry');
    assert.equal(retry.status, 202);
    await waitForSettledJobs(orthanc, 3);
  });

  it('answers 503 for models and categories while annotation is off, and an empty request list without a central link', async () => {
    const models = await error('GET', '/ai-bridge/models');
    assert.equal(models.status, 503);
    assert.equal(models.body.error.code, 'AIB_API_UNAVAILABLE');
    assert.equal((await error('GET', '/ai-bridge/categories')).status, 503);
    assert.equal((await error('POST', '/ai-bridge/models/ct-chest-lung-fields/rollback')).status, 503);
    assert.equal((await error('POST', '/ai-bridge/models/BAD%20ID/rollback')).status, 400);
    const requests = await orthanc.json<{ requests: unknown[]; answering: boolean }>('GET', '/ai-bridge/central/requests');
    assert.deepEqual(requests, { requests: [], answering: false, limits: null });
  });
});
