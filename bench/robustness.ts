import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';

import type { JobListResponse, JobView } from '../plugin/core/admin-api.js';
import { startOrthanc, type RunningOrthanc } from '../plugin/cli/orthanc-launcher.js';
import { machine, textTable } from './report.js';

/**
 * robustness: every file of the shared data (INDEX.tsv, malformed ones
 * included) POSTed to a real Orthanc with the plugin, as a site's archive
 * would arrive. Counts what Orthanc accepted (distinct instances), what the
 * pipeline finished (`done`) and what it quarantined, by code; the baseline is
 * Orthanc's own `/instances/{id}/anonymize` on the same stored instances in
 * the same run (instance-level anonymize answers the file and stores nothing,
 * so it adds no jobs). Goal (issue 13): quarantined <= Orthanc's failures.
 */

interface FileOutcome {
  readonly file: string;
  readonly httpStatus: number;
  readonly instanceId?: string;
}

const POLL_MS = 500;
const SETTLE_LIMIT_MS = 20 * 60_000;

function indexedFiles(dataDir: string): string[] {
  const index = path.join(dataDir, 'INDEX.tsv');
  if (!fs.existsSync(index)) throw new Error(`no ${index}: pass --data-dir DIR pointing at the shared DICOM data (with INDEX.tsv)`);
  const [headerLine, ...lines] = fs.readFileSync(index, 'utf8').split('\n').filter((l) => l.trim() !== '');
  const pathCol = (headerLine ?? '').split('\t').indexOf('path');
  if (pathCol < 0) throw new Error(`${index} has no path column`);
  return lines.map((l) => l.split('\t')[pathCol] ?? '').filter((p) => p !== '' && fs.existsSync(path.join(dataDir, p)));
}

async function waitForGateway(orthanc: RunningOrthanc): Promise<void> {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    const res = await orthanc.request('GET', '/ai-bridge/health').catch(() => undefined);
    if (res?.status === 200) return;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  throw new Error('the gateway did not answer /ai-bridge/health within 120 s');
}

/** Every job, once none is queued, running or retrying and each accepted instance has one. */
async function settledJobs(orthanc: RunningOrthanc, instances: ReadonlySet<string>): Promise<JobView[]> {
  const deadline = Date.now() + SETTLE_LIMIT_MS;
  for (;;) {
    const page = await orthanc.json<JobListResponse>('GET', '/ai-bridge/jobs?limit=1000');
    const seen = new Set(page.jobs.map((j) => j.instanceId));
    const settled = page.jobs.every((j) => j.state === 'done' || j.state === 'quarantined');
    if (settled && [...instances].every((id) => seen.has(id))) return [...page.jobs];
    if (Date.now() > deadline) throw new Error(`jobs did not settle within ${SETTLE_LIMIT_MS / 60_000} min`);
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
  }
}

/** A quarantine's code, with the worker's own code when the gateway wraps it (AIB_DEID_FAILED). */
function quarantineCode(job: JobView): string {
  const code = job.error?.code ?? 'unknown';
  const worker = /: (AIB_[A-Z_]+):/.exec(job.error?.message ?? '')?.[1];
  return worker === undefined ? code : `${code} (${worker})`;
}

