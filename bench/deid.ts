import { execFile, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { ChildResult } from './deid-child.js';
import { runDeidCommand } from './deid-command-run.js';
import { buildCorpus, ctSliceSources, type CorpusFile } from './deid-corpus.js';
import { OrthancBaseline, type OrthancRun } from './deid-orthanc.js';
import { parseDeidOptions } from './deid-options.js';
import { PoolBench, type PoolRun } from './deid-pool.js';
import { reportDeid, type DeidSample, type DumpCheck, type MethodKey } from './deid-report.js';

/**
 * deid: what a user gets from `orthanc-ai-bridge deid` (issue 14): the
 * command timed as a whole process, start-up included, on N unique CT slices
 * (600 and 2,400 by default, new UIDs per copy), with 1 and 2 workers;
 * Orthanc's own /instances/{id}/anonymize (1, 2, 4 connections) and `cp -r`
 * on the same files in the same run. Beside it, not instead of it, the
 * engine's internal loops on the smallest corpus (the sealed worker pool
 * driven in-process, the engine in one process, a dcmjs read-modify-write).
 * Rounds alternate the order of the measurements; throughput is the median
 * over rounds, peak RSS the largest. Goals: the command >= 1.25 x Orthanc's
 * best, >= 0.7 x cp.
 */

const ORTHANC_CONNECTIONS = [1, 2, 4] as const;
const CHILD_SCRIPT = path.join(__dirname, 'deid-child.js');
const MB = 1e6;
/** plugin/cli/deid-options.ts: the command's own default worker count is the CPU count, at most 8. */
const COMMAND_MAX_DEFAULT_WORKERS = 8;

function freshDir(dir: string): string {
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  return dir;
}

function runChild(nodeArgs: readonly string[], args: readonly string[]): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    execFile(process.execPath, [...nodeArgs, CHILD_SCRIPT, ...args], { maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null) {
        reject(new Error(`deid-child ${args.join(' ')} failed: ${error.message}\n${stderr}`));
        return;
      }
      resolve(JSON.parse(stdout) as ChildResult);
    });
  });
}

/** `cp -r` of the corpus under /usr/bin/time, for its own peak RSS. */
function runCp(from: string, to: string): Promise<{ seconds: number; peakRssKb: number | undefined }> {
  fs.rmSync(to, { recursive: true, force: true });
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    execFile('/usr/bin/time', ['-f', 'maxrss=%M', 'cp', '-r', from, to], (error, _stdout, stderr) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      if (error !== null) {
        reject(new Error(`cp -r failed: ${error.message}\n${stderr}`));
        return;
      }
      const rss = /maxrss=(\d+)/.exec(stderr)?.[1];
      resolve({ seconds, peakRssKb: rss === undefined ? undefined : Number(rss) });
    });
  });
}

/** The output must parse (dcmdump, no errors) and carry a new SOP Instance UID and no original patient name. */
function dumpCheck(label: string, file: string, original: CorpusFile | undefined): DumpCheck {
  if (file === '' || !fs.existsSync(file)) return { file: label, ok: false, reason: 'no output' };
  const dump = spawnSync('dcmdump', [file], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  const name = `${label} ${path.basename(file)}`;
  if (dump.status !== 0 || /^E: /m.test(dump.stderr)) return { file: name, ok: false, reason: `dcmdump: ${dump.stderr.trim().split('\n')[0] ?? `status ${String(dump.status)}`}` };
  const sop = /^\(0008,0018\) UI \[([^\]]*)\]/m.exec(dump.stdout)?.[1];
  const patient = /^\(0010,0010\) PN \[([^\]]*)\]/m.exec(dump.stdout)?.[1];
  if (sop === undefined) return { file: name, ok: false, reason: 'no SOP Instance UID' };
  if (original !== undefined && sop === original.sopInstanceUid) return { file: name, ok: false, reason: 'SOP Instance UID unchanged' };
  if (original !== undefined && original.patientName !== '' && patient === original.patientName) {
    return { file: name, ok: false, reason: 'patient name unchanged' };
  }
  return { file: name, ok: true, reason: `parses; SOP UID ${sop.slice(0, 12)}...; PatientName ${patient === undefined ? 'absent' : `[${patient}]`}` };
}

function sampleIndexes(count: number): number[] {
  return [...new Set([0, Math.floor(count / 2), count - 1])];
}

function mb(kb: number | undefined): string {
  return kb === undefined ? 'n/a' : (kb / 1024).toFixed(0);
}

/** The first `count` corpus files as their own folder (hard links: same bytes, same page cache), the command's INPUT. */
function inputFolder(corpus: readonly CorpusFile[], count: number, dir: string): string {
  freshDir(dir);
  for (const file of corpus.slice(0, count)) fs.linkSync(file.file, path.join(dir, path.basename(file.file)));
  return dir;
}

