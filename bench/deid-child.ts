import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { deidentifyFile, type DeidEngine } from '../plugin/deid/deidentify-instance.js';
import { createDeidEngine } from '../plugin/deid/deid-engine.js';
import { SiteKey } from '../plugin/deid/pseudonyms/index.js';
import type { CorpusFile } from './deid-corpus.js';
import { DcmjsDeidentifier } from './deid-dcmjs.js';

/**
 * One single-process measurement in a fresh Node process, so its peak RSS
 * (process.resourceUsage().maxRSS) is its own and not the bench driver's:
 * `node dist/bench/deid-child.js --mode engine|dcmjs --manifest FILE
 * --count N --out DIR [--key FILE] [--profile NAME] [--warmup N]`.
 * Per file: read, de-identify, write the result (the engine: deidentifyFile, header
 * parsed, pixel data spliced file to file); prints one JSON
 * object (ChildResult) on stdout.
 */

export interface ChildResult {
  readonly mode: string;
  readonly instances: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly seconds: number;
  readonly maxRssKb: number;
  readonly failures: number;
  readonly firstError: string | null;
  readonly outputs: readonly string[];
}

/** Built as worker-main.ts builds it, without the seal: this measures the engine, not the sandbox. */
function buildEngine(profile: string, keyFile: string): DeidEngine {
  return createDeidEngine(profile, SiteKey.loadOrCreate(keyFile));
}

function main(): void {
  const { values } = parseArgs({
    options: {
      mode: { type: 'string' }, manifest: { type: 'string' }, count: { type: 'string' }, out: { type: 'string' },
      key: { type: 'string' }, profile: { type: 'string' }, warmup: { type: 'string' },
    },
  });
  const mode = values.mode ?? '';
  if (values.manifest === undefined || values.out === undefined) throw new Error('--manifest and --out are required');
  const corpus = JSON.parse(fs.readFileSync(values.manifest, 'utf8')) as CorpusFile[];
  const files = corpus.slice(0, Number(values.count ?? String(corpus.length)));
  const outDir = values.out;
  const warmup = Math.min(Number(values.warmup ?? '0'), files.length);

  // Each mode reads `file` and writes `target`, returning the bytes written.
  let transform: (file: CorpusFile, target: string) => number;
  if (mode === 'engine') {
    if (values.key === undefined) throw new Error('--key is required for --mode engine');
    const engine = buildEngine(values.profile ?? 'research', values.key);
    transform = (file, target): number => deidentifyFile(engine, file.file, file, () => target).sizeBytes;
  } else if (mode === 'dcmjs') {
    const baseline = new DcmjsDeidentifier(randomBytes(32));
    transform = (file, target): number => {
      const out = baseline.deidentify(fs.readFileSync(file.file));
      fs.writeFileSync(target, out);
      return out.length;
    };
  } else {
    throw new Error(`--mode must be engine or dcmjs, got "${mode}"`);
  }

  const outputs: string[] = [];
  let failures = 0;
  let firstError: string | null = null;
  let bytesIn = 0;
  let bytesOut = 0;
  const pass = (list: readonly CorpusFile[], record: boolean): void => {
    for (const file of list) {
      const target = path.join(outDir, path.basename(file.file));
      try {
        const written = transform(file, target);
        if (record) {
          bytesIn += file.sizeBytes;
          bytesOut += written;
          outputs.push(target);
        }
      } catch (error) {
        if (!record) continue;
        failures++;
        firstError ??= error instanceof Error ? error.message : String(error);
        outputs.push('');
      }
    }
  };
  // JIT and caches warm on a few files first, untimed; their outputs are rewritten by the timed pass.
  pass(files.slice(0, warmup), false);
  const started = process.hrtime.bigint();
  pass(files, true);
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  const result: ChildResult = {
    mode, instances: files.length - failures, bytesIn, bytesOut, seconds, maxRssKb: process.resourceUsage().maxRSS,
    failures, firstError, outputs,
  };
  process.stdout.write(`${JSON.stringify(result)}\n`);
}

main();
