import { spawnSync } from 'node:child_process';
import { createReadStream, existsSync, mkdirSync, statSync } from 'node:fs';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { extname, join, normalize, sep } from 'node:path';

import { chromium, type Browser, type Page } from 'playwright-core';

import { repoRoot } from '../../plugin/cli/repo-root';
import { CONTENT_TYPES, OHIF_VERSION, ohifAppConfig } from '../../plugin/gateway/admin/ohif-viewer-site';

/**
 * OHIF v3 (the built @ohif/app dist, no network) served on 127.0.0.1 beside a
 * real Orthanc's DICOMweb, and driven by headless Chromium, following
 * /work/shared/recipes/ohif-headless.md: same origin through a small proxy,
 * our own app-config.js, service workers blocked, the first-run tour
 * dismissed, and a window resize after opening an SR (headless OHIF often
 * does not paint an SR's annotations until the viewport re-renders).
 */

const CHROMIUM = '/usr/bin/chromium';
// Not performance limits: each bounds how long a failed run waits before it says what it was waiting for.
const STEP_TIMEOUT_MS = 90_000;

/** The viewer's dist folder; runs scripts/fetch-ohif.sh (the only network use) when the cache is missing. */
export function ohifDist(): string {
  const root = repoRoot();
  const dist = join(root, '.cache', 'ohif', OHIF_VERSION, 'dist');
  if (!existsSync(join(dist, 'index.html')) || !existsSync(join(root, '.cache', 'ohif', OHIF_VERSION, '.complete'))) {
    const run = spawnSync('bash', [join(root, 'scripts', 'fetch-ohif.sh')], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    if (run.status !== 0) throw new Error(`scripts/fetch-ohif.sh failed (status ${String(run.status)})`);
  }
  return dist;
}

/** window.config for a single DICOMweb source on the page's own origin: the plugin's own, served at the root here. */
function harnessAppConfig(): string {
  return ohifAppConfig({ Root: '/dicom-web/', WadoRoot: '/wado' }, '/');
}

function forward(request: http.IncomingMessage, response: http.ServerResponse, orthancPort: number): void {
  // Host goes through unchanged: Orthanc builds BulkDataURI values from it, which keeps them same-origin.
  const upstream = http.request({ host: '127.0.0.1', port: orthancPort, method: request.method, path: request.url, headers: request.headers }, (answer) => {
    response.writeHead(answer.statusCode ?? 502, answer.headers);
    answer.pipe(response);
  });
  upstream.on('error', (error) => {
    if (!response.headersSent) response.writeHead(502, { 'Content-Type': 'text/plain' });
    response.end(`proxy: ${error.message}`);
  });
  request.pipe(upstream);
}

function serveFile(response: http.ServerResponse, file: string): void {
  response.writeHead(200, { 'Content-Type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', 'Content-Length': statSync(file).size });
  createReadStream(file).pipe(response);
}

/** The proxy: /dicom-web and /wado to Orthanc, /app-config.js ours, dist files as they are, index.html for the rest. */
function startProxy(dist: string, orthancPort: number): Promise<http.Server> {
  const appConfig = harnessAppConfig();
  const server = http.createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    if (path.startsWith('/dicom-web') || path.startsWith('/wado')) {
      forward(request, response, orthancPort);
      return;
    }
    if (path === '/app-config.js') {
      response.writeHead(200, { 'Content-Type': CONTENT_TYPES['.js'] ?? '' });
      response.end(appConfig);
      return;
    }
    const file = normalize(join(dist, path));
    if (file.startsWith(dist + sep) && existsSync(file) && statSync(file).isFile()) {
      serveFile(response, file);
      return;
    }
    // SPA fallback (dist/_redirects does the same): /viewer?... is a client-side route.
    serveFile(response, join(dist, 'index.html'));
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      resolve(server);
    });
  });
}

export interface SrDrawn {
  /** The full-page screenshot taken once the annotation was in the SVG layer. */
  readonly screenshot: string;
  /** Text of the viewport's bottom-right overlay then, e.g. "I:3 (3/5)". */
  readonly overlay: string;
  /** What the page logged, for the failure message of a later assertion. */
  readonly console: readonly string[];
}

export interface OhifViewer {
  /** http://127.0.0.1:<port>, the viewer and DICOMweb on one origin. */
  readonly baseUrl: string;
  /**
   * Opens the study, double-clicks the SR series' thumbnail, and resolves once
   * OHIF has put the measurement with this Tracking Unique Identifier (112040,
   * OHIF's annotation UID) into the viewport's SVG layer. Throws on a page
   * error or when it never appears, with the page's console in the message.
   */
  expectSrDrawn(studyInstanceUid: string, srSeriesNumber: number, trackingUid: string, options?: SrDrawnOptions): Promise<SrDrawn>;
  close(): Promise<void>;
}

export interface SrDrawnOptions {
  /**
   * OHIF opens an SR at the image of its first measurement; a measurement on
   * another image is drawn once the viewport shows that image. Images to
   * scroll from there first: positive is down the stack (ArrowDown).
   */
  readonly scrollImages?: number;
}

