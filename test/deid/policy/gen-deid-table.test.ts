import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

import { buildTable, keywordFromName, normalizeTag, serializeTable } from '../../../tools/gen-deid-table/build-table';
import { dcmjsVersion, ps36Dictionary } from '../../../tools/gen-deid-table/main';

const ROOT = join(__dirname, '..', '..', '..', '..');
const REFERENCE = join(ROOT, '..', 'shared', 'reference', 'ps3.15-table-e.1-1.json');
const COMMITTED = join(ROOT, 'config', 'deid', 'ps3.15-e1-1.json');

describe('tools/gen-deid-table', () => {
  it('normalizes tags and names', () => {
    assert.equal(normalizeTag('(0008,0050)'), '00080050');
    assert.equal(normalizeTag('(60XX,4000)'), '60xx4000');
    assert.equal(normalizeTag('(50XX,XXXX)'), '50xxxxxx');
    assert.equal(normalizeTag('(GGGG,EEEE) WHERE GGGG IS ODD'), 'private');
    assert.throws(() => normalizeTag('(0008,005)'));
    assert.equal(keywordFromName("Patient's Age"), 'PatientAge');
    assert.equal(keywordFromName("Operators' Name"), 'OperatorsName');
    assert.equal(keywordFromName('Address (Trial)'), 'AddressTrial');
  });

  it('refuses an unknown column or action', () => {
    const input = (rows: unknown): Parameters<typeof buildTable>[0] => ({ source: Buffer.from(JSON.stringify(rows)), sourceName: 'x.json', dictionary: new Map(), dictionaryName: 'none' });
    assert.throws(() => buildTable(input([{ name: 'A', tag: '(0008,0050)', id: '00080050', stdCompIOD: 'Y', basicProfile: 'Q' }])), /basic profile action/);
    assert.throws(() => buildTable(input([{ name: 'A', tag: '(0008,0050)', id: '00080050', stdCompIOD: 'Y', basicProfile: 'X', newOpt: 'K' }])), /unknown column/);
  });

  it('reproduces the committed table byte for byte, and --check agrees', function () {
    // ../shared sits beside every clone that runs the suite (README, CI): missing is a failure.
    assert.ok(existsSync(REFERENCE), `${REFERENCE} is missing: the suite needs ../shared beside the clone`);
    const text = serializeTable(buildTable({ source: readFileSync(REFERENCE), sourceName: '../shared/reference/ps3.15-table-e.1-1.json', dictionary: ps36Dictionary(), dictionaryName: dcmjsVersion(ROOT) }));
    assert.equal(text, readFileSync(COMMITTED, 'utf8'));
    execFileSync(process.execPath, [join(ROOT, 'dist', 'tools', 'gen-deid-table', 'main.js'), '--check'], { stdio: 'pipe' });
  });
});
