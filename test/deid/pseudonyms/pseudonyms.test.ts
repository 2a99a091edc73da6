import { strict as assert } from 'node:assert';
import { chmodSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';

import { patientIdentity, type PatientIdentity } from '../../../plugin/core/patient-identity';
import { capAge, dateShiftDays, patientPseudonyms, pseudonymFor, SiteKey, SiteKeyError } from '../../../plugin/deid/pseudonyms';

const KEY = SiteKey.fromBytes(Buffer.alloc(32, 1));

describe('SiteKey', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'aib-key-'));
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  it('creates a 32-byte key with mode 0600 in 0700 parent directories, then loads the same key', () => {
    const file = join(dir, 'phi', 'keys', 'site.key');
    const created = SiteKey.loadOrCreate(file);
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(join(dir, 'phi', 'keys')).mode & 0o777, 0o700);
    assert.equal(readFileSync(file).length, 32);
    assert.deepEqual(SiteKey.loadOrCreate(file).bytes(), created.bytes());
    assert.equal(pseudonymFor(SiteKey.load(file), 'patientId', 'X'), pseudonymFor(created, 'patientId', 'X'));
  });

  it('refuses a key file readable by group or others, or of the wrong size', () => {
    const file = join(dir, 'site.key');
    writeFileSync(file, Buffer.alloc(32, 9), { mode: 0o644 });
    chmodSync(file, 0o644);
    assert.throws(() => SiteKey.loadOrCreate(file), (e: unknown) => e instanceof SiteKeyError && e.code === 'AIB_DEID_KEY_INSECURE');
    chmodSync(file, 0o600);
    writeFileSync(file, Buffer.alloc(16));
    assert.throws(() => SiteKey.load(file), (e: unknown) => e instanceof SiteKeyError && e.code === 'AIB_DEID_KEY_INVALID');
  });

  it('never shows the secret when logged or serialized', () => {
    const key = SiteKey.fromBytes(Buffer.from('0123456789abcdef0123456789abcdef'));
    for (const shown of [String(key), JSON.stringify({ key }), inspect(key), key.toString()]) {
      assert.ok(!shown.includes('0123456789'), shown);
      assert.match(shown, /redacted/);
    }
  });
});

describe('pseudonymFor', () => {
  it('is stable and has the documented forms', () => {
    const id = pseudonymFor(KEY, 'patientId', 'MRN-12345');
    assert.match(id, /^PAT-[A-Z2-7]{16}$/);
    assert.equal(pseudonymFor(KEY, 'patientId', 'MRN-12345'), id);
    const name = pseudonymFor(KEY, 'patientName', 'MRN-12345');
    assert.equal(name, `ANON^${id.slice(4)}`);
    const acc = pseudonymFor(KEY, 'accession', 'A2019-0001');
    assert.match(acc, /^[A-Z2-7]{16}$/);
    assert.ok(acc.length <= 16, 'Accession Number is SH (16)');
  });

  it('differs by key and by value, and does not collide over 20,000 patients', () => {
    assert.notEqual(pseudonymFor(SiteKey.fromBytes(Buffer.alloc(32, 2)), 'patientId', 'P1'), pseudonymFor(KEY, 'patientId', 'P1'));
    const seen = new Set<string>();
    for (let i = 0; i < 20000; i++) seen.add(pseudonymFor(KEY, 'patientId', `P${i}`));
    assert.equal(seen.size, 20000);
    assert.notEqual(pseudonymFor(KEY, 'accession', 'P1'), pseudonymFor(KEY, 'patientId', 'P1').slice(4));
  });

  it('patientPseudonyms follows the identity: issuer, ID, family + given name, birth date', () => {
    const who = (id: string, name: string, birthDate = '', issuer = ''): PatientIdentity => patientIdentity({ issuer, id, name, birthDate, studyInstanceUid: '1.2.3' });
    const a = patientPseudonyms(KEY, who('P1', 'Doe^John', '19700101'));
    // Spelling, case, middle name, accents and padding do not fork a patient.
    assert.deepEqual(patientPseudonyms(KEY, who(' P1 ', 'DOE^JOHN^Q^^', '1970.01.01')), a);
    assert.deepEqual(patientPseudonyms(KEY, who('P1', 'Doé^John=ドウ^ジョン', '19700101')), a);
    // A second person under the same ID, the same person under another issuer, nobody without an ID: all different.
    const others = [who('P1', 'Roe^Jane', '19700101'), who('P1', 'Doe^John', '19710101'), who('P1', 'Doe^John', '19700101', 'HOSP-B'),
      who('', 'Doe^John', '19700101'), who('', 'Roe^Jane', '19700101')].map((p) => patientPseudonyms(KEY, p).patientId);
    assert.equal(new Set([a.patientId, ...others]).size, 6);
    assert.notEqual(patientPseudonyms(KEY, who('', 'Doe^John')).patientId, pseudonymFor(KEY, 'patientId', 'Doe^John'));
  });

  it('an instance that identifies nobody is its own patient, keyed by its study', () => {
    const nobody = (study: string): PatientIdentity => patientIdentity({ issuer: '', id: ' ', name: '^^^^', birthDate: '', studyInstanceUid: study });
    assert.equal(nobody('1.2.3').anonymousStudy, '1.2.3');
    assert.notEqual(patientPseudonyms(KEY, nobody('1.2.3')).patientId, patientPseudonyms(KEY, nobody('1.2.4')).patientId);
    assert.equal(patientIdentity({ issuer: '', id: 'P1', name: '', birthDate: '', studyInstanceUid: '1.2.3' }).anonymousStudy, '');
  });
});

describe('dateShiftDays', () => {
  it('is deterministic per patient, never 0, within ±365, and spread over the range', () => {
    const shifts = new Set<number>();
    for (let i = 0; i < 5000; i++) {
      const d = dateShiftDays(KEY, `P${i}`);
      assert.ok(Number.isInteger(d) && d !== 0 && d >= -365 && d <= 365, String(d));
      shifts.add(d);
    }
    assert.ok(shifts.size > 600, 'uses most of the 730 values');
    assert.ok([...shifts].some((d) => d < 0) && [...shifts].some((d) => d > 0));
    assert.equal(dateShiftDays(KEY, 'P42'), dateShiftDays(KEY, 'P42'));
  });
});

describe('capAge', () => {
  it('caps ages over the limit and keeps the others', () => {
    assert.equal(capAge('095Y', 89), '090Y');
    assert.equal(capAge('090Y', 89), '090Y');
    assert.equal(capAge('089Y', 89), '089Y');
    assert.equal(capAge('045Y', 89), '045Y');
    assert.equal(capAge('999Y', 89), '090Y');
    assert.equal(capAge('011M', 89), '011M');
    assert.equal(capAge('999M', 80), '081Y', '999 months is 83.25 years');
    assert.equal(capAge('999W', 18), '019Y', '999 weeks is 19.1 years');
    assert.equal(capAge('003W', 89), '003W');
    assert.equal(capAge('120D', 89), '120D');
    assert.equal(capAge('999D', 2), '003Y', '999 days is 2.7 years');
  });

  it('drops values that are not AS', () => {
    for (const bad of ['95 years', '95Y', '', 'abcY', '0950Y']) assert.equal(capAge(bad, 89), '');
  });
});
