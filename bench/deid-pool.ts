import * as fs from 'node:fs';
import * as path from 'node:path';
import { DeidWorkerPool } from '../plugin/gateway/deid/deid-worker-pool.js';
import type { Logger } from '../plugin/gateway/logger.js';
import type { CorpusFile } from './deid-corpus.js';
import { childPids, cpuSeconds, peakRssKb } from './deid-proc.js';

/**
 * The engine as the gateway runs it: DeidWorkerPool, sealed worker processes
 * over AF_UNIX frames. A run is end to end: read the file's bytes, send them,
 * the worker de-identifies and writes the result under deidDirectory
 * (atomically), replies. inFlight requests are outstanding at any time so no
 * worker waits for the driver.
 */

export interface PoolRun {
  readonly instances: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly seconds: number;
  readonly failures: number;
  readonly firstError: string | null;
  /** CPU seconds over the timed run: this (driver) process, and all workers together. */
  readonly cpu: { readonly driver: number; readonly workers: number };
  /** Absolute paths of the outputs, by corpus index ('' when it failed). */
  readonly outputs: readonly string[];
}

const WORKER_SCRIPT = path.join(__dirname, '..', 'plugin', 'deid', 'worker-main.js');
const READY_TIMEOUT_MS = 60_000;

const stderrLog: Logger = {
  info: () => undefined,
  warn: (_event, fields) => { process.stderr.write(`  pool: WARNING ${fields.message}\n`); },
  error: (_event, fields) => { process.stderr.write(`  pool: ERROR ${fields.message}\n`); },
};

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export class PoolBench {
  readonly #pool: DeidWorkerPool;
  readonly #deidDirectory: string;
  readonly workers: number;

  constructor(workers: number, profile: string, deidDirectory: string, siteKeyFile: string, inputDirectory: string) {
    this.workers = workers;
    this.#deidDirectory = deidDirectory;
    this.#pool = new DeidWorkerPool({ workers, script: WORKER_SCRIPT, profile, deidDirectory, siteKeyFile, inputDirectories: [inputDirectory] }, stderrLog);
  }

  async start(): Promise<void> {
    this.#pool.start();
    const deadline = Date.now() + READY_TIMEOUT_MS;
    while (this.#pool.readyWorkers < this.workers) {
      if (Date.now() > deadline) throw new Error(`the de-identification pool had ${this.#pool.readyWorkers}/${this.workers} sealed workers ready after ${READY_TIMEOUT_MS / 1000} s`);
      await sleep(50);
    }
  }

  /** Peak RSS (VmHWM) of each live worker process, kB. */
  workerPeakRssKb(): number[] {
    return childPids(process.pid, 'worker-main.js').map((pid) => peakRssKb(pid) ?? 0);
  }

  /** Empty the output store between runs (the workers may write only beneath it, so it stays). */
  clearOutputs(): void {
    for (const entry of fs.readdirSync(this.#deidDirectory)) fs.rmSync(path.join(this.#deidDirectory, entry), { recursive: true, force: true });
  }

  /**
   * `handoff`: 'path' sends the worker the file's path (it parses the header and
   * splices the pixel data file to file); 'bytes' reads the file here and sends
   * its bytes in the frame, as the gateway does with bytes fetched from Orthanc.
   */
  async run(corpus: readonly CorpusFile[], inFlight: number, warmup: number, handoff: 'path' | 'bytes'): Promise<PoolRun> {
    const outputs: string[] = new Array<string>(corpus.length).fill('');
    let failures = 0;
    let firstError: string | null = null;
    let bytesIn = 0;
    let bytesOut = 0;
    const one = async (index: number, record: boolean): Promise<void> => {
      const file = corpus[index];
      if (file === undefined) return;
      const request = { instanceId: String(index), sopInstanceUid: file.sopInstanceUid,
        seriesInstanceUid: file.seriesInstanceUid, studyInstanceUid: file.studyInstanceUid };
      const result = handoff === 'path'
        ? await this.#pool.deidentify({ ...request, inputPath: file.file })
        : await this.#pool.deidentify(request, await fs.promises.readFile(file.file));
      if (!record) return;
      if (result.ok) {
        bytesIn += file.sizeBytes;
        bytesOut += result.sizeBytes;
        outputs[index] = path.join(this.#deidDirectory, result.outputPath);
      } else {
        failures++;
        firstError ??= `${result.code}: ${result.message}`;
      }
    };
    const lanes = async (count: number, record: boolean): Promise<void> => {
      let next = 0;
      await Promise.all(Array.from({ length: inFlight }, async () => {
        while (next < count) await one(next++, record);
      }));
    };
    const workerCpu = (): number => childPids(process.pid, 'worker-main.js').reduce((sum, pid) => sum + cpuSeconds(pid), 0);
    await lanes(Math.min(warmup, corpus.length), false);
    const driverBefore = process.cpuUsage();
    const workersBefore = workerCpu();
    const started = process.hrtime.bigint();
    await lanes(corpus.length, true);
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    const driver = process.cpuUsage(driverBefore);
    const cpu = { driver: (driver.user + driver.system) / 1e6, workers: workerCpu() - workersBefore };
    return { instances: corpus.length - failures, bytesIn, bytesOut, seconds, failures, firstError, cpu, outputs };
  }

  stop(): Promise<void> {
    return this.#pool.stop();
  }
}
