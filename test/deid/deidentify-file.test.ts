import { strict as assert } from 'node:assert';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';

import { createDeidEngine } from '../../plugin/deid/deid-engine';
import { deidentifyFile, deidentifyInstance, type DeidEngine } from '../../plugin/deid/deidentify-instance';
import { DeidNativeError, parseDicom } from '../../plugin/deid/native-dicom';
import { SiteKey } from '../../plugin/deid/pseudonyms';
import { SHARED_DATA } from '../harness/bridge-orthanc';

const KEY = SiteKey.fromBytes(Buffer.alloc(32, 0x5a), 'test key');
const REFERENCES = { sopInstanceUid: '1.2.3.4', seriesInstanceUid: '1.2.3.5', studyInstanceUid: '1.2.3.6' };

/** Every file under ../shared/data, with the transfer syntax INDEX.tsv names for it. */
function sharedFiles(): { path: string; syntax: string }[] {
  const index = readFileSync(join(SHARED_DATA, 'INDEX.tsv'), 'utf8').split('\n').slice(1);
  const syntaxOf = new Map(index.map((line) => line.split('\t')).map((cols) => [cols[0] ?? '', cols[3] ?? '']));
  const out: { path: string; syntax: string }[] = [];
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else if (!entry.name.endsWith('.md') && !entry.name.endsWith('.tsv')) out.push({ path, syntax: syntaxOf.get(relative(SHARED_DATA, path)) ?? '' });
    }
  };
  walk(SHARED_DATA);
  return out.sort((a, b) => a.path.localeCompare(b.path));
}

/** Whether the bytes path accepts the file at all (malformed files are the subject of other tests). */
function bytesOutput(engine: DeidEngine, path: string): Buffer | undefined {
  try {
    return deidentifyInstance(engine, readFileSync(path), REFERENCES).bytes;
  } catch (error) {
    if (error instanceof DeidNativeError) return undefined;
    throw error;
  }
}

describe('deid: file to file (header parsed, pixel data spliced)', function () {
  this.timeout(300_000);
  const engine = createDeidEngine('research', KEY);
  let out: string;
  beforeEach(() => { out = mkdtempSync(join(tmpdir(), 'aib-deid-file-')); });
  afterEach(() => { rmSync(out, { recursive: true, force: true }); });

  it('writes exactly the bytes the in-memory path writes, for every file of ../shared/data, splicing wherever it can', () => {
    const spliced = new Map<string, number>();
    let compared = 0;
    for (const { path, syntax } of sharedFiles()) {
      const expected = bytesOutput(engine, path);
      const target = join(out, `${compared}.dcm`);
      if (expected === undefined) {
        // The file path must refuse what the bytes path refuses, and leave nothing behind.
        assert.throws(() => deidentifyFile(engine, path, REFERENCES, () => target), DeidNativeError, relative(SHARED_DATA, path));
        assert.equal(existsSync(target), false, `${relative(SHARED_DATA, path)}: partial output left`);
        continue;
      }
      const result = deidentifyFile(engine, path, REFERENCES, () => target);
      const written = readFileSync(target);
      assert.ok(written.equals(expected), `${relative(SHARED_DATA, path)} (${syntax}): file output differs from the in-memory output`);
      assert.equal(result.sizeBytes, written.length);
      if (result.pixelDataSpliced) spliced.set(syntax, (spliced.get(syntax) ?? 0) + 1);
      compared++;
    }
    assert.ok(compared > 100, `only ${compared} files compared`);
    // Little Endian files with pixel data last are spliced: explicit, implicit, and encapsulated syntaxes.
    for (const syntax of ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2', '1.2.840.10008.1.2.4.50', '1.2.840.10008.1.2.4.70',
      '1.2.840.10008.1.2.4.80', '1.2.840.10008.1.2.4.90', '1.2.840.10008.1.2.5']) {
      assert.ok((spliced.get(syntax) ?? 0) > 0, `no ${syntax} file was spliced: ${JSON.stringify([...spliced])}`);
    }
    // Big Endian and deflated files cannot be spliced (pixel bytes need swapping / inflating).
    assert.equal(spliced.get('1.2.840.10008.1.2.2') ?? 0, 0);
    assert.equal(spliced.get('1.2.840.10008.1.2.1.99') ?? 0, 0);
  });

  it('keeps the pixel bytes of a spliced CT slice identical and parses the header only', () => {
    const input = join(SHARED_DATA, 'tcia-lung-pet-ct-dx', 'Lung_Dx-A0002_B40f', '1-01.dcm');
    const target = join(out, 'ct.dcm');
    const result = deidentifyFile(engine, input, REFERENCES, () => target);
    assert.equal(result.pixelDataSpliced, true);
    const original = readFileSync(input);
    const written = readFileSync(target);
    const pixels = 512 * 512 * 2;
    assert.ok(written.subarray(written.length - pixels).equals(original.subarray(original.length - pixels)));
    assert.equal(readdirSync(out).length, 1, 'a temporary file was left beside the output');
    const doc = parseDicom(written);
    doc.dispose();
  });

  it('refuses a file cut inside its pixel data, with a coded error and no output', () => {
    const input = join(SHARED_DATA, 'tcia-lung-pet-ct-dx', 'Lung_Dx-A0002_B40f', '1-02.dcm');
    const cut = join(out, 'cut.dcm');
    const bytes = readFileSync(input);
    writeFileSync(cut, bytes.subarray(0, bytes.length - 1000));
    const target = join(out, 'never.dcm');
    assert.throws(() => deidentifyFile(engine, cut, REFERENCES, () => target), (error: unknown) =>
      error instanceof DeidNativeError && error.code === 'AIB_DEID_TRUNCATED');
    assert.equal(existsSync(target), false);
    assert.deepEqual(readdirSync(out).sort(), ['cut.dcm']);
  });

  it('names a missing input with a coded error', () => {
    assert.throws(() => deidentifyFile(engine, join(out, 'missing.dcm'), REFERENCES, () => join(out, 'x.dcm')), (error: unknown) =>
      error instanceof DeidNativeError && error.code === 'AIB_DEID_WRITE_FAILED' && /cannot open the input/.test(error.message));
    assert.equal(statSync(out).isDirectory(), true);
  });
});
