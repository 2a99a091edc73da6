import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';

import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import { repoRoot } from '../../plugin/cli/repo-root';
import type { AuditResponse, JobDetailResponse, JobListResponse, ModelListResponse, QuarantineResponse } from '../../plugin/core/admin-api';
import { eventually, sharedFile, startBridgeOrthanc, tempDir, uploadFile, waitForSettledJobs } from '../harness/bridge-orthanc';
import { writeUncleanableInstance } from '../harness/unsafe-instance';

const CHROMIUM = '/usr/bin/chromium';
const OUTPUT = join(repoRoot(), 'test-output', 'ui');
// Not a performance limit: how long a failed run waits before it says what it was waiting for.
const STEP_MS = 120_000;

interface Control { readonly index: number; readonly tag: string; readonly name: string }

/**
 * Every enabled, visible control on the page (links, buttons, inputs, selects),
 * each with its accessible name as assistive technology computes it in the
 * simple cases we use: aria-label, aria-labelledby, <label>, text, title.
 */
async function controls(page: Page): Promise<Control[]> {
  // Browser code, kept as text: the Node program has no DOM types.
  return page.evaluate<Control[]>(`(() => {
    const selector = 'a[href], button:not([disabled]), input:not([disabled]):not([type="hidden"]), select:not([disabled]), textarea:not([disabled])';
    const list = [...document.querySelectorAll(selector)].filter((e) => e.getClientRects().length > 0);
    return list.map((element, index) => {
      element.dataset.kb = String(index);
      const labelledBy = element.getAttribute('aria-labelledby');
      const labels = element.labels;
      const name = element.getAttribute('aria-label')
        ?? (labelledBy === null ? null : labelledBy.split(' ').map((id) => document.getElementById(id)?.textContent ?? '').join(' '))
        ?? (labels && labels.length > 0 ? [...labels].map((l) => l.textContent ?? '').join(' ') : null)
        ?? (element.textContent.trim() !== '' ? element.textContent : null)
        ?? element.getAttribute('title') ?? '';
      return { index, tag: element.tagName.toLowerCase(), name: name.replace(/\\s+/g, ' ').trim() };
    });
  })()`);
}

/** Tab from the top of the page and record which controls receive focus. */
async function assertKeyboardReachableAndLabelled(page: Page, what: string): Promise<void> {
  const all = await controls(page);
  assert.ok(all.length > 0, `${what}: no controls found`);
  for (const control of all) assert.ok(control.name !== '', `${what}: ${control.tag} #${control.index} has no accessible name`);
  await page.evaluate('document.activeElement?.blur(); window.scrollTo(0, 0)');
  const reached = new Set<number>();
  for (let i = 0; i < all.length + 10; i++) {
    await page.keyboard.press('Tab');
    const index = await page.evaluate<string | undefined>('document.activeElement?.dataset.kb');
    if (index !== undefined) reached.add(Number(index));
  }
  const missed = all.filter((c) => !reached.has(c.index));
  assert.deepEqual(missed, [], `${what}: controls Tab never reaches`);
}

/** Stores an instance Orthanc accepts but the bridge must quarantine (harness/unsafe-instance.ts). */
async function storeUncleanable(orthanc: RunningOrthanc, work: string): Promise<string> {
  const stored = await uploadFile(orthanc, writeUncleanableInstance(work, 'short-frames.dcm', '1.2.3.4.5.6.7.8.10'));
  assert.ok(stored.id, `Orthanc refused the short-frames instance (${stored.status})`);
  return stored.id;
}

