import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { chmodSync, copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';

import type { RunningOrthanc } from '../../plugin/cli/orthanc-launcher';
import type { JobView } from '../../plugin/core/admin-api';
import { allJobs, eventually, health, sharedFile, startBridgeOrthanc, tempDir, uploadFile, waitForHealth } from '../harness/bridge-orthanc';
import { CHARSET_FILES, encodings } from '../deid/corpus/charset-names';
import { writeRealWorldFiles } from '../deid/corpus/real-world-files';

/** A shared file and, when it must be quarantined, the code and why (issue 13: everything else ends done). */
interface Case { readonly name: string; readonly path: string; readonly quarantine?: { readonly code: string; readonly why: string } }

const SHARED: readonly Case[] = [
  ...CHARSET_FILES.map((c) => `pydicom/charset_files/${c.file}`),
  // SR, files without Modality (secondary captures), files without a meta header.
  'pydicom/test_files/test-SR.dcm', 'pydicom/test_files/reportsi.dcm', 'highdicom/sr_document.dcm', 'dcmqi/sr-example/sr.dcm',
  'deid-data/dicom-cookies/image1.dcm', 'deid-data/dicom-cookies/image2.dcm', 'deid-data/dicom-cookies/image3.dcm',
  'fo-dicom/CR-MONO1-10-chest.dcm', 'pydicom/test_files/rtstruct.dcm', 'pydicom/test_files/image_dfl.dcm',
].map((relative) => ({ name: relative, path: sharedFile(relative) }));

const DEFLATED_FRAMES: Case = {
  name: 'pydicom-data/liver_deflate.dcm', path: sharedFile('pydicom-data/liver_deflate.dcm'),
  quarantine: { code: 'AIB_DEID_UNKNOWN_TRANSFER_SYNTAX', why: 'Deflated Image Frame Compression (1.2.840.10008.1.2.8.1) is newer than DCMTK 3.6.7; Orthanc\'s own /anonymize refuses it too' },
};

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.dcm') ? [join(dir, e.name)] : []);
}

function dumpValue(file: string, keyword: string): string {
  return /\[([^\]]*)\]/.exec(execFileSync('dcmdump', ['-q', '+P', keyword, file], { encoding: 'utf8' }))?.[1] ?? '';
}

