import { strict as assert } from 'node:assert';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';

import { repoRoot } from '../../plugin/cli/repo-root';
import { startBridgeOrthanc } from '../harness/bridge-orthanc';
import { oruR01 } from '../gateway/reports/hl7-peer-process';

const OUTPUT = join(repoRoot(), 'test-output', 'ui');
// Not a performance limit: how long a failed run waits before it says what it was waiting for.
const STEP_MS = 120_000;

describe('admin UI: the Reports page in Chromium (real Orthanc + plugin)', function () {
  this.timeout(300_000);
  let orthanc: Awaited<ReturnType<typeof startBridgeOrthanc>>;
  let browser: Browser;
  let page: Page;
  const consoleErrors: string[] = [];

  before(async () => {
    mkdirSync(OUTPUT, { recursive: true });
    orthanc = await startBridgeOrthanc({ aiBridge: { ChangesPollSeconds: 2, Annotate: false, Reports: { Enabled: true, ListenPort: 0 } } });
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', headless: true, args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'] });
    page = await (await browser.newContext({ viewport: { width: 1300, height: 900 } })).newPage();
    page.on('console', (message) => { if (message.type() === 'error') consoleErrors.push(message.text()); });
    page.on('pageerror', (error) => consoleErrors.push(error.message));
  });
  after(async () => {
    await browser.close();
    await orthanc.cleanup();
  });

  it('lists a received report with its study and ACK, a correction, and a refused message with its code and reason', async () => {
    const base = { patientId: 'PAT-UI-1', patientName: 'DOE^JANE', accession: 'ACC-UI-1', studyUid: '1.2.826.0.1.3680043.10.1137.16.77', body: ['Lungs clear.'] };
    assert.equal((await orthanc.request('POST', '/ai-bridge/reports', oruR01({ ...base, controlId: 'UI-1' }))).status, 200);
    assert.equal((await orthanc.request('POST', '/ai-bridge/reports', oruR01({ ...base, controlId: 'UI-2', status: 'C' }))).status, 200);
    assert.equal((await orthanc.request('POST', '/ai-bridge/reports', oruR01({ ...base, controlId: 'UI-3' }).replace('ORU^R01', 'ADT^A08'))).status, 400);

    await page.goto(`${orthanc.baseUrl}/ai-bridge/ui/`);
    await page.getByRole('navigation', { name: 'Admin pages' }).getByRole('link', { name: 'Reports', exact: true }).click();
    await page.getByRole('heading', { level: 1, name: 'Reports' }).waitFor({ timeout: STEP_MS });
    const received = page.getByTestId('reports-received');
    await received.getByRole('row').nth(2).waitFor({ timeout: STEP_MS });
    const rows = await received.getByRole('row').allInnerTexts();
    assert.equal(rows.length, 3, rows.join('\n'));
    assert.match(rows[1] ?? '', /1\.2\.826\.0\.1\.3680043\.10\.1137\.16\.77[\s\S]*C \(correction\)[\s\S]*AA/);
    const refused = await page.getByTestId('reports-errors').innerText();
    assert.match(refused, /AIB_REPORT_UNSUPPORTED_TYPE[\s\S]*ADT\^A08 is not accepted/);
    // The page never shows a report's text or a patient value.
    const all = await page.locator('main').innerText();
    for (const value of ['PAT-UI-1', 'DOE', 'ACC-UI-1', 'Lungs clear']) assert.ok(!all.includes(value), `the page shows ${value}`);
    await page.screenshot({ path: join(OUTPUT, 'reports.png'), fullPage: true });
    assert.deepEqual(consoleErrors, []);
  });
});
