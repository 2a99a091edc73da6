import { strict as assert } from 'node:assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { AiBridgeError } from '../../../plugin/core/ai-bridge-error';
import { burnedInAfterCleaning, needsPixelCleaning } from '../../../plugin/deid/burned-in/clean-pixel-data';
import { PixelRegionRules, PixelRegionsError } from '../../../plugin/deid/burned-in/pixel-regions';
import { createDeidEngine } from '../../../plugin/deid/deid-engine';
import { deidentifyInstanceCleaningPixels } from '../../../plugin/deid/deidentify-instance';
import { SiteKey } from '../../../plugin/deid/pseudonyms';
import { decodeImage } from '../../../plugin/pixels';
import { sharedFile } from '../corpus/planted-corpus';

const KEY = SiteKey.fromBytes(Buffer.alloc(32, 0x42), 'test key');
const REFERENCES = { sopInstanceUid: '1.2.3.4', seriesInstanceUid: '1.2.3.5', studyInstanceUid: '1.2.3.6' };
const AUTO = { apply: 'auto', modalities: ['US', 'SC', 'OT', 'XC', 'DOC'], mode: 'all-text' } as const;

describe('per-device pixel region rules (config/deid/pixel-regions.json)', function () {
  this.timeout(120_000);
  let tmp = '';
  before(() => { tmp = mkdtempSync(join(tmpdir(), 'aib-pixel-regions-')); });
  after(() => { rmSync(tmp, { recursive: true, force: true }); });

  function refused(json: unknown, key: string, what: RegExp): void {
    const file = join(tmp, `${key.replace(/\W/g, '_') || 'top'}.json`);
    writeFileSync(file, typeof json === 'string' ? json : JSON.stringify(json));
    assert.throws(() => PixelRegionRules.load(file), (error: unknown) => {
      assert.ok(error instanceof PixelRegionsError, String(error));
      assert.equal(error.code, 'AIB_DEID_PIXEL_REGIONS_INVALID');
      assert.equal(error.details['file'], file);
      assert.equal(error.details['key'], key);
      assert.ok(error.message.includes(file) && error.message.includes(key), error.message);
      assert.match(error.message, what);
      return true;
    });
  }

  const rule = { id: 'r', manufacturer: 'M', modelName: 'X', rows: 100, columns: 200, regions: [{ id: 'band', x: 0, y: 0, width: 200, height: 10 }] };

  it('loads the shipped file', () => {
    const rules = PixelRegionRules.load();
    assert.ok(rules.rules.length >= 1);
  });

  it('refuses a bad file, naming the file and the key', () => {
    refused('{ "rules": [', '', /not JSON/);
    refused({ rules: [{ ...rule, colour: 'red' }] }, 'rules[0].colour', /not a known key/);
    refused({ rules: [{ ...rule, rows: 'many' }] }, 'rules[0].rows', /integer/);
    refused({ rules: [{ ...rule, regions: [{ id: 'band', x: 0, y: 0, width: 200 }] }] }, 'rules[0].regions[0].height', /height/);
    refused({ rules: [{ ...rule, regions: [{ id: 'band', x: 150, y: 0, width: 100, height: 10 }] }] }, 'rules[0].regions[0]', /outside the 200x100 image/);
    refused({ rules: [rule, rule] }, 'rules[1].id', /used twice/);
  });

  it('matches manufacturer, model and size exactly', () => {
    const rules = new PixelRegionRules([rule]);
    assert.equal(rules.boxesFor({ manufacturer: 'M', manufacturerModelName: 'X', rows: 100, columns: 200 }).length, 1);
    assert.equal(rules.boxesFor({ manufacturer: 'M ', manufacturerModelName: 'X', rows: 100, columns: 200 }).length, 1, 'DICOM padding ignored');
    assert.equal(rules.boxesFor({ manufacturer: 'M', manufacturerModelName: 'X', rows: 101, columns: 200 }).length, 0);
    assert.equal(rules.boxesFor({ manufacturer: 'M', manufacturerModelName: 'Y', rows: 100, columns: 200 }).length, 0);
    const [box] = rules.boxesFor({ manufacturer: 'M', manufacturerModelName: 'X', rows: 100, columns: 200 });
    assert.deepEqual(box, { x: 0, y: 0, width: 200, height: 10, reason: 'device-rule', rule: 'device:r/band' });
  });

  it('covers the patient banner of the deid-data Philips EPIQ 5G ultrasound, with device rules as the only finder', async () => {
    const engine = createDeidEngine('research', KEY, { settings: AUTO, deviceRules: PixelRegionRules.load() });
    const input = readFileSync(sharedFile('deid-data/ultrasounds/GREYSCALE_IMAGE.dcm'));
    const result = await deidentifyInstanceCleaningPixels(engine, input, REFERENCES, 'GREYSCALE_IMAGE.dcm');
    assert.ok(result.pixels);
    assert.deepEqual(result.pixels.finders, ['device-rules']);
    assert.deepEqual(result.pixels.boxes, [{ frame: 0, x: 0, y: 0, width: 1024, height: 28, reason: 'device-rule', rule: 'device:philips-epiq-5g-1024x768/patient-banner' }]);
    // Device rules say where a known screen writes text, not that there is none elsewhere: YES stays.
    assert.equal(result.pixels.burnedInAnnotation, 'YES');
    const before = decodeImage(input);
    const after = decodeImage(result.bytes);
    const b = before.pixels.frames[0];
    const a = after.pixels.frames[0];
    assert.ok(b && a);
    let bannerText = 0;
    for (let i = 0; i < 1024 * 28; i++) {
      assert.equal(a[i], 0, `banner pixel ${String(i)} is not black`);
      if ((b[i] ?? 0) > 128) bannerText++;
    }
    assert.ok(bannerText > 500, 'the original banner holds bright text');
    for (let i = 1024 * 28; i < 1024 * 768; i++) assert.equal(a[i], b[i]);
  });

  it('refuses an image that needs cleaning when no finder can search it (no OCR, no matching rule)', async () => {
    const engine = createDeidEngine('research', KEY, { settings: AUTO, deviceRules: PixelRegionRules.load() });
    const input = readFileSync(sharedFile('deid-data/ultrasounds/RGB_IMAGE.dcm'));
    await assert.rejects(deidentifyInstanceCleaningPixels(engine, input, REFERENCES, 'RGB_IMAGE.dcm'), (error: unknown) =>
      error instanceof AiBridgeError && error.code === 'AIB_DEID_PIXELS_NOT_SEARCHED' && error.message.includes('RGB_IMAGE.dcm') &&
      error.message.includes('SIEMENS') && !error.transient);
  });
});

