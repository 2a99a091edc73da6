import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { BURNED_IN_TEXT_FILE, loadBurnedInTextConfig } from '../../../plugin/deid/burned-in/burned-in-text-config';
import { OcrError } from '../../../plugin/deid/burned-in/ocr/ocr-error';
import { defaultDeidConfigDir } from '../../../plugin/deid/policy';

describe('config/deid/burned-in-text.json', () => {
  let dir: string;
  const committed = JSON.parse(readFileSync(join(defaultDeidConfigDir(), BURNED_IN_TEXT_FILE), 'utf8')) as Record<string, Record<string, unknown>>;
  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'burned-in-config-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  function withChange(change: (c: Record<string, Record<string, unknown>>) => void): string {
    const copy = structuredClone(committed);
    change(copy);
    const file = join(dir, BURNED_IN_TEXT_FILE);
    writeFileSync(file, JSON.stringify(copy));
    return file;
  }

  function refused(file: string, key: RegExp): void {
    assert.throws(() => loadBurnedInTextConfig(file), (e: unknown) => {
      assert.ok(e instanceof OcrError);
      assert.equal(e.code, 'AIB_DEID_BURNED_IN_CONFIG');
      assert.ok(e.message.startsWith(file), e.message);
      assert.match(e.message, key);
      return true;
    });
  }

  it('loads the committed file: keep words, compiled patterns, detection settings', () => {
    const c = loadBurnedInTextConfig();
    assert.ok(c.keep.words.has('L'));
    assert.ok(c.keep.patterns.some((p) => p.regex.test('L12-5')));
    assert.ok(c.detection.maxSide >= 64);
  });

  it('refuses an unknown key, naming the file and where', () => {
    refused(withChange((c) => ((c.detection ?? {}).maxSyde = 3)), /detection: .*"maxSyde"/);
  });

  it('refuses a value out of range, naming the key', () => {
    refused(withChange((c) => ((c.detection ?? {}).binaryThreshold = 2)), /detection\.binaryThreshold/);
  });

  it('refuses a keep pattern that is not a regular expression, naming its index', () => {
    refused(withChange((c) => ((c.keep ?? {}).patterns = [{ name: 'broken', regex: '([0-9', why: 'test' }])), /keep\.patterns\[0\]\.regex/);
  });

  it('refuses a file that is not JSON', () => {
    const file = join(dir, 'not-json.json');
    writeFileSync(file, '{ "about": ');
    refused(file, /not JSON/);
  });
});