describe('admin UI in Chromium (real Orthanc + plugin)', function () {
  this.timeout(400_000);
  let orthanc: RunningOrthanc & { cleanup: () => Promise<void> };
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];
  let ui = '';
  const work = tempDir('admin-ui');

  before(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    orthanc = await startBridgeOrthanc({ aiBridge: { ChangesPollSeconds: 2, RetryBackoffSeconds: 0.2, Annotate: true } });
    ui = `${orthanc.baseUrl}/ai-bridge/ui/`;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'],
    });
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 } });
    page = await context.newPage();
    page.on('console', (message) => {
      if (message.type() !== 'error') return;
      consoleErrors.push(`${message.text()} (${message.location().url})`);
    });
    page.on('pageerror', (error) => consoleErrors.push(error.stack ?? error.message));
    // Delete asks for confirmation.
    page.on('dialog', (dialog) => { void dialog.accept(); });
  });

  after(async () => {
    await browser.close();
    await orthanc.cleanup();
    work.remove();
  });

  afterEach(function () {
    assert.deepEqual(consoleErrors, [], `console errors during "${this.currentTest?.title ?? ''}"`);
  });

  const nav = async (label: string): Promise<void> => {
    await page.getByRole('navigation', { name: 'Admin pages' }).getByRole('link', { name: label, exact: true }).click();
    await page.getByRole('heading', { level: 1, name: label === 'Bulk run' ? 'Bulk run' : label }).waitFor({ timeout: STEP_MS });
  };

  it('dashboard: a stored instance appears and completes, live', async () => {
    await page.goto(ui);
    await page.getByRole('heading', { level: 1, name: 'Dashboard' }).waitFor({ timeout: STEP_MS });
    await page.getByTestId('jobs-done').waitFor({ timeout: STEP_MS });
    assert.equal(await page.getByTestId('jobs-done').textContent(), '0');
    const stored = await uploadFile(orthanc, sharedFile('pydicom/test_files/MR_small.dcm'));
    assert.ok(stored.id);
    // Polling picks the finished job up without a reload.
    await page.getByTestId('jobs-done').filter({ hasText: /^1$/ }).waitFor({ timeout: STEP_MS });
    assert.equal(await page.getByTestId('queue-depth').textContent(), '0');
    assert.ok(await page.locator('svg[role="img"][aria-label^="Instances per minute: de-identified (1)"]').count() === 1);
    await page.screenshot({ path: join(OUTPUT, 'dashboard.png'), fullPage: true });
    await assertKeyboardReachableAndLabelled(page, 'Dashboard');
  });

  it('jobs: the job is listed done, filters work, the timeline shows each step and links the study', async () => {
    await nav('Jobs');
    const row = page.locator('[data-testid="jobs-table"] tbody tr[data-state="done"]');
    await row.first().waitFor({ timeout: STEP_MS });
    assert.equal(await row.count(), 1);
    await page.getByLabel('Modality').fill('CT');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('0 job(s)').waitFor({ timeout: STEP_MS });
    assert.match(page.url(), /modality=CT/);
    await page.getByLabel('Modality').fill('MR');
    await page.getByRole('button', { name: 'Apply filters' }).click();
    await page.getByText('1 job(s)', { exact: false }).waitFor({ timeout: STEP_MS });
    await page.screenshot({ path: join(OUTPUT, 'jobs.png'), fullPage: true });
    await assertKeyboardReachableAndLabelled(page, 'Jobs');

    const job = (await orthanc.json<JobListResponse>('GET', '/ai-bridge/jobs')).jobs[0];
    assert.ok(job);
    await page.getByRole('link', { name: `Job ${job.id}`, exact: true }).click();
    await page.getByTestId('timeline').waitFor({ timeout: STEP_MS });
    const timeline = await page.getByTestId('timeline').textContent() ?? '';
    for (const step of ['received', 'started', 'deidentify', 'done']) assert.match(timeline, new RegExp(step));
    assert.match(timeline, /sealed de-identification worker/);
    const explorer = await page.getByRole('link', { name: 'Open study in Orthanc Explorer' }).getAttribute('href');
    const study = await orthanc.json<{ ID: string }>('GET', `/instances/${job.instanceId}/study`);
    assert.equal(explorer, `${orthanc.baseUrl}/app/explorer.html#study?uuid=${study.ID}`);
    await page.screenshot({ path: join(OUTPUT, 'job-detail.png'), fullPage: true });
    await assertKeyboardReachableAndLabelled(page, 'Job detail');
  });

  it('quarantine: an instance that cannot be cleaned is listed with its rule, identifiers masked, and can be retried', async () => {
    const before = (await orthanc.json<JobListResponse>('GET', '/ai-bridge/jobs')).total;
    const storedId = await storeUncleanable(orthanc, work.path);
    await waitForSettledJobs(orthanc, before + 1);
    const entry = (await orthanc.json<QuarantineResponse>('GET', '/ai-bridge/quarantine')).entries.find((e) => e.job.instanceId === storedId);
    assert.ok(entry, 'the short-frames instance is quarantined');
    await nav('Quarantine');
    const row = page.locator(`[data-testid="quarantine-table"] tr[data-job="${entry.job.id}"]`);
    await row.waitFor({ timeout: STEP_MS });
    assert.match(await row.textContent() ?? '', new RegExp(entry.rule));
    assert.match(await page.getByTestId('phi-view').textContent() ?? '', /Identifiers masked/);
    assert.doesNotMatch(await row.textContent() ?? '', /CompressedSamples/, 'the patient name stays masked');
    await page.screenshot({ path: join(OUTPUT, 'quarantine.png'), fullPage: true });
    await assertKeyboardReachableAndLabelled(page, 'Quarantine');

    await page.getByRole('button', { name: `Retry job ${entry.job.id}` }).click();
    await page.getByRole('status').filter({ hasText: `Job ${entry.job.id} is queued again.` }).waitFor({ timeout: STEP_MS });
    const detail = await eventually(async () => {
      const d = await orthanc.json<JobDetailResponse>('GET', `/ai-bridge/jobs/${entry.job.id}`);
      return d.events.filter((e) => e.event === 'quarantined').length === 2 ? d : undefined;
    }, 'the retried job to settle again');
    assert.ok(detail.events.some((e) => e.event === 'requeued'));
    // Still broken after the retry: back in the list.
    await row.waitFor({ timeout: STEP_MS });

    await page.getByRole('button', { name: `Delete job ${entry.job.id}` }).click();
    await page.getByRole('status').filter({ hasText: `Job ${entry.job.id} deleted` }).waitFor({ timeout: STEP_MS });
    await row.waitFor({ state: 'detached', timeout: STEP_MS });
    const audit = await orthanc.json<AuditResponse>('GET', '/ai-bridge/audit');
    assert.ok(audit.entries.some((e) => e.event === 'job-deleted' && e.jobId === entry.job.id), 'the deletion is in the audit log');
  });

  it('bulk run: an Orthanc query is processed again, with progress', async () => {
    await nav('Bulk run');
    await page.getByLabel('StudyInstanceUID').waitFor({ timeout: STEP_MS });
    const matching = (await orthanc.json<string[]>('POST', '/tools/find', { Level: 'Instance', Query: { Modality: 'MR' } })).length;
    assert.ok(matching >= 1);
    await page.getByLabel('Modality').fill('MR');
    await page.getByRole('button', { name: 'Start bulk run' }).click();
    await page.getByRole('status').filter({ hasText: new RegExp(`Bulk run \\d+ queued ${matching} instance\\(s\\)`) }).waitFor({ timeout: STEP_MS });
    // Runs and jobs are items of one work queue: the run's id is the next item id, not 1.
    const run = (await orthanc.json<{ runs: { id: number }[] }>('GET', '/ai-bridge/bulk')).runs[0] ?? assert.fail('no bulk run listed');
    await page.getByRole('status').filter({ hasText: `Bulk run ${run.id} queued ${matching} instance(s)` }).waitFor({ timeout: STEP_MS });
    await page.getByTestId('bulk-runs').getByText(`${matching} / ${matching} · finished`, { exact: false }).waitFor({ timeout: STEP_MS });
    assert.equal(await page.getByRole('progressbar', { name: `Bulk run ${run.id}: ${matching} of ${matching} settled` }).count(), 1);
    await page.screenshot({ path: join(OUTPUT, 'bulk.png'), fullPage: true });
    await assertKeyboardReachableAndLabelled(page, 'Bulk run');
  });

  it('privacy: profile, term lists, central traffic and the audit log with downloads', async () => {
    await nav('Privacy');
    await page.getByTestId('audit-table').waitFor({ timeout: STEP_MS });
    assert.match(await page.getByTestId('central').textContent() ?? '', /0 B/);
    assert.match(await page.getByTestId('audit-table').textContent() ?? '', /job-quarantined/);
    const csv = await page.getByRole('link', { name: 'Download the audit log as CSV' }).getAttribute('href');
    assert.equal(csv, `${orthanc.baseUrl}/ai-bridge/audit?format=csv`);
    await page.screenshot({ path: join(OUTPUT, 'privacy.png'), fullPage: true });
    await assertKeyboardReachableAndLabelled(page, 'Privacy');
  });

  it('settings: every AiBridge key with its description, read-only', async () => {
    await nav('Settings');
    await page.getByTestId('settings-table').waitFor({ timeout: STEP_MS });
    const text = await page.getByTestId('settings-table').textContent() ?? '';
    for (const key of ['PhiViewers', 'ViewerUrl', 'DeidProfile', 'DicomWebAuthorization']) assert.match(text, new RegExp(key));
    assert.equal(await page.locator('[data-testid="settings-table"] input, [data-testid="settings-table"] button').count(), 0);
    await page.screenshot({ path: join(OUTPUT, 'settings.png'), fullPage: true });
    await assertKeyboardReachableAndLabelled(page, 'Settings');
  });

  it('models: lists the installed models with the version serving, signature and commissioning', async function () {
    await nav('Models');
    await page.getByTestId('model').first().waitFor({ timeout: STEP_MS });
    const listed = await orthanc.json<ModelListResponse>('GET', '/ai-bridge/models');
    assert.equal(await page.getByTestId('model').count(), listed.models.length);
    for (const m of listed.models) {
      const section = page.getByRole('region', { name: `Model ${m.name}` });
      const text = await section.innerText();
      assert.match(text, new RegExp(`serving ${(m.active ?? 'none').replace(/\./g, '\\.')}`));
      assert.match(text, /verified/);
      assert.match(text, /passed 100%/);
    }
    // No central link in this Orthanc: the requests section says so rather than showing an empty table.
    assert.match(await page.getByTestId('category-requests').innerText(), /does not answer category requests/);
    await page.screenshot({ path: join(OUTPUT, 'models.png'), fullPage: true });
    await assertKeyboardReachableAndLabelled(page, 'Models');
  });
});