describe('when Clean Pixel Data applies, and what BurnedInAnnotation becomes', () => {
  it('auto: the listed modalities and any image with BurnedInAnnotation YES; CT/MR only when configured', () => {
    assert.equal(needsPixelCleaning(AUTO, { modality: 'US', burnedInAnnotation: '' }), true);
    assert.equal(needsPixelCleaning(AUTO, { modality: 'CT', burnedInAnnotation: '' }), false);
    assert.equal(needsPixelCleaning(AUTO, { modality: 'MR', burnedInAnnotation: 'NO' }), false);
    assert.equal(needsPixelCleaning(AUTO, { modality: 'CT', burnedInAnnotation: 'YES ' }), true);
    assert.equal(needsPixelCleaning({ ...AUTO, modalities: ['CT'] }, { modality: 'CT', burnedInAnnotation: '' }), true);
    assert.equal(needsPixelCleaning({ ...AUTO, apply: 'always' }, { modality: 'MR', burnedInAnnotation: '' }), true);
    assert.equal(needsPixelCleaning({ ...AUTO, apply: 'never' }, { modality: 'US', burnedInAnnotation: 'YES' }), false);
  });

  it('NO only when the OCR searched and left visible nothing but whitelisted or unreadable regions', () => {
    const box = { x: 0, y: 0, width: 1, height: 1 };
    const none = [{ cover: [], kept: [] }];
    const whitelisted = [{ cover: [], kept: [{ ...box, rule: 'keep:word' }, { ...box, rule: 'no-text-read' }] }];
    const unmatched = [{ cover: [], kept: [{ ...box, rule: 'no-identifier' }] }];
    assert.equal(burnedInAfterCleaning('YES', { ocrSearched: true, decisions: none }), 'NO');
    assert.equal(burnedInAfterCleaning('YES', { ocrSearched: true, decisions: whitelisted }), 'NO');
    assert.equal(burnedInAfterCleaning('YES', { ocrSearched: true, decisions: unmatched }), 'YES', 'identifiers-only: unmatched text may still identify');
    assert.equal(burnedInAfterCleaning('', { ocrSearched: true, decisions: unmatched }), 'YES');
    assert.equal(burnedInAfterCleaning('', { ocrSearched: false, decisions: none }), 'YES', 'device rules alone');
    assert.equal(burnedInAfterCleaning('NO', { ocrSearched: false, decisions: none }), 'NO');
  });
});
