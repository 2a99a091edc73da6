import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { repoRoot } from '../plugin/cli/repo-root.js';

/** The deid bench's options (bench/deid.ts). */

export interface DeidOptions {
  readonly dataDir: string;
  readonly counts: readonly number[];
  readonly rounds: number;
  /** Worker counts the command runs with (--workers N); the internal pool uses the largest. */
  readonly workers: readonly number[];
  readonly profile: string;
  readonly internal: boolean;
  readonly cpuProfDir: string | undefined;
}

function positiveIntegers(name: string, text: string | undefined, fallback: string): number[] {
  const values = (text ?? fallback).split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1)) {
    throw new Error(`--${name} must be positive integers separated by commas, got ${text ?? ''}`);
  }
  return [...new Set(values)].sort((a, b) => a - b);
}

export function parseDeidOptions(args: readonly string[]): DeidOptions {
  const { values } = parseArgs({
    args: [...args],
    strict: true,
    options: {
      'data-dir': { type: 'string' }, count: { type: 'string' }, rounds: { type: 'string' }, workers: { type: 'string' },
      profile: { type: 'string' }, 'no-internal': { type: 'boolean' }, 'cpu-prof': { type: 'string' },
    },
  });
  return {
    dataDir: path.resolve(values['data-dir'] ?? path.join(repoRoot(), '..', 'shared', 'data')),
    counts: positiveIntegers('count', values.count, '600,2400'),
    rounds: positiveIntegers('rounds', values.rounds, '3')[0] ?? 3,
    workers: positiveIntegers('workers', values.workers, '1,2'),
    profile: values.profile ?? 'research',
    internal: values['no-internal'] !== true,
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : path.resolve(values['cpu-prof']),
  };
}

