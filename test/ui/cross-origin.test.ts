import { strict as assert } from 'node:assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

import { chromium, type Browser } from 'playwright-core';

import { orthancRequest } from '../../plugin/cli/orthanc-http';
import { API_WRITE_HEADER, API_WRITE_HEADER_VALUE } from '../../plugin/core/api-write-header';
import type { BulkListResponse, JobListResponse } from '../../plugin/core/admin-api';
import { sharedFile, startBridgeOrthanc, uploadFile, waitForSettledJobs } from '../harness/bridge-orthanc';

const CHROMIUM = '/usr/bin/chromium';

/**
 * A page on another origin that tries every state change an admin's browser
 * could be tricked into: a form post (text/plain, crafted to be JSON), no-cors
 * fetches (POST, DELETE), and a CORS fetch that sets the write header itself.
 */
function attackerPage(target: string, jobId: number): string {
  return `<!doctype html><html><body>
<iframe name="sink"></iframe>
<form id="f" method="POST" action="${target}/ai-bridge/bulk" enctype="text/plain" target="sink">
  <input name='{"query":{"Modality":"MR","x":"' value='"}}'>
</form>
<script>
  window.results = [];
  const record = (what, p) => p.then((r) => window.results.push(what + ':' + r.type + ':' + r.status), (e) => window.results.push(what + ':error:' + e.message));
  document.getElementById('f').submit();
  record('delete', fetch('${target}/ai-bridge/jobs/${String(jobId)}', { method: 'DELETE', mode: 'no-cors', credentials: 'include' }));
  record('retry', fetch('${target}/ai-bridge/jobs/${String(jobId)}/retry', { method: 'POST', mode: 'no-cors', credentials: 'include' }));
  record('bulk-json', fetch('${target}/ai-bridge/bulk', { method: 'POST', mode: 'no-cors', credentials: 'include', body: JSON.stringify({ query: { Modality: 'MR' } }) }));
  record('cors-header', fetch('${target}/ai-bridge/bulk', { method: 'POST', credentials: 'include',
    headers: { '${API_WRITE_HEADER}': '${API_WRITE_HEADER_VALUE}', 'content-type': 'application/json' }, body: JSON.stringify({ query: { Modality: 'MR' } }) }));
</script></body></html>`;
}

describe('CSRF defence: a page on another origin cannot change anything (real Orthanc + plugin, Chromium)', function () {
  let orthanc: Awaited<ReturnType<typeof startBridgeOrthanc>>;
  let browser: Browser;
  let evil: Server;
  let evilOrigin = '';
  let jobId = 0;
  let page = '';

  before(async () => {
    orthanc = await startBridgeOrthanc();
    assert.ok((await uploadFile(orthanc, sharedFile('pydicom/test_files/MR_small.dcm'))).id);
    jobId = (await waitForSettledJobs(orthanc, 1))[0]?.id ?? assert.fail('no job');
    evil = createServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'text/html' });
      response.end(page);
    });
    await new Promise<void>((resolve) => { evil.listen(0, '127.0.0.1', resolve); });
    evilOrigin = `http://127.0.0.1:${String((evil.address() as AddressInfo).port)}`;
    page = attackerPage(orthanc.baseUrl, jobId);
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
  });
  after(async () => {
    await browser.close();
    await new Promise<void>((resolve) => { evil.close(() => { resolve(); }); });
    await orthanc.cleanup();
  });

  it('refuses the form post and the no-cors POSTs with 403 AIB_API_CROSS_ORIGIN; the CORS fetch never gets past its preflight; nothing changed', async () => {
    const context = await browser.newContext();
    const tab = await context.newPage();
    const answers: { method: string; url: string; status: number; body: string }[] = [];
    tab.on('response', (response) => {
      const request = response.request();
      if (!request.url().startsWith(`${orthanc.baseUrl}/ai-bridge/`)) return;
      // An opaque (no-cors) answer's body is not always readable here; its status is.
      const answer = { method: request.method(), url: request.url(), status: response.status(), body: '' };
      answers.push(answer);
      void response.text().then((body) => { answer.body = body; }, () => undefined);
    });
    await tab.goto(`${evilOrigin}/`);
    await tab.waitForFunction('window.results.length === 4', undefined, { timeout: 60_000 });
    await tab.waitForTimeout(500);
    const results = await tab.evaluate<string[]>('window.results');
    assert.ok(results.includes('cors-header:error:Failed to fetch'), results.join(' | '));
    // DELETE is not a CORS-safelisted method: the browser refuses the no-cors fetch itself (and a CORS one would need the preflight).
    assert.ok(results.some((r) => r.startsWith('delete:error:')), results.join(' | '));
    const reached = answers.filter((a) => a.method === 'POST' || a.method === 'DELETE');
    assert.ok(reached.length >= 3, `the form and the two no-cors POSTs reached the gateway: ${JSON.stringify(answers)}`);
    for (const answer of reached) assert.equal(answer.status, 403, JSON.stringify(answer));
    assert.ok(reached.some((a) => a.body.includes('AIB_API_CROSS_ORIGIN')), JSON.stringify(reached));
    const bulk = await orthanc.json<BulkListResponse>('GET', '/ai-bridge/bulk');
    assert.deepEqual(bulk.runs, [], 'no bulk run was started');
    const jobs = await orthanc.json<JobListResponse>('GET', '/ai-bridge/jobs');
    const job = jobs.jobs.find((j) => j.id === jobId) ?? assert.fail('the job was deleted');
    assert.equal(job.state, 'done', 'the job was not retried');
    await context.close();
  });

  it('refuses a request with the header but another Origin or Referer; accepts the same origin and a client that sends neither', async () => {
    const post = (headers: Record<string, string>): ReturnType<typeof orthancRequest> =>
      orthancRequest(orthanc.httpPort, 'POST', `/ai-bridge/jobs/${String(jobId)}/retry`, undefined, 30_000, headers);
    for (const headers of [{ origin: evilOrigin }, { referer: `${evilOrigin}/page` }, { origin: 'null' }]) {
      const refused = await post({ [API_WRITE_HEADER]: API_WRITE_HEADER_VALUE, ...headers });
      assert.equal(refused.status, 403, JSON.stringify(headers));
      assert.match(refused.body.toString('utf8'), /AIB_API_CROSS_ORIGIN/);
    }
    const missing = await post({ [API_WRITE_HEADER]: 'something-else', origin: orthanc.baseUrl });
    assert.equal(missing.status, 403);
    const deleteWithout = await orthancRequest(orthanc.httpPort, 'DELETE', `/ai-bridge/jobs/${String(jobId)}`, undefined, 30_000, { [API_WRITE_HEADER]: '' });
    assert.equal(deleteWithout.status, 403);
    const sameOrigin = await post({ origin: orthanc.baseUrl });
    assert.equal(sameOrigin.status, 202, sameOrigin.body.toString('utf8'));
    await waitForSettledJobs(orthanc, 1);
    // orthancRequest adds the write header itself, like the CLI: a client that is not a browser page.
    const plain = await orthancRequest(orthanc.httpPort, 'POST', `/ai-bridge/jobs/${String(jobId)}/retry`);
    assert.equal(plain.status, 202, plain.body.toString('utf8'));
  });
});
