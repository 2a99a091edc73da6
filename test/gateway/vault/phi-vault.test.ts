import { strict as assert } from 'node:assert';
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';

import Database from 'better-sqlite3';
import pg from 'pg';

import type { VaultEntry } from '../../../plugin/core/deid-messages';
import { patientIdentity, type PatientAttributes } from '../../../plugin/core/patient-identity';
import { AiBridgeError } from '../../../plugin/core/ai-bridge-error';
import type { PhiVault } from '../../../plugin/gateway/vault/phi-vault';
import { PostgresPhiVault } from '../../../plugin/gateway/vault/postgres-phi-vault';
import { SqlitePhiVault } from '../../../plugin/gateway/vault/sqlite-phi-vault';
import { startPostgres, type RunningPostgres } from '../../harness/postgres-server';
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

type Backend = 'sqlite' | 'postgresql';

describe('PhiVault: patients keyed by identity (issue 13), on SQLite and PostgreSQL (issue 17)', function () {
  const dir = tempDir('vault');
  let postgres: RunningPostgres | undefined;
  let schemas = 0;
  before(async function () {
    postgres = await startPostgres();
  });
  after(async function () {
    await postgres?.stop();
    dir.remove();
  });

  /** A fresh vault: its own SQLite file, or its own PHI schema of the throwaway cluster. */
  async function freshVault(backend: Backend): Promise<PhiVault> {
    schemas++;
    if (backend === 'sqlite') return new SqlitePhiVault(`${dir.path}/v${String(schemas)}.sqlite`);
    if (postgres === undefined) throw new Error('PostgreSQL did not start');
    return PostgresPhiVault.open({ connectionUri: postgres.uri, schema: `phi_${String(schemas)}` });
  }

  async function refusedAsConflict(run: Promise<unknown>): Promise<void> {
    await assert.rejects(run, (e: unknown) => e instanceof AiBridgeError && e.code === 'AIB_VAULT_CONFLICT');
  }

  for (const backend of ['sqlite', 'postgresql'] as const) {
    it(`${backend}: records people who share an ID, or have none, as different patients, and the same person once`, async () => {
      const vault = await freshVault(backend);
      try {
        await vault.record('i1', entry(1, { issuer: '', id: '', name: 'Able^Anna', birthDate: '19600101' }, 'A'));
        await vault.record('i2', entry(2, { issuer: '', id: '', name: 'Baker^Bert', birthDate: '19700202' }, 'B'));
        await vault.record('i3', entry(3, { issuer: '', id: 'SHARED-1', name: 'Cole^Cara', birthDate: '' }, 'C'));
        await vault.record('i4', entry(4, { issuer: '', id: 'SHARED-1', name: 'Dale^Dan', birthDate: '' }, 'D'));
        await vault.record('i5', entry(5, { issuer: '', id: 'SHARED-1', name: 'COLE^CARA^^', birthDate: '' }, 'C'));
        assert.equal((await vault.counts()).patients, 4);
        assert.deepEqual((await vault.pseudonymsForId('', 'SHARED-1')).map((p) => p.pseudonymId).sort(), ['PAT-C', 'PAT-D']);
        assert.equal((await vault.resolve('LT5'))?.patientId, 'SHARED-1');
        assert.deepEqual([...(await vault.originalUids(['2.25.15', '2.25.999']))], [['2.25.15', '1.2.3.1.5']]);
        if (vault instanceof SqlitePhiVault) assert.equal(vault.schemaVersion, 2);
      } finally {
        await vault.close();
      }
    });

    it(`${backend}: refuses a second pseudonym for a known identity, or a known pseudonym for another identity, and changes nothing`, async () => {
      const vault = await freshVault(backend);
      try {
        await vault.record('i1', entry(1, { issuer: 'H', id: 'P1', name: 'Eve^Ella', birthDate: '' }, 'E'));
        await refusedAsConflict(vault.record('i2', entry(2, { issuer: 'H', id: 'P1', name: 'Eve^Ella', birthDate: '' }, 'OTHER')));
        await refusedAsConflict(vault.record('i3', entry(3, { issuer: 'H', id: 'P2', name: 'Fox^Finn', birthDate: '' }, 'E')));
        assert.equal((await vault.counts()).patients, 1);
        assert.equal((await vault.counts()).linkTokens, 1, 'a refused entry records no link token');
      } finally {
        await vault.close();
      }
    });
  }

  it('postgresql: two nodes seeing a new patient at the same moment record one pseudonym, every instance linked', async () => {
    if (postgres === undefined) throw new Error('PostgreSQL did not start');
    schemas++;
    const options = { connectionUri: postgres.uri, schema: `phi_${String(schemas)}` };
    // Two gateways: two pools, each with several connections, as two nodes have.
    const nodes = [await PostgresPhiVault.open(options), await PostgresPhiVault.open(options)];
    try {
      const patients = 20;
      const writes: Promise<void>[] = [];
      for (let p = 0; p < patients; p++) {
        const who = { issuer: '', id: `NEW-${String(p)}`, name: `New^Patient${String(p)}`, birthDate: '19800101' };
        // The same patient, its first two instances, one through each node, in flight together;
        // the study and series UIDs are shared by both instances (same series), so their rows collide too.
        for (const [node, n] of [[0, 2 * p], [1, 2 * p + 1]] as const) {
          const e = entry(1000 + n, who, `P${String(p)}`);
          const shared = { studyInstanceUid: { original: `1.2.3.3.${String(p)}`, deid: `2.25.3${String(p)}` },
            seriesInstanceUid: { original: `1.2.3.2.${String(p)}`, deid: `2.25.2${String(p)}` } };
          const patient = { ...e.patient, identity: patientIdentity({ ...who, studyInstanceUid: shared.studyInstanceUid.original }) };
          writes.push((nodes[node] as PostgresPhiVault).record(`i${String(n)}`, {
            ...e, ...shared, patient,
            uids: { [e.sopInstanceUid.original]: e.sopInstanceUid.deid, [shared.seriesInstanceUid.original]: shared.seriesInstanceUid.deid,
              [shared.studyInstanceUid.original]: shared.studyInstanceUid.deid },
          }));
        }
      }
      const settled = await Promise.allSettled(writes);
      assert.deepEqual(settled.filter((s) => s.status === 'rejected').map((s) => String(s.reason)), []);
      const counts = await (nodes[0] as PostgresPhiVault).counts();
      assert.equal(counts.patients, patients, 'one row per patient');
      assert.equal(counts.linkTokens, 2 * patients, 'every instance linked');
      for (let p = 0; p < patients; p++) {
        assert.deepEqual((await (nodes[1] as PostgresPhiVault).pseudonymsForId('', `NEW-${String(p)}`)).map((r) => r.pseudonymId), [`PAT-P${String(p)}`]);
      }
    } finally {
      for (const node of nodes) await node.close();
    }
  });

  it('postgresql: the first node publishes its site key, the others take it, a node with another key refuses to start', async () => {
    if (postgres === undefined) throw new Error('PostgreSQL did not start');
    schemas++;
    const options = { connectionUri: postgres.uri, schema: `phi_${String(schemas)}` };
    const vault = await PostgresPhiVault.open(options);
    try {
      const first = `${dir.path}/node-a.key`;
      writeFileSync(first, randomBytes(32), { mode: 0o600 });
      await vault.shareSiteKey(first);
      const second = `${dir.path}/node-b.key`;
      await vault.shareSiteKey(second);
      assert.ok(readFileSync(second).equals(readFileSync(first)), 'the second node took the first node\'s key');
      assert.equal(statSync(second).mode & 0o777, 0o600);
      const other = `${dir.path}/node-c.key`;
      writeFileSync(other, randomBytes(32), { mode: 0o600 });
      await assert.rejects(vault.shareSiteKey(other), (e: unknown) => e instanceof AiBridgeError && e.code === 'AIB_VAULT_SITE_KEY_MISMATCH');
    } finally {
      await vault.close();
    }
  });

  it('postgresql: the PHI schema grants nothing to PUBLIC: another role of the database cannot read it', async () => {
    if (postgres === undefined) throw new Error('PostgreSQL did not start');
    schemas++;
    const schema = `phi_${String(schemas)}`;
    const vault = await PostgresPhiVault.open({ connectionUri: postgres.uri, schema });
    const admin = new pg.Client({ connectionString: postgres.uri });
    await admin.connect();
    try {
      await vault.record('i1', entry(1, { issuer: '', id: 'SECRET-1', name: 'Hidden^Hal', birthDate: '' }, 'H'));
      await admin.query(`CREATE ROLE reporting_${String(schemas)} LOGIN`);
      const other = new pg.Client({ connectionString: postgres.uri.replace('postgres@', `reporting_${String(schemas)}@`) });
      await other.connect();
      try {
        await assert.rejects(other.query(`SELECT * FROM ${schema}.patients`), /permission denied for schema/);
      } finally {
        await other.end();
      }
    } finally {
      await admin.end();
      await vault.close();
    }
  });

  it('sqlite: migrates a version-1 vault when opened: old patients kept readable, link tokens resolve, new rows keyed by identity', async () => {
    const path = `${dir.path}/legacy-v1.sqlite`;
    writeVersionOneVault(path);
    const vault = new SqlitePhiVault(path);
    try {
      assert.equal(vault.schemaVersion, 2);
      assert.deepEqual(await vault.legacyPatient('OLD-1'), { originalId: 'OLD-1', pseudonymId: 'PAT-OLDPSEUDONYM', pseudonymName: 'ANON^OLDPSEUDONYM', dateShiftDays: -12 });
      assert.equal((await vault.resolve('LTOLD'))?.sopInstanceUid.original, '1.9.9');
      assert.equal((await vault.originalUids(['2.25.999'])).get('2.25.999'), '1.9.9');
      await vault.record('i1', entry(1, { issuer: '', id: 'OLD-1', name: 'Old^Otto', birthDate: '' }, 'NEW'));
      assert.deepEqual(await vault.counts(), { patients: 1, legacyPatients: 1, uids: 4, linkTokens: 2 });
    } finally {
      await vault.close();
    }
    // Opening again migrates nothing twice.
    const again = new SqlitePhiVault(path);
    try {
      assert.deepEqual(await again.counts(), { patients: 1, legacyPatients: 1, uids: 4, linkTokens: 2 });
    } finally {
      await again.close();
    }
  });
});
