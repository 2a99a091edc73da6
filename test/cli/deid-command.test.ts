import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { SqlitePhiVault as PhiVault } from '../../plugin/gateway/vault/sqlite-phi-vault.js';
import { repoRoot } from '../../plugin/cli/repo-root.js';

const DATA = path.join(__dirname, '..', '..', '..', '..', 'shared', 'data');
const CT_DIR = path.join(DATA, 'tcia-lung-pet-ct-dx', 'Lung_Dx-A0002_B40f');
const CT_SLICES = ['1-01.dcm', '1-02.dcm', '1-03.dcm', '1-04.dcm', '1-05.dcm'];
const MR_FILE = path.join(DATA, 'pydicom', 'test_files', 'MR_small.dcm');
const TRUNCATED = path.join(DATA, 'pydicom', 'malformed', 'MR_truncated.dcm');
const CLI = path.join(repoRoot(), 'bin', 'orthanc-ai-bridge.js');

interface Ran {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

function run(file: string, args: readonly string[], cwd: string): Promise<Ran> {
  return new Promise((resolve, reject) => {
    execFile(file, [...args], { cwd, maxBuffer: 64 * 1024 * 1024 }, (error, stdout, stderr) => {
      if (error !== null && typeof error.code !== 'number') {
        reject(new Error(`${file}: ${error.message}`));
        return;
      }
      resolve({ code: error === null ? 0 : Number(error.code), stdout, stderr });
    });
  });
}

function cli(args: readonly string[], cwd: string): Promise<Ran> {
  return run(process.execPath, [CLI, 'deid', ...args], cwd);
}

/** One attribute's value as DCMTK's dcmdump prints it ("" when absent). */
async function dcmValue(file: string, keyword: string): Promise<string> {
  const r = await run('/usr/bin/dcmdump', ['-q', '+P', keyword, file], path.dirname(file));
  assert.equal(r.code, 0, `dcmdump ${file}: ${r.stderr}`);
  return /\[([^\]]*)\]/.exec(r.stdout)?.[1] ?? '';
}

function failureLines(stderr: string): string[] {
  return stderr.split('\n').filter((l) => l.includes(': FAILED '));
}

