import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { repoRoot } from '../plugin/cli/repo-root.js';
import { TreeRssSampler } from './process-tree.js';

/**
 * The `deid` command as a user runs it, timed as a whole process from spawn
 * to exit (Node start-up, module loading, worker start and seal, every file,
 * shutdown): `node bin/orthanc-ai-bridge.js deid --out OUT --key-file K
 * [--workers N] INPUT`. OUT is emptied first, so every run writes every file.
 */

export interface CommandRun {
  readonly seconds: number;
  readonly written: number;
  readonly failed: number;
  /** The command's own figure from its last stderr line (from its start to its summary). */
  readonly reportedSeconds: number | undefined;
  /** Largest summed RSS of the command and its workers, sampled every 100 ms, kB. */
  readonly peakTreeRssKb: number;
  readonly exitCode: number | null;
  readonly stderrTail: string;
}

const BIN = path.join(repoRoot(), 'bin', 'orthanc-ai-bridge.js');

export function runDeidCommand(input: string, out: string, keyFile: string, workers: number | undefined): Promise<CommandRun> {
  fs.rmSync(out, { recursive: true, force: true });
  const args = [BIN, 'deid', '--out', out, '--key-file', keyFile, ...(workers === undefined ? [] : ['--workers', String(workers)]), input];
  return new Promise((resolve, reject) => {
    const started = process.hrtime.bigint();
    const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    const sampler = child.pid === undefined ? undefined : new TreeRssSampler(child.pid);
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-64 * 1024); });
    child.on('error', (error) => { sampler?.stop(); reject(error); });
    child.on('close', (exitCode) => {
      const seconds = Number(process.hrtime.bigint() - started) / 1e9;
      const peakTreeRssKb = sampler?.stop() ?? 0;
      // "orthanc-ai-bridge deid: 600 written, 0 failed, 2.31 s, 259.7 instances/s"
      const summary = /(\d+) written, (\d+) failed, ([\d.]+) s/.exec(stderr);
      if (summary === null) {
        reject(new Error(`deid command exited ${String(exitCode)} without its summary line:\n${stderr.slice(-2000)}`));
        return;
      }
      resolve({ seconds, written: Number(summary[1]), failed: Number(summary[2]), reportedSeconds: Number(summary[3]),
        peakTreeRssKb, exitCode, stderrTail: stderr.split('\n').slice(-5).join('\n') });
    });
  });
}
