/**
 * Builds the model packages shipped with the project into model-packages/:
 * model.onnx from explicit operations, commissioning inputs copied from the
 * shared test data, and a manifest whose performance statement is measured
 * here, on held-out images, every time. Packages are unsigned: a site signs
 * them with its own author key when it installs them (docs/models.md).
 *
 *   node dist/tools/build-models/main.js            rebuild model-packages/
 *   node dist/tools/build-models/main.js --check    rebuild into a temp dir; fail if any byte differs
 *   options: --data <dir> (default ../shared/data beside the repo), --out <dir>
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, relative } from 'node:path';

import { commissioningFailures, runCommissioning } from '../../plugin/inference/commissioning';
import type { ModelManifest } from '../../plugin/annotate/models/model-manifest';
import { sha256Hex } from '../../plugin/annotate/models/package-signature';
import { ctChestLungFields } from './ct-chest-lung-fields';
import { ctHeadBrain } from './ct-head-brain';
import { evaluateModel } from './evaluate-model';
import type { ModelDefinition } from './model-definition';

const REPO = join(__dirname, '..', '..', '..');
export const DEFINITIONS: readonly ModelDefinition[] = [ctChestLungFields, ctHeadBrain];

function option(name: string, fallback: string): string {
  const i = process.argv.indexOf(name);
  return i >= 0 && process.argv[i + 1] !== undefined ? (process.argv[i + 1] ?? fallback) : fallback;
}

async function buildOne(definition: ModelDefinition, dataDir: string, outDir: string): Promise<Record<string, number>> {
  const model = definition.graph();
  const cases = definition.commissioning.map(({ file, ...rest }) => ({
    ...rest,
    input: `commissioning/${basename(file)}`,
    sha256: sha256Hex(readFileSync(join(dataDir, file))),
  }));
  const commissioning: ModelManifest['commissioning'] = { cases, passMark: definition.passMark };
  const provisional = definition.manifest({ statement: 'provisional', reference: definition.referenceDescription, heldOut: [...definition.heldOut], metrics: [{ name: 'provisional', value: 0, unit: '1' }] }, commissioning);
  const evaluation = await evaluateModel(definition, { manifest: provisional, model }, dataDir);
  const m = evaluation.metrics;
  const manifest = definition.manifest({
    statement: definition.statement(m),
    reference: definition.referenceDescription,
    heldOut: [...definition.heldOut],
    metrics: [
      { name: 'mean Dice vs reference (held-out slices)', value: m.meanDice ?? 0, unit: '1' },
      { name: 'lowest Dice vs reference (held-out slices)', value: m.minDice ?? 0, unit: '1' },
      { name: 'held-out slices scored', value: m.slicesWithRegion ?? 0, unit: '1' },
      { name: 'volume over the series', value: m.volumeMl ?? 0, unit: 'ml' },
    ],
  }, commissioning);
  const dir = join(outDir, definition.id);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(join(dir, 'commissioning'), { recursive: true });
  writeFileSync(join(dir, 'model.onnx'), model);
  writeFileSync(join(dir, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
  for (const c of definition.commissioning) copyFileSync(join(dataDir, c.file), join(dir, 'commissioning', basename(c.file)));
  const report = await runCommissioning(dir, { manifest, model });
  if (!report.passed) throw new Error(`${definition.id} fails its own commissioning test: ${commissioningFailures(report)}`);
  return { ...m };
}

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : [path];
  });
}

function differences(expectedDir: string, actualDir: string): string[] {
  const expected = files(expectedDir).map((f) => relative(expectedDir, f)).sort();
  const actual = files(actualDir).map((f) => relative(actualDir, f)).sort();
  const problems: string[] = [];
  for (const f of new Set([...expected, ...actual])) {
    if (!expected.includes(f)) problems.push(`${f}: not committed`);
    else if (!actual.includes(f)) problems.push(`${f}: committed but no longer built`);
    else if (!readFileSync(join(expectedDir, f)).equals(readFileSync(join(actualDir, f)))) problems.push(`${f}: differs`);
  }
  return problems;
}

async function main(): Promise<number> {
  const dataDir = option('--data', join(REPO, '..', 'shared', 'data'));
  const committed = join(REPO, 'model-packages');
  const check = process.argv.includes('--check');
  const outDir = check ? mkdtempSync(join(tmpdir(), 'aib-models-')) : option('--out', committed);
  try {
    for (const definition of DEFINITIONS) {
      const metrics = await buildOne(definition, dataDir, outDir);
      process.stdout.write(`${JSON.stringify({ model: definition.id, ...metrics })}\n`);
    }
    if (!check) return 0;
    const problems = differences(committed, outDir);
    for (const p of problems) process.stderr.write(`model-packages/${p}\n`);
    if (problems.length > 0) process.stderr.write('model-packages/ is not what tools/build-models builds: run node dist/tools/build-models/main.js and commit\n');
    return problems.length === 0 ? 0 : 1;
  } finally {
    if (check) rmSync(outDir, { recursive: true, force: true });
  }
}

main().then((code) => { process.exitCode = code; }, (error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
});
