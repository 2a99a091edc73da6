/**
 * The zone arrows (.dependency-cruiser.cjs) and the lint only protect the folders they look at: a new
 * top-level folder, or a new zone under plugin/, would otherwise be imported from and into freely.
 * The folders are read from git, so adding one makes this test fail until it is cruised, named by a
 * rule and linted.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

import { ESLint } from 'eslint';

import { repoRoot } from '../../plugin/cli/repo-root';

interface ZoneRule { readonly name: string; readonly from: { readonly path?: string } }

const ROOT = repoRoot();
const SOURCE = /\.(ts|js|mjs|cjs)$/;
const DECLARATIONS = /\.d\.ts$/;

/** Files git tracks that hold code (declaration-only .d.ts files import nothing). */
function sourceFiles(): string[] {
  return execFileSync('git', ['ls-files'], { cwd: ROOT, encoding: 'utf8' })
    .split('\n').filter((f) => SOURCE.test(f) && !DECLARATIONS.test(f));
}

/** The first file of each folder at the given depth (1: top level, 2: plugin/<zone>). */
function foldersWithCode(files: readonly string[], prefix: string): Map<string, string> {
  const folders = new Map<string, string>();
  for (const file of files) {
    if (!file.startsWith(prefix)) continue;
    const rest = file.slice(prefix.length).split('/');
    if (rest.length < 2) continue; // a file at this level (a config), not a folder
    const folder = prefix + (rest[0] ?? '');
    if (!folders.has(folder)) folders.set(folder, file);
  }
  return folders;
}

function depcruiseFolders(): string[] {
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { scripts: Record<string, string> };
  const script = manifest.scripts['depcruise'];
  assert.ok(script !== undefined, 'package.json has no "depcruise" script');
  return script.split(/\s+/).filter((word) => !word.startsWith('-') && word !== 'depcruise' && !word.endsWith('.cjs'));
}

function zoneRules(): ZoneRule[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the cruiser's own CommonJS config, read as it reads it
  const config = require(join(ROOT, '.dependency-cruiser.cjs')) as { forbidden: ZoneRule[] };
  return config.forbidden.filter((rule) => rule.from.path !== undefined);
}

describe('every source folder is checked', () => {
  const files = sourceFiles();
  const topLevel = foldersWithCode(files, '');
  const zones = foldersWithCode(files, 'plugin/');

  it('finds the folders it checks (the listing works)', () => {
    for (const expected of ['plugin', 'central', 'web-ui', 'test']) assert.ok(topLevel.has(expected), `no ${expected}/ in git ls-files`);
    for (const expected of ['plugin/core', 'plugin/gateway', 'plugin/annotate', 'plugin/cli']) assert.ok(zones.has(expected), `no ${expected}/`);
  });

  it('npm run depcruise cruises every top-level folder with code', () => {
    const cruised = depcruiseFolders();
    const missing = [...topLevel.keys()].filter((folder) => !cruised.includes(folder));
    assert.deepEqual(missing, [], `add ${missing.join(', ')} to the "depcruise" script in package.json`);
  });

  it('a zone rule starts from every top-level folder and every plugin/ zone', () => {
    const rules = zoneRules();
    const uncovered = [...topLevel.values(), ...zones.values()]
      .filter((file) => !rules.some((rule) => new RegExp(rule.from.path ?? '$^').test(file)));
    assert.deepEqual(uncovered, [], `no rule in .dependency-cruiser.cjs says what these may import: ${uncovered.join(', ')}`);
  });

  it('eslint lints every folder with code', async () => {
    const eslint = new ESLint({ cwd: ROOT });
    const ignored: string[] = [];
    for (const file of [...topLevel.values(), ...zones.values()]) {
      if (await eslint.isPathIgnored(join(ROOT, file))) ignored.push(file);
    }
    assert.deepEqual(ignored, [], `eslint.config.mjs ignores ${ignored.join(', ')}`);
  });
});
