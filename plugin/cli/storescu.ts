import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { CliError } from './errors.js';
import { writeStorescuProfile } from './storescu-profile.js';

export interface StorescuOptions {
  readonly port: number;
  /** Called AE title (default ORTHANC). */
  readonly aet?: string;
  readonly files: readonly string[];
  /** Files per association (default 500): keeps the command line short. */
  readonly chunkSize?: number;
  /**
   * A profile file from writeStorescuProfile for all chunks (the benchmark
   * writes it once, outside the timing); default: one written per chunk.
   */
  readonly profile?: string;
}

export interface StorescuResult {
  sent: number;
  failed: number;
  stderr: string;
}

export const STORESCU_BINARY = '/usr/bin/storescu';

// With -v, DCMTK logs one "Received Store Response (Success)" per stored file;
// a warning status ("Warning, Coercion of Data Elements" etc.) is stored too.
const STORED = /Received Store Response \((Success|Warning)/g;

async function runChunk(port: number, aet: string, files: readonly string[], given: string | undefined):
  Promise<{ sent: number; log: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-storescu-'));
  try {
    const profile = given ?? (await writeStorescuProfile(files, dir));
    // -nh: one bad file must not end the association; -v: per-file response lines to count.
    const args = ['-v', '-nh', ...(profile === undefined ? [] : ['-xf', profile, 'Files']),
      '-aec', aet, '-aet', 'AIBRIDGE-CLI', '127.0.0.1', String(port), ...files];
    return await runStorescu(args);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function runStorescu(args: readonly string[]): Promise<{ sent: number; log: string }> {
  return new Promise((resolve, reject) => {
    // TCP_NODELAY=1: see orthancEnv in orthanc-launcher.ts; DCMTK's storescu has the same delayed-ACK stall.
    const child = spawn(STORESCU_BINARY, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, TCP_NODELAY: '1' } });
    const chunks: Buffer[] = [];
    child.stdout.on('data', (c: Buffer) => chunks.push(c));
    child.stderr.on('data', (c: Buffer) => chunks.push(c));
    child.once('error', reject);
    child.once('close', () => {
      const log = Buffer.concat(chunks).toString('utf8');
      resolve({ sent: log.match(STORED)?.length ?? 0, log });
    });
  });
}

/**
 * C-STORE files into 127.0.0.1:port with DCMTK's storescu, one association per
 * chunk. Resolves on partial failure too: failed = files not acknowledged.
 * `stderr` holds storescu's error lines (all its output when nothing was sent).
 */
export async function storescu(opts: StorescuOptions): Promise<StorescuResult> {
  if (!fs.existsSync(STORESCU_BINARY)) {
    throw new CliError('AIB_CLI_MISSING_FILE', `storescu not found at ${STORESCU_BINARY}: install the Debian package dcmtk`,
      { file: STORESCU_BINARY });
  }
  const chunkSize = opts.chunkSize ?? 500;
  let sent = 0;
  const logs: string[] = [];
  for (let i = 0; i < opts.files.length; i += chunkSize) {
    const chunk = opts.files.slice(i, i + chunkSize);
    const result = await runChunk(opts.port, opts.aet ?? 'ORTHANC', chunk, opts.profile);
    sent += Math.min(result.sent, chunk.length);
    const errors = result.log.split('\n').filter((l) => /^[EF]: /.test(l));
    logs.push(result.sent === 0 ? result.log : errors.join('\n'));
  }
  return { sent, failed: opts.files.length - sent, stderr: logs.filter((l) => l !== '').join('\n') };
}
