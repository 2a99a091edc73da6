import * as fs from 'node:fs';
import * as path from 'node:path';
import { readDicomFileIdentities } from './dicom-file-identity.js';
import type { RunningOrthanc } from './orthanc-launcher.js';
import { repoRoot } from './repo-root.js';
import { storescu } from './storescu.js';
import type { AnnotationView } from '../core/admin-api.js';

interface JobRow {
  readonly id: string | number;
  readonly instanceId?: string;
  readonly sopInstanceUid?: string;
  readonly state?: string;
  readonly outcome?: unknown;
  readonly error?: unknown;
}

const TERMINAL = new Set(['done', 'quarantined']);
const WAIT_MS = 60_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function asJobs(body: unknown): JobRow[] | undefined {
  if (typeof body !== 'object' || body === null) return undefined;
  const jobs = (body as { jobs?: unknown }).jobs;
  return Array.isArray(jobs) ? (jobs as JobRow[]) : undefined;
}

/** One line for a JSON error body, so a 503 from a starting gateway reads as one message. */
function oneLine(text: string): string {
  try {
    return JSON.stringify(JSON.parse(text)).slice(0, 300);
  } catch {
    return text.replace(/\s+/g, ' ').slice(0, 300);
  }
}

function describe(value: unknown): string {
  if (value === undefined || value === null) return '';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function table(jobs: readonly JobRow[]): string {
  const rows = jobs.map((j) => [String(j.id), j.state ?? '?', j.instanceId ?? '', j.sopInstanceUid ?? '',
    describe(j.error ?? j.outcome).slice(0, 60)]);
  const header = ['job', 'state', 'Orthanc instance', 'SOP Instance UID', 'outcome / error'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join('  ').trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

/** GET path until it answers 200 (printing each new other answer), at most 60 s; the body or undefined. */
async function pollUntil200(orthanc: RunningOrthanc, urlPath: string, done: (body: unknown) => boolean): Promise<unknown> {
  const deadline = Date.now() + WAIT_MS;
  let lastProblem = '';
  let body: unknown;
  while (Date.now() < deadline) {
    let problem: string | undefined;
    try {
      const res = await orthanc.request('GET', urlPath);
      const text = res.body.toString('utf8');
      if (res.status === 200) {
        body = JSON.parse(text);
        if (done(body)) return body;
      } else {
        problem = `GET ${urlPath} answered ${res.status}: ${oneLine(text)}`;
      }
    } catch (e) {
      problem = `GET ${urlPath} failed: ${e instanceof Error ? e.message : String(e)}`;
    }
    if (problem !== undefined && problem !== lastProblem) process.stdout.write(`  ${problem} (still waiting)\n`);
    lastProblem = problem ?? lastProblem;
    await sleep(1_000);
  }
  process.stdout.write(`  gave up on GET ${urlPath} after ${WAIT_MS / 1000} s.\n`);
  return body;
}

/**
 * Polls GET /ai-bridge/jobs until every sample has a finished job (done or
 * quarantined), printing each new non-200 answer, for at most 60 s.
 */
async function waitForJobs(orthanc: RunningOrthanc, uids: ReadonlySet<string>): Promise<JobRow[]> {
  const mine = (body: unknown): JobRow[] =>
    (asJobs(body) ?? []).filter((j) => j.sopInstanceUid !== undefined && uids.has(j.sopInstanceUid));
  const body = await pollUntil200(orthanc, '/ai-bridge/jobs?limit=100', (b) =>
    new Set(mine(b).filter((j) => TERMINAL.has(j.state ?? '')).map((j) => j.sopInstanceUid)).size >= uids.size);
  return mine(body);
}

/** Sends fixtures/samples/*.dcm with storescu and shows their jobs. */
export async function runDemo(orthanc: RunningOrthanc): Promise<void> {
  // Send once the gateway is up, as an administrator would after install.
  process.stdout.write('\nWaiting for the AI bridge gateway (GET /ai-bridge/health)...\n');
  await pollUntil200(orthanc, '/ai-bridge/health', () => true);
  const dir = path.join(repoRoot(), 'fixtures', 'samples');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.dcm')).sort().map((f) => path.join(dir, f));
  process.stdout.write(`Sending ${files.length} sample instances from ${dir} with storescu...\n`);
  const sent = await storescu({ port: orthanc.dicomPort, aet: orthanc.aet, files });
  process.stdout.write(`  stored ${sent.sent}, failed ${sent.failed}${sent.failed > 0 ? `\n${sent.stderr}` : ''}\n`);
  const identities = await readDicomFileIdentities(files);
  const uids = new Set(identities.flatMap((i) => (i?.sopInstanceUid === undefined ? [] : [i.sopInstanceUid])));
  process.stdout.write('Waiting for the AI bridge jobs (GET /ai-bridge/jobs)...\n');
  const jobs = await waitForJobs(orthanc, uids);
  process.stdout.write(`\n${jobs.length > 0 ? table(jobs) : '(no jobs for the samples)'}\n\n`);
  process.stdout.write('Waiting for the annotations (GET /ai-bridge/annotations): the chest CT series goes to the lung-field model...\n');
  const annotations = await waitForAnnotations(orthanc);
  for (const a of annotations) {
    process.stdout.write(`  annotation ${a.id} (${a.unit}, ${a.model.id}@${a.model.version}, ${a.members} instance(s)): ${a.state}: ` +
      `${a.error === null ? a.outcome ?? '' : `${a.error.code}: ${a.error.message}`}\n`);
    if (a.results.length > 0) {
      process.stdout.write(`    results in the original study: ${orthanc.baseUrl}/dicom-web/studies/${a.studyInstanceUid}/series ` +
        `(SR and GSPS; Orthanc Explorer: ${orthanc.baseUrl}/app/explorer.html)\n`);
    }
  }
  const viewer = await viewerUrlOf(orthanc, annotations);
  if (viewer !== undefined) process.stdout.write(`\nOpen the chest CT with the AI lung-field measurements drawn (OHIF viewer): ${viewer}\n`);
  process.stdout.write(`\nAdmin UI (dashboard, jobs, quarantine, models, privacy): ${orthanc.baseUrl}/ai-bridge/ui/\n`);
  process.stdout.write(`Details of one job: ${orthanc.baseUrl}/ai-bridge/jobs/<job>; of an annotation: ${orthanc.baseUrl}/ai-bridge/annotations/<id>; ` +
    `plugin messages are in ${orthanc.logPath} (lines with "ai-bridge:").\n`);
}

// PS3.4 B.5: every SR Storage SOP Class lies under this root (Enhanced, Comprehensive, 3D, ...).
const SR_SOP_CLASS_ROOT = '1.2.840.10008.5.1.4.1.1.88.';

/**
 * The OHIF viewer (AiBridge.OhifViewer, on in the demo) opened on the first
 * delivered SR's series: OHIF's hanging protocol shows that series, which
 * draws its measurements on the CT slice they were made on. Which result is
 * the SR is asked of QIDO-RS, as a viewer would.
 */
async function viewerUrlOf(orthanc: RunningOrthanc, annotations: readonly AnnotationView[]): Promise<string | undefined> {
  for (const annotation of annotations) {
    for (const uid of annotation.results) {
      const study = encodeURIComponent(annotation.studyInstanceUid);
      const res = await orthanc.request('GET', `/dicom-web/studies/${study}/instances?SOPInstanceUID=${encodeURIComponent(uid)}`);
      if (res.status !== 200) continue;
      const found: unknown = JSON.parse(res.body.toString('utf8'));
      const first: unknown = Array.isArray(found) ? found[0] : undefined;
      const tag = (key: string): unknown => (typeof first === 'object' && first !== null
        ? ((first as Record<string, { Value?: unknown[] } | undefined>)[key]?.Value ?? [])[0] : undefined);
      const sopClass = tag('00080016');
      const series = tag('0020000E');
      if (typeof sopClass === 'string' && sopClass.startsWith(SR_SOP_CLASS_ROOT) && typeof series === 'string') {
        return `${orthanc.baseUrl}/ai-bridge/viewer/viewer?StudyInstanceUIDs=${study}&initialSeriesInstanceUID=${encodeURIComponent(series)}`;
      }
    }
  }
  return undefined;
}

/** Polls GET /ai-bridge/annotations until one exists and none is still on its way, for at most 60 s. */
async function waitForAnnotations(orthanc: RunningOrthanc): Promise<AnnotationView[]> {
  const list = (body: unknown): AnnotationView[] => {
    const annotations = typeof body === 'object' && body !== null ? (body as { annotations?: unknown }).annotations : undefined;
    return Array.isArray(annotations) ? (annotations as AnnotationView[]) : [];
  };
  const body = await pollUntil200(orthanc, '/ai-bridge/annotations', (b) => {
    const annotations = list(b);
    return annotations.length > 0 && annotations.every((a) => TERMINAL.has(a.state));
  });
  return list(body);
}
