import { strict as assert } from 'node:assert';

import Database from 'better-sqlite3';

import type { VaultEntry } from '../../../plugin/core/deid-messages';
import { patientIdentity, type PatientAttributes } from '../../../plugin/core/patient-identity';
import { AiBridgeError } from '../../../plugin/core/ai-bridge-error';
import { PhiVault } from '../../../plugin/gateway/vault/phi-vault';
import { tempDir } from '../../harness/bridge-orthanc';

/** A vault entry as a worker would send it; pseudonyms are arbitrary here, the vault only keeps them. */
function entry(n: number, who: Omit<PatientAttributes, 'studyInstanceUid'>, pseudonym: string): VaultEntry {
  const uid = (kind: number): { original: string; deid: string } => ({ original: `1.2.3.${String(kind)}.${String(n)}`, deid: `2.25.${String(kind)}${String(n)}` });
  const sop = uid(1), series = uid(2), study = uid(3);
  return {
    linkToken: `LT${String(n)}`,
    patient: { identity: patientIdentity({ ...who, studyInstanceUid: study.original }), pseudonymId: `PAT-${pseudonym}`, pseudonymName: `ANON^${pseudonym}`, dateShiftDays: 7 },
    accession: { original: '', pseudonym: '' },
    uids: { [sop.original]: sop.deid, [series.original]: series.deid, [study.original]: study.deid },
    sopInstanceUid: sop, seriesInstanceUid: series, studyInstanceUid: study,
  };
}

/** The schema every vault had before patient identity keys (issue 13), with one patient and one link token. */
function writeVersionOneVault(path: string): void {
  const db = new Database(path);
  db.exec(`
CREATE TABLE patients (original_id TEXT PRIMARY KEY, pseudonym_id TEXT NOT NULL UNIQUE, pseudonym_name TEXT NOT NULL,
  date_shift_days INTEGER NOT NULL, created_at INTEGER NOT NULL);
CREATE TABLE accessions (original TEXT PRIMARY KEY, pseudonym TEXT NOT NULL UNIQUE);
CREATE TABLE uids (original TEXT PRIMARY KEY, deid TEXT NOT NULL UNIQUE);
CREATE TABLE link_tokens (token TEXT PRIMARY KEY, instance_id TEXT NOT NULL, patient_id TEXT NOT NULL,
  original_sop_uid TEXT NOT NULL, deid_sop_uid TEXT NOT NULL, original_study_uid TEXT NOT NULL, deid_study_uid TEXT NOT NULL,
  original_series_uid TEXT NOT NULL, deid_series_uid TEXT NOT NULL, created_at INTEGER NOT NULL);
INSERT INTO patients VALUES ('OLD-1', 'PAT-OLDPSEUDONYM', 'ANON^OLDPSEUDONYM', -12, 1);
INSERT INTO uids VALUES ('1.9.9', '2.25.999');
INSERT INTO link_tokens VALUES ('LTOLD', 'orthanc-old', 'OLD-1', '1.9.9', '2.25.999', '1.9.8', '2.25.998', '1.9.7', '2.25.997', 1);`);
  db.close();
}

describe('PhiVault: patients keyed by identity (issue 13)', () => {
  const dir = tempDir('vault');
  after(() => { dir.remove(); });

  it('records people who share an ID, or have none, as different patients, and the same person once', () => {
    const vault = new PhiVault(`${dir.path}/a.sqlite`);
    try {
      vault.record('i1', entry(1, { issuer: '', id: '', name: 'Able^Anna', birthDate: '19600101' }, 'A'));
      vault.record('i2', entry(2, { issuer: '', id: '', name: 'Baker^Bert', birthDate: '19700202' }, 'B'));
      vault.record('i3', entry(3, { issuer: '', id: 'SHARED-1', name: 'Cole^Cara', birthDate: '' }, 'C'));
      vault.record('i4', entry(4, { issuer: '', id: 'SHARED-1', name: 'Dale^Dan', birthDate: '' }, 'D'));
      vault.record('i5', entry(5, { issuer: '', id: 'SHARED-1', name: 'COLE^CARA^^', birthDate: '' }, 'C'));
      assert.equal(vault.counts().patients, 4);
      assert.deepEqual(vault.pseudonymsForId('', 'SHARED-1').map((p) => p.pseudonymId).sort(), ['PAT-C', 'PAT-D']);
      assert.equal(vault.resolve('LT5')?.patientId, 'SHARED-1');
      assert.equal(vault.schemaVersion, 2);
    } finally {
      vault.close();
    }
  });

  it('refuses a second pseudonym for a known identity, or a known pseudonym for another identity, and changes nothing', () => {
    const vault = new PhiVault(`${dir.path}/b.sqlite`);
    try {
      vault.record('i1', entry(1, { issuer: 'H', id: 'P1', name: 'Eve^Ella', birthDate: '' }, 'E'));
      const conflict = (run: () => void): void => {
        assert.throws(run, (e: unknown) => e instanceof AiBridgeError && e.code === 'AIB_VAULT_CONFLICT');
      };
      conflict(() => { vault.record('i2', entry(2, { issuer: 'H', id: 'P1', name: 'Eve^Ella', birthDate: '' }, 'OTHER')); });
      conflict(() => { vault.record('i3', entry(3, { issuer: 'H', id: 'P2', name: 'Fox^Finn', birthDate: '' }, 'E')); });
      assert.equal(vault.counts().patients, 1);
      assert.equal(vault.counts().linkTokens, 1, 'a refused entry records no link token');
    } finally {
      vault.close();
    }
  });

  it('migrates a version-1 vault when opened: old patients kept readable, link tokens resolve, new rows keyed by identity', () => {
    const path = `${dir.path}/v1.sqlite`;
    writeVersionOneVault(path);
    const vault = new PhiVault(path);
    try {
      assert.equal(vault.schemaVersion, 2);
      assert.deepEqual(vault.legacyPatient('OLD-1'), { originalId: 'OLD-1', pseudonymId: 'PAT-OLDPSEUDONYM', pseudonymName: 'ANON^OLDPSEUDONYM', dateShiftDays: -12 });
      assert.equal(vault.resolve('LTOLD')?.sopInstanceUid.original, '1.9.9');
      assert.equal(vault.originalUid('2.25.999'), '1.9.9');
      vault.record('i1', entry(1, { issuer: '', id: 'OLD-1', name: 'Old^Otto', birthDate: '' }, 'NEW'));
      assert.deepEqual(vault.counts(), { patients: 1, legacyPatients: 1, uids: 4, linkTokens: 2 });
    } finally {
      vault.close();
    }
    // Opening again migrates nothing twice.
    const again = new PhiVault(path);
    try {
      assert.deepEqual(again.counts(), { patients: 1, legacyPatients: 1, uids: 4, linkTokens: 2 });
    } finally {
      again.close();
    }
  });
});
