import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';

import { freePort } from '../../plugin/cli/orthanc-launcher';
import { repoRoot } from '../../plugin/cli/repo-root';
import type { JobListResponse, JobDetailResponse } from '../../plugin/core/admin-api';
import { tempDir } from '../harness/bridge-orthanc';

/** The README's quick tour shows these; docs/tour/ holds the copies it links. */
const TOUR = join(repoRoot(), 'test-output', 'tour');
const CHROMIUM = '/usr/bin/chromium';
// Not performance limits: each bounds how long a failed run waits before it says what it was waiting for.
const DEMO_TIMEOUT_MS = 110_000;
const STEP_TIMEOUT_MS = 60_000;
const VIEWER_LINE = /^Open the chest CT with the AI lung-field measurements drawn \(OHIF viewer\): (http:\/\/\S+)$/m;

/**
 * The demo as `npm start` runs it (`node bin/orthanc-ai-bridge.js demo`, after
 * the bootstrap the test run has already done), as a child process on free
 * ports; resolves with the viewer URL it prints.
 */
function startDemo(dataDir: string, httpPort: number, dicomPort: number): { child: ChildProcess; output: () => string; viewerUrl: Promise<string> } {
  const child = spawn(process.execPath, [join(repoRoot(), 'bin', 'orthanc-ai-bridge.js'), 'demo', '--data', dataDir,
    '--http-port', String(httpPort), '--dicom-port', String(dicomPort)], { cwd: repoRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  const viewerUrl = new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => { reject(new Error(`the demo printed no viewer URL within ${DEMO_TIMEOUT_MS / 1000} s:\n${text}`)); }, DEMO_TIMEOUT_MS);
    const onData = (chunk: Buffer): void => {
      text += chunk.toString('utf8');
      const match = VIEWER_LINE.exec(text);
      if (match?.[1] !== undefined) { clearTimeout(timer); resolve(match[1]); }
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', onData);
    child.once('exit', (code, signal) => { clearTimeout(timer); reject(new Error(`the demo exited (${signal ?? String(code)}) before printing a viewer URL:\n${text}`)); });
  });
  return { child, output: () => text, viewerUrl };
}

async function stopDemo(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  // Ctrl-C, as the demo asks: it stops its Orthanc (and so the gateway and workers) before it exits.
  child.kill('SIGINT');
  const killer = setTimeout(() => child.kill('SIGKILL'), 40_000);
  await exited;
  clearTimeout(killer);
}

/** Every Tracking Unique Identifier (TID 1500 112040, a UIDREF) in an SR's DICOM JSON metadata. */
function trackingUids(node: unknown, into: Set<string> = new Set()): Set<string> {
  if (Array.isArray(node)) {
    for (const item of node) trackingUids(item, into);
  } else if (typeof node === 'object' && node !== null) {
    const item = node as Record<string, { Value?: unknown[] } | undefined>;
    const concept = item['0040A043']?.Value?.[0] as Record<string, { Value?: unknown[] } | undefined> | undefined;
    const uid = item['0040A124']?.Value?.[0];
    if (concept?.['00080100']?.Value?.[0] === '112040' && typeof uid === 'string') into.add(uid);
    for (const value of Object.values(item)) trackingUids(value?.Value, into);
  }
  return into;
}

/**
 * Opens url and waits until OHIF has put an annotation into the viewport's
 * SVG layer (recipe: headless OHIF paints an SR's annotations once the
 * viewport re-renders, so the window is resized until it does).
 */
async function measurementUidsDrawn(page: Page, url: string, errors: readonly string[]): Promise<string[]> {
  await page.goto(url);
  await page.locator('[data-cy="viewport-overlay-bottom-right"]').first().filter({ hasText: /I:\d+ \(\d+\/\d+\)/ }).waitFor({ timeout: STEP_TIMEOUT_MS });
  const drawn = page.locator('svg.svg-layer [data-annotation-uid]');
  const sizes = [{ width: 1500, height: 950 }, { width: 1600, height: 1000 }];
  for (let round = 0; ; round++) {
    assert.deepEqual(errors, [], 'the page raised an error');
    await page.setViewportSize(sizes[round % 2] ?? { width: 1600, height: 1000 });
    try {
      await drawn.first().waitFor({ state: 'attached', timeout: 3_000 });
      break;
    } catch {
      if (round * 3_000 > STEP_TIMEOUT_MS) throw new Error(`no measurement in the SVG layer of ${url}`);
    }
  }
  const uids: string[] = [];
  for (let i = 0; i < await drawn.count(); i++) uids.push(await drawn.nth(i).getAttribute('data-annotation-uid') ?? '');
  return uids;
}

