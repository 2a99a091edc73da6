import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { startOrthanc, type RunningOrthanc } from '../plugin/cli/orthanc-launcher.js';
import type { CorpusFile } from './deid-corpus.js';
import { peakRssKb, resetPeakRss } from './deid-proc.js';
import { lanes, post } from './rest-upload.js';

/**
 * Orthanc's own de-identification, `POST /instances/{id}/anonymize` (body
 * `{}`: Orthanc's default Basic Profile, new UIDs), which answers with the
 * anonymized Part 10 file and stores nothing. The corpus is uploaded first,
 * untimed; a run times only the anonymize calls, over `connections`
 * keep-alive connections.
 */

export interface OrthancRun {
  readonly connections: number;
  readonly instances: number;
  readonly bytesOut: number;
  readonly seconds: number;
  readonly failures: number;
  /** Orthanc's VmHWM over this run (reset before it when the kernel allows), kB. */
  readonly peakRssKb: number | undefined;
  readonly peakResetBeforeRun: boolean;
}

export class OrthancBaseline {
  readonly #orthanc: RunningOrthanc;
  readonly #dataDir: string;
  readonly #ids: string[];
  readonly version: string;

  private constructor(orthanc: RunningOrthanc, dataDir: string, ids: string[], version: string) {
    this.#orthanc = orthanc;
    this.#dataDir = dataDir;
    this.#ids = ids;
    this.version = version;
  }

  /** Start a plain Orthanc (no AI bridge, no DICOMweb) and upload the corpus into it. */
  static async start(corpus: readonly CorpusFile[]): Promise<OrthancBaseline> {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-bench-deid-orthanc-'));
    const orthanc = await startOrthanc({ dataDir, aiBridge: false, dicomWeb: false });
    try {
      const version = (await orthanc.json<{ Version: string }>('GET', '/system')).Version;
      const agent = new http.Agent({ keepAlive: true, maxSockets: 2 });
      const ids: string[] = new Array<string>(corpus.length).fill('');
      await lanes(2, corpus.length, async (i) => {
        const file = corpus[i];
        if (file === undefined) return;
        const reply = await post(agent, orthanc.httpPort, '/instances', fs.readFileSync(file.file), 'application/dicom');
        const answer = JSON.parse(reply.body.toString('utf8')) as { ID?: string };
        if (reply.status !== 200 || answer.ID === undefined) throw new Error(`Orthanc refused ${file.file}: HTTP ${reply.status}`);
        ids[i] = answer.ID;
      });
      agent.destroy();
      return new OrthancBaseline(orthanc, dataDir, ids, version);
    } catch (error) {
      await orthanc.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
      throw error;
    }
  }

  /** One anonymized file, for the correctness check. */
  async sample(index: number): Promise<Buffer> {
    const agent = new http.Agent({ keepAlive: false });
    const reply = await post(agent, this.#orthanc.httpPort, `/instances/${this.#ids[index] ?? ''}/anonymize`, Buffer.from('{}'), 'application/json');
    if (reply.status !== 200) throw new Error(`anonymize answered HTTP ${reply.status}`);
    return reply.body;
  }

  /** Anonymizes the first `count` instances of the corpus (default: all). */
  async run(connections: number, warmup: number, count = this.#ids.length): Promise<OrthancRun> {
    const agent = new http.Agent({ keepAlive: true, maxSockets: connections });
    const port = this.#orthanc.httpPort;
    const ids = this.#ids.slice(0, count);
    const pid = this.#orthanc.pid();
    const body = Buffer.from('{}');
    let failures = 0;
    let bytesOut = 0;
    const call = async (index: number, record: boolean): Promise<void> => {
      const reply = await post(agent, port, `/instances/${ids[index] ?? ''}/anonymize`, body, 'application/json');
      if (!record) return;
      if (reply.status === 200) bytesOut += reply.body.length;
      else failures++;
    };
    // Open the connections and warm Orthanc's caches, untimed.
    await lanes(connections, Math.min(warmup, ids.length), (i) => call(i, false));
    const reset = pid === undefined ? false : resetPeakRss(pid);
    const started = process.hrtime.bigint();
    await lanes(connections, ids.length, (i) => call(i, true));
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    agent.destroy();
    return { connections, instances: ids.length - failures, bytesOut, seconds, failures,
      peakRssKb: pid === undefined ? undefined : peakRssKb(pid), peakResetBeforeRun: reset };
  }

  async stop(): Promise<void> {
    await this.#orthanc.stop();
    fs.rmSync(this.#dataDir, { recursive: true, force: true });
  }
}