export async function runDeidBench(args: readonly string[]): Promise<void> {
  const options = parseDeidOptions(args);
  const sources = ctSliceSources(options.dataDir);
  const largest = Math.max(...options.counts);
  const smallest = Math.min(...options.counts);
  const poolWorkers = Math.max(...options.workers);
  const defaultWorkers = Math.max(1, Math.min(os.availableParallelism(), COMMAND_MAX_DEFAULT_WORKERS));

  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-bench-deid-'));
  let pool: PoolBench | undefined;
  let orthanc: OrthancBaseline | undefined;
  try {
    const builtAt = process.hrtime.bigint();
    const corpus = buildCorpus(sources, largest, freshDir(path.join(root, 'corpus')));
    const inputs = new Map(options.counts.map((count) => [count, inputFolder(corpus, count, path.join(root, `input-${count}`))]));
    const bytesOf = (count: number): number => corpus.slice(0, count).reduce((sum, f) => sum + f.sizeBytes, 0);
    const manifest = path.join(root, 'corpus.json');
    fs.writeFileSync(manifest, JSON.stringify(corpus));
    const half = Math.max(1, Math.floor(smallest / 2));
    process.stderr.write(`deid: corpus of ${corpus.length} unique instances (${(bytesOf(largest) / MB).toFixed(1)} MB) from ${sources.length} ` +
      `CT slices in ${(Number(process.hrtime.bigint() - builtAt) / 1e9).toFixed(1)} s; command on ${options.counts.join(' and ')} ` +
      `with ${options.workers.join(' and ')} worker(s); ${options.rounds} rounds; profile ${options.profile}\n`);

    const keyFile = path.join(root, 'phi', 'site.key');
    const poolDir = freshDir(path.join(root, 'deid-pool'));
    const startPool = options.internal ? (pool = new PoolBench(poolWorkers, options.profile, poolDir, keyFile, root)).start() : Promise.resolve();
    orthanc = await OrthancBaseline.start(corpus);
    await startPool;
    process.stderr.write(`deid: Orthanc ${orthanc.version} holds the corpus${pool === undefined ? '' : `; ${pool.workers} sealed pool workers ready`}\n`);

    const samples = new Map<string, DeidSample[]>();
    const add = (method: MethodKey, count: number, sample: DeidSample): void => {
      const key = `${method}@${count}`;
      samples.set(key, [...(samples.get(key) ?? []), sample]);
      process.stderr.write(`  ${key}: ${sample.perSecond.toFixed(1)} instances/s, ${sample.mbPerSecond.toFixed(1)} MB/s, ` +
        `peak RSS ${mb(sample.peakRssKb)} MB${sample.failures > 0 ? `, ${sample.failures} FAILED` : ''}` +
        (sample.inCommandPerSecond === undefined ? '' : `; ${sample.inCommandPerSecond.toFixed(1)}/s by the command's own clock`) +
        `${sample.cpuMsPerInstance === undefined ? '' : `; CPU per instance: driver ${sample.cpuMsPerInstance.driver.toFixed(2)} ms, ` +
        `workers ${sample.cpuMsPerInstance.workers.toFixed(2)} ms`}\n`);
    };
    const fromSeconds = (instances: number, bytes: number, seconds: number, peakRssKb: number | undefined, failures: number): DeidSample =>
      ({ perSecond: instances / seconds, mbPerSecond: bytes / MB / seconds, peakRssKb, failures });

    const outputs = new Map<string, readonly string[]>();
    let firstError: string | null = null;
    const commandOut = (count: number, workers: number): string => path.join(root, `command-out-${count}-w${workers}`);
    const engineOut = path.join(root, 'engine-out');
    const childArgs = (mode: string, count: number, out: string): string[] =>
      ['--mode', mode, '--manifest', manifest, '--count', String(count), '--out', freshDir(out), '--key', keyFile,
        '--profile', options.profile, '--warmup', '10'];
    const steps: { readonly name: string; readonly run: () => Promise<void> }[] = [];
    for (const count of options.counts) {
      const input = inputs.get(count) ?? '';
      steps.push({ name: `cp@${count}`, run: async () => {
        const r = await runCp(input, path.join(root, 'cp-out'));
        add('cp', count, fromSeconds(count, bytesOf(count), r.seconds, r.peakRssKb, 0));
      } });
      for (const workers of options.workers) {
        steps.push({ name: `command-w${workers}@${count}`, run: async () => {
          const r = await runDeidCommand(input, commandOut(count, workers), path.join(root, 'command.key'), workers);
          if (r.failed > 0) firstError ??= `deid command: ${r.stderrTail}`;
          add(`command-w${workers}`, count, { ...fromSeconds(r.written, bytesOf(count), r.seconds, r.peakTreeRssKb, r.failed),
            ...(r.reportedSeconds === undefined ? {} : { inCommandPerSecond: r.written / r.reportedSeconds }) });
        } });
      }
      steps.push({ name: `orthanc@${count}`, run: async () => {
        for (const connections of ORTHANC_CONNECTIONS) {
          const r: OrthancRun | undefined = await orthanc?.run(connections, 2 * connections, count);
          if (r === undefined) continue;
          add(`orthanc-${connections}`, count, fromSeconds(r.instances, bytesOf(count), r.seconds, r.peakRssKb, r.failures));
        }
      } });
    }
    if (options.internal) {
      steps.push(
        { name: 'pool', run: async () => {
          const p = pool;
          if (p === undefined) return;
          p.clearOutputs();
          const r: PoolRun = await p.run(corpus.slice(0, smallest), 4 * p.workers, 2 * p.workers, 'path');
          const peaks = p.workerPeakRssKb();
          outputs.set('pool', r.outputs);
          firstError ??= r.firstError;
          add('pool', smallest, { ...fromSeconds(r.instances, r.bytesIn, r.seconds, peaks.reduce((s, v) => s + v, 0), r.failures),
            cpuMsPerInstance: { driver: (1000 * r.cpu.driver) / r.instances, workers: (1000 * r.cpu.workers) / r.instances } });
        } },
        { name: 'engine', run: async () => {
          const r = await runChild([], childArgs('engine', smallest, engineOut));
          outputs.set('engine', r.outputs);
          firstError ??= r.firstError;
          add('engine', smallest, fromSeconds(r.instances, r.bytesIn, r.seconds, r.maxRssKb, r.failures));
        } },
        { name: 'engine-half', run: async () => {
          const r = await runChild([], childArgs('engine', half, path.join(root, 'engine-half-out')));
          firstError ??= r.firstError;
          add('engine-half', smallest, fromSeconds(r.instances, r.bytesIn, r.seconds, r.maxRssKb, r.failures));
        } },
        { name: 'dcmjs', run: async () => {
          const r = await runChild([], childArgs('dcmjs', smallest, path.join(root, 'dcmjs-out')));
          outputs.set('dcmjs', r.outputs);
          firstError ??= r.firstError;
          add('dcmjs', smallest, fromSeconds(r.instances, r.bytesIn, r.seconds, r.maxRssKb, r.failures));
        } },
      );
    }
    for (let r = 0; r < options.rounds; r++) {
      process.stderr.write(`round ${r + 1}/${options.rounds}\n`);
      for (const step of r % 2 === 0 ? steps : [...steps].reverse()) await step.run();
    }

    // A bench of broken output is worthless: the last outputs of each method must parse and be changed.
    const checks: DumpCheck[] = [];
    for (const workers of options.workers) {
      for (const i of sampleIndexes(largest)) {
        const file = corpus[i];
        checks.push(dumpCheck(`command w${workers}`, file === undefined ? '' : path.join(commandOut(largest, workers), path.basename(file.file)), file));
      }
    }
    if (options.internal) {
      for (const i of sampleIndexes(smallest)) {
        checks.push(dumpCheck('pool', outputs.get('pool')?.[i] ?? '', corpus[i]));
        checks.push(dumpCheck('engine', outputs.get('engine')?.[i] ?? '', corpus[i]));
      }
      checks.push(dumpCheck('dcmjs', outputs.get('dcmjs')?.[0] ?? '', corpus[0]));
    }
    const orthancSample = path.join(root, 'orthanc-sample.dcm');
    fs.writeFileSync(orthancSample, await orthanc.sample(0));
    checks.push(dumpCheck('orthanc', orthancSample, corpus[0]));
    for (const c of checks) process.stderr.write(`  check ${c.file}: ${c.ok ? 'ok' : 'FAILED'} (${c.reason})\n`);

    if (options.cpuProfDir !== undefined) {
      fs.mkdirSync(options.cpuProfDir, { recursive: true });
      await runChild(['--cpu-prof', '--cpu-prof-dir', options.cpuProfDir], childArgs('engine', smallest, engineOut));
      process.stderr.write(`deid: CPU profile of the in-process engine over the corpus in ${options.cpuProfDir}\n`);
    }

    const orthancVersion = orthanc.version;
    await pool?.stop();
    pool = undefined;
    await orthanc.stop();
    orthanc = undefined;

    reportDeid({ options, counts: options.counts.map((count) => ({ count, bytes: bytesOf(count) })), smallest, half, defaultWorkers, poolWorkers,
      samples, checks, firstError, orthancVersion, orthancConnections: ORTHANC_CONNECTIONS });
  } finally {
    await pool?.stop();
    await orthanc?.stop();
    fs.rmSync(root, { recursive: true, force: true });
  }
}