describe('npm start: the demo prints the OHIF URL of the chest CT with the lung-field measurements drawn', function () {
  this.timeout(240_000);
  const data = tempDir('demo-viewer');
  let demo: ReturnType<typeof startDemo> | undefined;
  let browser: Browser | undefined;
  let viewerUrl = '';
  let baseUrl = '';

  before(async function () {
    assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: install the Debian package chromium`);
    const httpPort = await freePort();
    demo = startDemo(data.path, httpPort, await freePort());
    viewerUrl = await demo.viewerUrl;
    baseUrl = `http://127.0.0.1:${httpPort}`;
    browser = await chromium.launch({
      executablePath: CHROMIUM, headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
    mkdirSync(TOUR, { recursive: true });
  });
  after(async function () {
    await browser?.close();
    if (demo !== undefined) await stopDemo(demo.child);
    data.remove();
  });

  async function withPage<T>(run: (page: Page, errors: string[]) => Promise<T>): Promise<T> {
    const context = await (browser ?? assert.fail('no browser')).newContext({ serviceWorkers: 'block', viewport: { width: 1600, height: 1000 } });
    try {
      // The onboarding tour (shepherd.js) would cover the viewport; OHIF skips tours listed here.
      await context.addInitScript({ content: `localStorage.setItem('shownTours', ${JSON.stringify(JSON.stringify(['basicViewerTour']))});` });
      const page = await context.newPage();
      const errors: string[] = [];
      page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
      return await run(page, errors);
    } finally {
      await context.close();
    }
  }

  async function srTrackingUids(): Promise<Set<string>> {
    const url = new URL(viewerUrl);
    const study = url.searchParams.get('StudyInstanceUIDs') ?? assert.fail(viewerUrl);
    const series = url.searchParams.get('initialSeriesInstanceUID') ?? assert.fail(viewerUrl);
    const response = await fetch(`${baseUrl}/dicom-web/studies/${study}/series/${series}/metadata`);
    assert.equal(response.status, 200);
    const uids = trackingUids(await response.json());
    assert.ok(uids.size > 0, 'the SR names no Tracking Unique Identifier');
    return uids;
  }

  it('the printed URL is served by Orthanc under /ai-bridge/viewer/ and opens with a measurement of the delivered SR drawn', async function () {
    assert.ok(viewerUrl.startsWith(`${baseUrl}/ai-bridge/viewer/`), viewerUrl);
    const expected = await srTrackingUids();
    const drawn = await withPage(async (page, errors) => {
      const uids = await measurementUidsDrawn(page, viewerUrl, errors);
      await page.screenshot({ path: join(TOUR, 'ohif-lung-fields.png') });
      return uids;
    });
    assert.ok(drawn.some((uid) => expected.has(uid)), `drawn ${drawn.join(', ')}; the SR's tracking UIDs ${[...expected].join(', ')}`);
  });

  it('the admin UI links a job and its annotation to the viewer, and the annotation link draws the measurements too', async function () {
    const jobs = await (await fetch(`${baseUrl}/ai-bridge/jobs?modality=CT&limit=100`)).json() as JobListResponse;
    const annotated = jobs.jobs.find((job) => job.outcome?.includes('series annotation') === true) ?? assert.fail(JSON.stringify(jobs));
    const detail = await (await fetch(`${baseUrl}/ai-bridge/jobs/${annotated.id}`)).json() as JobDetailResponse;
    assert.match(detail.study?.viewerUrl ?? '', /^\/ai-bridge\/viewer\/viewer\?StudyInstanceUIDs=/);
    const expected = await srTrackingUids();
    const drawn = await withPage(async (page, errors) => {
      await page.goto(`${baseUrl}/ai-bridge/ui/`);
      await page.locator('body').waitFor();
      await page.waitForTimeout(1_500);
      await page.screenshot({ path: join(TOUR, 'admin-dashboard.png') });
      await page.goto(`${baseUrl}/ai-bridge/ui/jobs/${annotated.id}`);
      const link = page.locator('[data-testid="annotation-viewer-link"]').first();
      await link.waitFor({ timeout: STEP_TIMEOUT_MS });
      await page.screenshot({ path: join(TOUR, 'admin-job.png'), fullPage: true });
      const href = await link.getAttribute('href') ?? assert.fail('the link has no href');
      return measurementUidsDrawn(page, new URL(href, `${baseUrl}/ai-bridge/ui/`).toString(), errors);
    });
    assert.ok(drawn.some((uid) => expected.has(uid)), `drawn ${drawn.join(', ')}; the SR's tracking UIDs ${[...expected].join(', ')}`);
  });

  it('configures OHIF for this Orthanc: its DICOMweb root on the same origin, routes below /ai-bridge/viewer', async function () {
    const answer = await fetch(`${baseUrl}/ai-bridge/viewer/app-config.js`);
    assert.equal(answer.status, 200);
    const config = await answer.text();
    assert.match(config, /"qidoRoot": "\/dicom-web"/);
    assert.match(config, /"routerBasename": "\/ai-bridge\/viewer"/);
  });
});
