import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..', '..');

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return name === 'generated' ? [] : sources(path);
    return /\.(ts|cpp|h)$/.test(name) ? [path] : [];
  });
}

describe('error codes', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const used = new Set<string>();
  for (const file of [...sources(join(ROOT, 'plugin')), ...sources(join(ROOT, 'native'))]) {
    for (const match of readFileSync(file, 'utf8').matchAll(/'(AIB_[A-Z_]+)'|"(AIB_[A-Z_]+)"/g)) used.add(match[1] ?? match[2] ?? '');
  }

  it('follow AIB_<AREA>_<WHAT>', () => {
    assert.ok(used.size > 10);
    for (const code of used) assert.match(code, /^AIB_[A-Z]+(_[A-Z0-9]+)+$/);
  });

  it('are each listed once in the README table', () => {
    const rows = [...readme.matchAll(/^\| (`AIB_[A-Z_]+`(?:, `AIB_[A-Z_]+`)*) \|/gm)].map((m) => m[1] ?? '');
    const listed = rows.flatMap((row) => [...row.matchAll(/`(AIB_[A-Z_]+)`/g)].map((m) => m[1] ?? ''));
    assert.equal(new Set(listed).size, listed.length, 'listed twice');
    for (const code of used) assert.ok(listed.includes(code), `${code} is missing from README`);
  });
});