export interface OhifViewerOptions {
  /** The Orthanc with the DICOMweb plugin (see ohifOrthancConfig) the viewer reads from. */
  readonly orthancPort: number;
  /** Screenshots go here. */
  readonly outputDir: string;
}

/** DicomWeb settings the viewer needs from the Orthanc under test (merge into its configuration). */
export const OHIF_ORTHANC_CONFIG = Object.freeze({
  DicomWeb: { Enable: true, Root: '/dicom-web/', EnableWado: true, WadoRoot: '/wado', StudiesMetadata: 'Full', SeriesMetadata: 'Full' },
});

async function withPage<T>(browser: Browser, run: (page: Page, log: string[], errors: string[]) => Promise<T>): Promise<T> {
  const context = await browser.newContext({ serviceWorkers: 'block', viewport: { width: 1600, height: 1000 } });
  try {
    // The onboarding tour (shepherd.js) would cover the viewport; OHIF skips tours listed here.
    await context.addInitScript({ content: `localStorage.setItem('shownTours', ${JSON.stringify(JSON.stringify(['basicViewerTour']))});` });
    const page = await context.newPage();
    const log: string[] = [];
    const errors: string[] = [];
    page.on('console', (message) => log.push(`${message.type()}: ${message.text()}`));
    page.on('pageerror', (error) => errors.push(error.stack ?? error.message));
    return await run(page, log, errors);
  } finally {
    await context.close();
  }
}

export async function startOhifViewer(options: OhifViewerOptions): Promise<OhifViewer> {
  if (!existsSync(CHROMIUM)) throw new Error(`${CHROMIUM} is missing: install the Debian package chromium (never a downloaded browser)`);
  const dist = ohifDist();
  mkdirSync(options.outputDir, { recursive: true });
  const proxy = await startProxy(dist, options.orthancPort);
  const baseUrl = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  let browser: Browser;
  try {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
    });
  } catch (error) {
    await new Promise((resolve) => proxy.close(resolve));
    throw error;
  }

  const expectSrDrawn = (studyInstanceUid: string, srSeriesNumber: number, trackingUid: string, drawn: SrDrawnOptions = {}): Promise<SrDrawn> => withPage(browser, async (page, log, errors) => {
    const failWith = (what: string): Error => new Error(`${what}\npage errors:\n${errors.join('\n')}\nconsole (last 40):\n${log.slice(-40).join('\n')}`);
    const overlay = page.locator('[data-cy="viewport-overlay-bottom-right"]').first();
    try {
      await page.goto(`${baseUrl}/viewer?StudyInstanceUIDs=${encodeURIComponent(studyInstanceUid)}`);
      // The first image is on screen when the overlay reads "I:<n> (<n>/<total>)".
      await overlay.filter({ hasText: /I:\d+ \(\d+\/\d+\)/ }).waitFor({ timeout: STEP_TIMEOUT_MS });
      await page.locator(`#ohif-thumbnail-list [data-series="${srSeriesNumber}"]`).first().dblclick({ timeout: STEP_TIMEOUT_MS });
      const scroll = drawn.scrollImages ?? 0;
      if (scroll !== 0) {
        // Scroll only once the SR viewport has jumped to its first measurement's image.
        await page.locator('[data-cy="viewport-notification"]').first().waitFor({ timeout: STEP_TIMEOUT_MS });
        await page.locator('[data-cy="viewport-pane"]').first().hover();
        for (let i = 0; i < Math.abs(scroll); i++) await page.keyboard.press(scroll > 0 ? 'ArrowDown' : 'ArrowUp');
      }
      const annotation = page.locator(`svg.svg-layer [data-annotation-uid="${trackingUid}"]`);
      // Headless OHIF leaves an opened SR's annotations out of the SVG until the viewport
      // re-renders; a window resize makes it re-render. Alternate sizes until it is there.
      const sizes = [{ width: 1500, height: 950 }, { width: 1600, height: 1000 }];
      for (let round = 0; ; round++) {
        if (errors.length > 0) throw failWith('the page raised an error');
        await page.setViewportSize(sizes[round % 2] ?? { width: 1600, height: 1000 });
        try {
          await annotation.waitFor({ state: 'attached', timeout: 3_000 });
          break;
        } catch {
          if (round * 3_000 > STEP_TIMEOUT_MS) throw failWith(`no annotation ${trackingUid} in the SVG layer after opening SR series ${srSeriesNumber}`);
        }
      }
      if (errors.length > 0) throw failWith('the page raised an error');
      const screenshot = join(options.outputDir, `sr-series-${srSeriesNumber}-${trackingUid}.png`);
      await page.screenshot({ path: screenshot, fullPage: true });
      return { screenshot, overlay: (await overlay.textContent()) ?? '', console: [...log] };
    } catch (error) {
      await page.screenshot({ path: join(options.outputDir, `sr-series-${srSeriesNumber}-${trackingUid}-failed.png`), fullPage: true }).catch(() => undefined);
      if (error instanceof Error && error.message.includes('console (last 40)')) throw error;
      throw failWith(error instanceof Error ? error.message : String(error));
    }
  });

  return {
    baseUrl,
    expectSrDrawn,
    close: async () => {
      await browser.close();
      await new Promise((resolve) => proxy.close(resolve));
    },
  };
}