describe('cli/deid-command (built CLI, sealed workers)', function () {
  this.timeout(120_000);
  let work: string;
  let input: string;

  before(function () {
    work = fs.mkdtempSync(path.join(os.tmpdir(), 'aib-deid-cli-'));
    input = path.join(work, 'in');
    fs.mkdirSync(path.join(input, 'ct'), { recursive: true });
    for (const slice of CT_SLICES) fs.copyFileSync(path.join(CT_DIR, slice), path.join(input, 'ct', slice));
    fs.copyFileSync(MR_FILE, path.join(input, 'MR_small.dcm'));
    fs.copyFileSync(TRUNCATED, path.join(input, 'MR_truncated.dcm'));
    fs.writeFileSync(path.join(input, 'notes.txt'), 'not a DICOM file\n');
  });

  after(function () {
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('writes the valid instances at their relative paths, reports and quarantines the others, exit 1', async function () {
    const out = path.join(work, 'out');
    const vault = path.join(work, 'phi', 'vault.sqlite');
    const r = await cli(['--out', out, '--key-file', path.join(work, 'a.key'), '--vault', vault, '--workers', '2', input], work);
    assert.equal(r.code, 1, r.stderr);

    for (const slice of CT_SLICES) assert.ok(fs.existsSync(path.join(out, 'ct', slice)), `ct/${slice} written`);
    assert.ok(fs.existsSync(path.join(out, 'MR_small.dcm')));
    assert.ok(!fs.existsSync(path.join(out, 'MR_truncated.dcm')));
    assert.ok(!fs.existsSync(path.join(out, 'notes.txt')));
    assert.ok(!fs.existsSync(path.join(out, '.staging')), 'staging folder removed');

    const failures = failureLines(r.stderr);
    assert.equal(failures.length, 2, r.stderr);
    assert.ok(failures.some((l) => l.includes('MR_truncated.dcm') && l.includes('AIB_DEID_TRUNCATED')), r.stderr);
    assert.ok(failures.some((l) => l.includes('notes.txt') && l.includes('AIB_DEID_NOT_DICOM')), r.stderr);
    assert.deepEqual(fs.readFileSync(path.join(out, 'quarantine', 'MR_truncated.dcm')), fs.readFileSync(TRUNCATED));
    assert.equal(fs.readFileSync(path.join(out, 'quarantine', 'notes.txt'), 'utf8'), 'not a DICOM file\n');
    assert.match(r.stderr, /6 written, 2 failed, [\d.]+ s, [\d.]+ instances\/s/);
    assert.match(r.stderr, /created site key .*a\.key/);

    const originals = [...CT_SLICES.map((s) => path.join(CT_DIR, s)), MR_FILE];
    const outputs = [...CT_SLICES.map((s) => path.join(out, 'ct', s)), path.join(out, 'MR_small.dcm')];
    const secrets = ['Lung_Dx-A0002', 'CompressedSamples'];
    for (const original of originals) {
      for (const keyword of ['SOPInstanceUID', 'SeriesInstanceUID', 'StudyInstanceUID']) secrets.push(await dcmValue(original, keyword));
    }
    for (const output of outputs) {
      assert.equal(await dcmValue(output, 'PatientIdentityRemoved'), 'YES', output);
      const bytes = fs.readFileSync(output);
      for (const secret of secrets) {
        assert.ok(secret.length > 0);
        assert.equal(bytes.indexOf(Buffer.from(secret, 'latin1')), -1, `${path.basename(output)} still holds ${secret}`);
      }
    }

    assert.equal(fs.statSync(vault).mode & 0o777, 0o600);
    const v = new PhiVault(vault);
    try {
      assert.equal((await v.counts()).linkTokens, 6);
      assert.equal((await v.counts()).patients, 2);
    } finally {
      await v.close();
    }
  });

  it('gives the same pseudonyms and date shifts with the same key, different ones with another key', async function () {
    const slice = path.join(CT_DIR, '1-01.dcm');
    const once = async (out: string, key: string): Promise<{ id: string; date: string }> => {
      const r = await cli(['--out', path.join(work, out), '--key-file', path.join(work, key), '--profile', 'research', '--workers', '1', slice], work);
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stderr, /no re-link mapping is kept/);
      const file = path.join(work, out, '1-01.dcm');
      return { id: await dcmValue(file, 'PatientID'), date: await dcmValue(file, 'StudyDate') };
    };
    const first = await once('same-1', 'k1.key');
    const second = await once('same-2', 'k1.key');
    const other = await once('other', 'k2.key');
    const originalDate = await dcmValue(slice, 'StudyDate');
    assert.notEqual(first.id, 'Lung_Dx-A0002');
    assert.match(first.date, /^\d{8}$/);
    assert.deepEqual(second, first);
    assert.notEqual(other.id, first.id);
    // Two keys could draw the same shift by chance; the original date must not survive either way.
    assert.ok(other.date !== first.date || first.date !== originalDate);
    assert.notEqual(first.date, originalDate);
    assert.equal(fs.statSync(path.join(work, 'k1.key')).mode & 0o777, 0o600);
  });

  it('de-identifies an HL7 ORU report with --report, names from the PID segment and the --header file', async function () {
    const report = path.join(work, 'report.hl7');
    fs.writeFileSync(report, [
      'MSH|^~\\&|RIS|GENERAL HOSPITAL|PACS|SITE|20240101120000||ORU^R01|1|P|2.5',
      'PID|1||MRN12345^^^HOSP||DOE^JOHN^Q||19600101|M',
      'OBR|1|ACC998877||CT CHEST',
      'OBX|1|TX|REPORT||CT chest of John Doe, patient Lung_Dx-A0002. No nodule in the right lower lobe. Mr Doe to follow up.||||||F',
      '',
    ].join('\r'));
    const r = await cli(['--report', report, '--header', path.join(CT_DIR, '1-01.dcm')], work);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /% PATIENT NAME %/);
    assert.match(r.stdout, /right lower lobe/);
    for (const secret of ['DOE', 'Doe', 'JOHN', 'John', 'MRN12345', 'Dx-A0002']) assert.ok(!r.stdout.includes(secret), `${secret} left in ${r.stdout}`);
    assert.match(r.stderr, /report de-identified, \d+ replacements/);
  });

  it('names an unknown option and exits 2; --help exits 0', async function () {
    const bad = await cli(['--out', path.join(work, 'x'), '--frobnicate', input], work);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--frobnicate/);
    const missingOut = await cli([input], work);
    assert.equal(missingOut.code, 2);
    assert.match(missingOut.stderr, /--out/);
    const help = await cli(['--help'], work);
    assert.equal(help.code, 0);
    assert.match(help.stdout, /deid --out OUT/);
  });
});