export async function runRobustnessBench(args: readonly string[]): Promise<void> {
  const { values } = parseArgs({
    args: [...args], strict: true,
    options: { 'data-dir': { type: 'string' }, annotate: { type: 'boolean' }, verbose: { type: 'boolean' } },
  });
  const dataDir = values['data-dir'] ?? path.join(__dirname, '..', '..', '..', 'shared', 'data');
  const files = indexedFiles(dataDir);
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-bench-robustness-'));
  const orthanc = await startOrthanc({ dataDir: work, aiBridge: { Annotate: values.annotate === true, ChangesPollSeconds: 2 } });
  try {
    const version = (await orthanc.json<{ Version: string }>('GET', '/system')).Version;
    await waitForGateway(orthanc);
    const outcomes: FileOutcome[] = [];
    for (const file of files) {
      const res = await orthanc.request('POST', '/instances', fs.readFileSync(path.join(dataDir, file)));
      const id = res.status === 200 ? (JSON.parse(res.body.toString('utf8')) as { ID?: string }).ID : undefined;
      outcomes.push({ file, httpStatus: res.status, ...(id === undefined ? {} : { instanceId: id }) });
    }
    const accepted = new Map<string, string>();
    for (const o of outcomes) if (o.instanceId !== undefined && !accepted.has(o.instanceId)) accepted.set(o.instanceId, o.file);

    // Orthanc's own de-identification of the same instances, in the same run.
    const anonymizeFailures: { file: string; status: number }[] = [];
    for (const [id, file] of accepted) {
      const res = await orthanc.request('POST', `/instances/${id}/anonymize`, {});
      if (res.status !== 200) anonymizeFailures.push({ file, status: res.status });
    }

    const jobs = await settledJobs(orthanc, new Set(accepted.keys()));
    const ours = jobs.filter((j) => accepted.has(j.instanceId));
    const done = ours.filter((j) => j.state === 'done');
    const quarantined = ours.filter((j) => j.state === 'quarantined');
    const byCode = new Map<string, string[]>();
    for (const j of quarantined) byCode.set(quarantineCode(j), [...(byCode.get(quarantineCode(j)) ?? []), accepted.get(j.instanceId) ?? j.instanceId]);

    const context = { ...machine(), orthanc: version, files: files.length };
    const line = (measure: string, value: number, extra: Record<string, unknown> = {}): void => {
      process.stdout.write(`${JSON.stringify({ measure, unit: 'instances', value, ...extra, ...context })}\n`);
    };
    line('robustness_files_posted', files.length);
    line('robustness_refused_by_orthanc', outcomes.filter((o) => o.instanceId === undefined).length);
    line('robustness_accepted_instances', accepted.size);
    line('robustness_done', done.length);
    line('robustness_quarantined', quarantined.length, { byCode: Object.fromEntries([...byCode].map(([c, f]) => [c, f.length])) });
    line('robustness_orthanc_anonymize_failures', anonymizeFailures.length);

    const rows: string[][] = [
      ['files POSTed', String(files.length), ''],
      ['refused by Orthanc', String(outcomes.filter((o) => o.instanceId === undefined).length),
        outcomes.filter((o) => o.instanceId === undefined).map((o) => `${o.file} (${String(o.httpStatus)})`).join(', ')],
      ['accepted by Orthanc (distinct instances)', String(accepted.size), ''],
      ['done', String(done.length), ''],
      ['quarantined', String(quarantined.length), ''],
      ...[...byCode].map(([code, list]) => [`  ${code}`, String(list.length), list.join(', ')]),
      ["Orthanc's own /anonymize failed", String(anonymizeFailures.length), anonymizeFailures.map((f) => `${f.file} (${String(f.status)})`).join(', ')],
    ];
    process.stdout.write(`\nrobustness: ${String(files.length)} files of ${dataDir}, Orthanc ${version}, plugin ${values.annotate === true ? 'with' : 'without'} annotation\n`);
    process.stdout.write(`${textTable(['', 'instances', 'files'], rows)}\n`);
    const met = quarantined.length <= anonymizeFailures.length;
    process.stdout.write(`goal quarantined (${String(quarantined.length)}) <= Orthanc's /anonymize failures (${String(anonymizeFailures.length)}): ${met ? 'met' : 'not met'}\n`);
    if (values.verbose === true) {
      for (const j of quarantined) process.stdout.write(`  ${accepted.get(j.instanceId) ?? j.instanceId}: ${j.error?.code ?? ''} ${j.error?.message ?? ''}\n`);
    }
  } finally {
    await orthanc.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}