describe('real-world DICOM through Orthanc and the plugin (issue 13)', function () {
  this.timeout(300_000);
  let orthanc: RunningOrthanc & { cleanup: () => Promise<void> };
  const work = tempDir('real-world-pipeline');
  const byName = new Map<string, JobView>();
  let dataDirectory = '';

  before(async () => {
    orthanc = await startBridgeOrthanc();
    dataDirectory = (await health(orthanc)).dataDirectory;
  });
  after(async () => {
    await orthanc.cleanup();
    work.remove();
  });

  it('ends every instance Orthanc accepts done, except those it names a reason for', async () => {
    const cases: Case[] = [...writeRealWorldFiles(work.path).map((f) => ({ ...f })), ...SHARED, DEFLATED_FRAMES];
    // Two files may be one instance (chrFren and chrFrenMulti share their UIDs): one job for both.
    const ids = new Map<string, string[]>();
    for (const c of cases) {
      const stored = await uploadFile(orthanc, c.path);
      assert.equal(stored.status, 200, `Orthanc refused ${c.name}`);
      ids.set(stored.id ?? '', [...(ids.get(stored.id ?? '') ?? []), c.name]);
    }
    const jobs = await eventually(async () => {
      const all = await allJobs(orthanc);
      const mine = all.filter((j) => ids.has(j.instanceId));
      return mine.length === ids.size && mine.every((j) => j.state === 'done' || j.state === 'quarantined') ? mine : undefined;
    }, `${String(ids.size)} settled jobs`);
    for (const job of jobs) for (const name of ids.get(job.instanceId) ?? []) byName.set(name, job);
    const wrong: string[] = [];
    for (const c of cases) {
      const job = byName.get(c.name);
      assert.ok(job !== undefined, c.name);
      if (c.quarantine === undefined && job.state !== 'done') wrong.push(`${c.name}: ${job.state} ${job.error?.code ?? ''} ${job.error?.message ?? ''}`);
      if (c.quarantine !== undefined && (job.state !== 'quarantined' || !(job.error?.message ?? '').includes(c.quarantine.code))) {
        wrong.push(`${c.name} should be quarantined with ${c.quarantine.code} (${c.quarantine.why}): ${job.state} ${job.error?.message ?? ''}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('gives people with empty or shared IDs their own pseudonyms, one person one, and records undecodable text in the audit', () => {
    const copy = (name: string): string => {
      const path = byName.get(name)?.deidPath;
      assert.ok(path, `${name} has a de-identified copy`);
      return join(dataDirectory, 'deid', path);
    };
    const id = (name: string): string => dumpValue(copy(name), 'PatientID');
    assert.notEqual(id('empty-id-a'), id('empty-id-b'));
    assert.notEqual(id('shared-id-a'), id('shared-id-b'));
    assert.notEqual(id('issuer-a'), id('issuer-b'));
    assert.equal(id('same-person-1'), id('same-person-2'));
    assert.match(dumpValue(copy('bad-sop-uid'), 'SOPInstanceUID'), /^2\.25\.\d+$/);
    // The copies of the charset files (ISO 2022 ones included) hold no byte of the names, in any encoding.
    for (const { file, names } of CHARSET_FILES) {
      const bytes = readFileSync(copy(`pydicom/charset_files/${file}`));
      for (const name of names) for (const form of encodings(name)) assert.equal(bytes.indexOf(form), -1, `${file}: ${name} (${form.toString('hex')})`);
    }
    const audit = readFileSync(join(dataDirectory, 'audit.jsonl'), 'utf8').split('\n').filter((l) => l.includes('"text-undecodable"'));
    assert.equal(audit.length, 1, 'one text-undecodable entry');
    const entry = JSON.parse(audit[0] ?? '{}') as { instanceId: string; undecodableText: { keyword: string }[] };
    assert.equal(entry.instanceId, byName.get('undecodable')?.instanceId);
    assert.deepEqual(entry.undecodableText.map((u) => u.keyword).sort(), ['InstitutionName', 'StudyDescription']);
    assert.ok(!(audit[0] ?? '').includes('Hale') && !(audit[0] ?? '').includes('pital'), 'the audit names elements, not values');
    assert.match(byName.get('undecodable')?.outcome ?? '', /2 undecodable text element\(s\) replaced or removed/);
  });

  it('quarantines a genuine vault conflict (another site key) and leaves no copy in deid/', async () => {
    const before = files(join(dataDirectory, 'deid')).length;
    await orthanc.stop();
    const keyFile = join(dataDirectory, 'phi', 'site.key');
    writeFileSync(keyFile, randomBytes(32));
    chmodSync(keyFile, 0o600);
    await orthanc.restart();
    await waitForHealth(orthanc);
    // Another instance of a study the vault knows: its study UID now maps to another 2.25 UID.
    const again = join(work.path, 'same-study.dcm');
    copyFileSync(join(work.path, 'same-person-1.dcm'), again);
    execFileSync('dcmodify', ['-nb', '-gin', again], { stdio: 'pipe' });
    const stored = await uploadFile(orthanc, again);
    assert.equal(stored.status, 200);
    const job = await eventually(async () => {
      const found = (await allJobs(orthanc)).find((j) => j.instanceId === stored.id);
      return found !== undefined && (found.state === 'done' || found.state === 'quarantined') ? found : undefined;
    }, 'the job of the conflicting instance');
    assert.equal(job.state, 'quarantined');
    assert.equal(job.error?.code, 'AIB_VAULT_CONFLICT', job.error?.message);
    assert.equal(files(join(dataDirectory, 'deid')).length, before, 'the refused copy was removed from deid/');
  });
});
